/**
 * IP address text <-> bytes for netlink attributes. Never throws: parse returns null
 * for text that is not an address. Output text is RFC 5952 (lowercase, longest zero
 * run compressed, first run on ties) and dotted quad.
 */

export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

export function parseIPv6(text: string): Uint8Array | null {
  let s = text;
  const pct = s.indexOf('%');
  if (pct >= 0) return null; // zone ids are not addresses
  let tail: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > lastColon) {
    tail = parseIPv4(s.slice(lastColon + 1));
    if (tail === null) return null;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return null;
  const split = (t: string): string[] => (t === '' ? [] : t.split(':'));
  const head = dbl >= 0 ? split(s.slice(0, dbl)) : split(s);
  const rest = dbl >= 0 ? split(s.slice(dbl + 2)) : [];
  const groups = head.length + rest.length;
  if (dbl >= 0 ? groups > 7 : groups !== 8) return null;
  const words = [...head, ...new Array<string>(8 - groups).fill('0'), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = words[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return null;
    const v = parseInt(w, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  if (tail !== null) out.set(tail, 12);
  return out;
}

/** Either family: text containing ':' is IPv6. */
export function parseIP(text: string): Uint8Array | null {
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

export function formatIPv6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  let bestAt = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(w);
  return `${hex(w.slice(0, bestAt))}::${hex(w.slice(bestAt + bestLen))}`;
}

/** 4 bytes → IPv4, 16 → IPv6, anything else → null. */
export function formatIP(b: Uint8Array): string | null {
  if (b.length === 4) return formatIPv4(b);
  if (b.length === 16) return formatIPv6(b);
  return null;
}

/** 'aa:bb:cc:dd:ee:ff' (any length of colon-separated hex octets) → bytes. */
export function parseLladdr(text: string): Uint8Array | null {
  if (text === '') return new Uint8Array(0);
  const parts = text.split(':');
  if (parts.length === 0 || parts.length > 32) return null;
  const out = new Uint8Array(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return null;
    out[i] = parseInt(p, 16);
  }
  return out;
}

export function formatLladdr(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}
