/**
 * The one address codec: IPv4/IPv6 addresses, prefixes and link-layer (MAC) addresses
 * between text and bytes, for config, CLI, logs and netlink alike. Addresses travel as
 * bytes; text is made only at the edges (UCI values, CLI/JSON output, log lines).
 *
 * Parsers never throw: they return null (or false for the *Into forms) for text that is
 * not an address. Output text is RFC 5952 §4 (lowercase, no leading zeros, the longest
 * run of two or more zero groups as `::`, the first run on ties) and dotted quad.
 * The *Into/`at` forms read and write straight into a caller's buffer (the netlink
 * encoder's), so the hot paths allocate nothing.
 */

// ---- IPv4 ------------------------------------------------------------------------

/** Dotted quad, no leading zeros (they mean octal to inet_aton). */
export function parseIPv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  return parseIPv4Into(text, 0, text.length, out, 0) ? out : null;
}

/** Parse text[from..to) into out[at..at+4]; false if it is not a dotted quad. */
export function parseIPv4Into(s: string, from: number, to: number, out: Uint8Array, at: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? s.charCodeAt(i) : 46; // a virtual '.' ends the last part
    if (c >= 48 && c <= 57) {
      if (digits === 1 && value === 0) return false;
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else if (c === 46) {
      if (digits === 0 || part === 4) return false;
      out[at + part++] = value;
      value = 0;
      digits = 0;
    } else return false;
  }
  return part === 4;
}

export function formatIPv4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

// ---- IPv6 ------------------------------------------------------------------------

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** RFC 4291 §2.2 text forms, including `::` and a trailing dotted quad; no zone ids. */
export function parseIPv6(s: string): Uint8Array | null {
  const out = new Uint8Array(16);
  return parseIPv6Into(s, out, 0) ? out : null;
}

/** Parse straight into out[at..at+16]; false if not an address (out may be scribbled). */
export function parseIPv6Into(s: string, out: Uint8Array, at: number): boolean {
  const n = s.length;
  let w = 0; // 16-bit groups written
  let gap = -1; // group index where '::' stands
  let i = 0;
  if (n >= 2 && s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === n) { out.fill(0, at, at + 16); return true; }
  }
  while (i < n) {
    if (w === 8) return false;
    let value = 0;
    let digits = 0;
    const start = i;
    while (i < n) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      value = (value << 4) | h;
      if (++digits > 4) return false;
      i++;
    }
    if (i < n && s.charCodeAt(i) === 46) {
      // dotted quad tail: must be last and leave room for two groups
      if (w > 6 || !parseIPv4Into(s, start, n, out, at + 2 * w)) return false;
      w += 2;
      i = n;
      break;
    }
    if (digits === 0) return false;
    out[at + 2 * w] = value >> 8;
    out[at + 2 * w + 1] = value & 0xff;
    w++;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = w;
      i++;
      if (i === n) break;
    } else if (i === n) return false; // trailing single ':'
  }
  if (gap < 0) return w === 8;
  if (w === 8) return false; // '::' must stand for at least one group
  const tail = 2 * (w - gap);
  out.copyWithin(at + 16 - tail, at + 2 * gap, at + 2 * w);
  out.fill(0, at + 2 * gap, at + 16 - tail);
  return true;
}

/** RFC 5952 §4: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatIPv6(b: Uint8Array, at = 0): string {
  let bestAt = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (b[at + 2 * i] !== 0 || b[at + 2 * i + 1] !== 0) { i++; continue; }
    let j = i + 1;
    while (j < 8 && b[at + 2 * j] === 0 && b[at + 2 * j + 1] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += ((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!).toString(16);
  }
  return out;
}

// ---- either family ---------------------------------------------------------------

/** Either family: text containing ':' is IPv6. */
export function parseIP(text: string): Uint8Array | null {
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

/** 4 bytes → IPv4, 16 → IPv6, any other length → null. */
export function formatIP(b: Uint8Array, at = 0, len = b.length - at): string | null {
  if (len === 4) return formatIPv4(b, at);
  if (len === 16) return formatIPv6(b, at);
  return null;
}

/** The text of an address whose family is known. */
export const formatAddress = (family: 4 | 6, a: Uint8Array): string => (family === 4 ? formatIPv4(a) : formatIPv6(a));

// ---- prefixes --------------------------------------------------------------------

export interface Prefix {
  readonly family: 4 | 6;
  readonly address: Uint8Array;
  readonly length: number;
}

/** `192.0.2.0/24`, `2001:db8::/56` */
export const formatPrefix = (p: Prefix): string => `${formatAddress(p.family, p.address)}/${p.length}`;

/** `address/length` of the given family (or either, by the text); null if not one. Host bits are not checked. */
export function parsePrefix(text: string, family?: 4 | 6): Prefix | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const addrText = text.slice(0, slash);
  const f: 4 | 6 = family ?? (addrText.includes(':') ? 6 : 4);
  const address = f === 4 ? parseIPv4(addrText) : parseIPv6(addrText);
  const lenText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(lenText)) return null;
  const length = Number(lenText);
  if (length > (f === 4 ? 32 : 128)) return null;
  return { family: f, address, length };
}

/** True when every bit after the first `length` is 0. */
export function hostBitsZero(addr: Uint8Array, length: number): boolean {
  for (let bit = length; bit < addr.length * 8; bit++) {
    if (addr[bit >> 3]! & (0x80 >> (bit & 7))) return false;
  }
  return true;
}

// ---- link-layer addresses --------------------------------------------------------

/** `aa:bb:cc:dd:ee:ff` (any number of octets, each two lowercase hex digits). */
export function formatMac(b: Uint8Array, at = 0, len = b.length - at): string {
  let out = '';
  for (let i = 0; i < len; i++) out += (i === 0 ? '' : ':') + (b[at + i]! < 16 ? '0' : '') + b[at + i]!.toString(16);
  return out;
}

/** Colon-separated hex octets (1 or 2 digits each, at most 32 octets) → bytes; '' → 0 octets. */
export function parseMac(text: string): Uint8Array | null {
  if (text === '') return new Uint8Array(0);
  if (text.length > 32 * 3) return null;
  const parts = text.split(':');
  if (parts.length > 32) return null;
  const out = new Uint8Array(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return null;
    out[i] = parseInt(p, 16);
  }
  return out;
}

/** Octets as plain lowercase hex (`0a0b`), the form stored in files and JSON. */
export function formatHex(b: Uint8Array): string {
  // A table and a plain loop: this keys maps per binding (a DUID per bulk leasequery
  // lease, every journal record), where Array.from + join allocated an array per call.
  let out = '';
  for (let i = 0; i < b.length; i++) out += HEX_OCTET[b[i]!]!;
  return out;
}
const HEX_OCTET: readonly string[] = Array.from({ length: 256 }, (_, x) => x.toString(16).padStart(2, '0'));

/** Plain hex (an even number of digits, no separators) → bytes; null for anything else. */
export function parseHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// ---- comparison ------------------------------------------------------------------

/** Same length, same octets; two nulls are equal. */
export function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
