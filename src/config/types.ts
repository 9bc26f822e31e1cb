/**
 * Option value types for the UCI schema. Each type parses one UCI string value
 * (for a `list`, each element) into a typed value or a one-line error.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface ValueType<T> {
  /** Short name shown in the README option reference. */
  readonly label: string;
  parse(raw: string): Parsed<T>;
  /** The UCI spelling of a value (for the writer and the README's defaults). */
  format(value: T): string;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(error: string): Parsed<T> => ({ ok: false, error });

export const str = (maxLen = 255): ValueType<string> => ({
  label: 'string',
  parse: (raw) => (raw.length > maxLen ? bad(`longer than ${maxLen} characters`) : ok(raw)),
  format: (v) => v,
});

/** libuci / OpenWrt booleans: the spellings `uci_lookup_bool` accepts. */
export const bool: ValueType<boolean> = {
  label: 'bool',
  parse(raw) {
    const v = raw.toLowerCase();
    if (['1', 'on', 'true', 'yes', 'enabled'].includes(v)) return ok(true);
    if (['0', 'off', 'false', 'no', 'disabled'].includes(v)) return ok(false);
    return bad(`"${raw}" is not a boolean (use 1/0, on/off, true/false, yes/no)`);
  },
  format: (v) => (v ? '1' : '0'),
};

export const uint = (min: number, max: number): ValueType<number> => ({
  label: `uint ${min}..${max}`,
  parse(raw) {
    if (!/^[0-9]{1,10}$/.test(raw)) return bad(`"${raw}" is not an unsigned integer`);
    const n = Number(raw);
    if (n < min || n > max) return bad(`${n} is outside ${min}..${max}`);
    return ok(n);
  },
  format: (v) => String(v),
});

export const oneOf = <const V extends string>(values: readonly V[]): ValueType<V> => ({
  label: values.join('|'),
  parse: (raw) =>
    (values as readonly string[]).includes(raw) ? ok(raw as V) : bad(`"${raw}" is not one of ${values.join(', ')}`),
  format: (v) => v,
});

// ---- addresses -----------------------------------------------------------------

/** Dotted-quad IPv4 address, no leading zeros (they mean octal to inet_aton). */
export function parseIPv4(raw: string): Uint8Array | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(raw);
  if (!m) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = m[i + 1]!;
    if (part.length > 1 && part.startsWith('0')) return null;
    const n = Number(part);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** RFC 4291 §2.2 text forms, including `::` and an embedded dotted quad. */
export function parseIPv6(raw: string): Uint8Array | null {
  if (raw.length === 0 || raw.length > 45) return null;
  let text = raw;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return null;
    tail.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    const head = text.slice(0, lastColon + 1);
    text = head.endsWith('::') ? head : head.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const groups = s.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return null;
  const total = head.length + rest.length + tail.length;
  if (halves.length === 1 && total !== 8) return null;
  if (halves.length === 2 && total > 7) return null;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...rest, ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

export const formatIPv4 = (a: Uint8Array): string => Array.from(a.subarray(0, 4)).join('.');

/** RFC 5952 canonical text: lower case, longest run of zero groups (≥2) as `::`. */
export function formatIPv6(a: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((a[i]! << 8) | a[i + 1]!);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

export interface Prefix {
  readonly family: 4 | 6;
  readonly address: Uint8Array;
  readonly length: number;
}

export const formatPrefix = (p: Prefix): string =>
  `${p.family === 4 ? formatIPv4(p.address) : formatIPv6(p.address)}/${p.length}`;

export const ipv4: ValueType<Uint8Array> = {
  label: 'IPv4 address',
  parse: (raw) => {
    const a = parseIPv4(raw);
    return a ? ok(a) : bad(`"${raw}" is not an IPv4 address`);
  },
  format: formatIPv4,
};

export const ipv6: ValueType<Uint8Array> = {
  label: 'IPv6 address',
  parse: (raw) => {
    const a = parseIPv6(raw);
    return a ? ok(a) : bad(`"${raw}" is not an IPv6 address`);
  },
  format: formatIPv6,
};

function hostBitsZero(addr: Uint8Array, length: number): boolean {
  for (let bit = length; bit < addr.length * 8; bit++) {
    if (addr[bit >> 3]! & (0x80 >> (bit & 7))) return false;
  }
  return true;
}

export const prefix = (family: 4 | 6): ValueType<Prefix> => ({
  label: `IPv${family} prefix`,
  parse(raw) {
    const slash = raw.indexOf('/');
    if (slash < 0) return bad(`"${raw}" is not a prefix (address/length)`);
    const address = family === 4 ? parseIPv4(raw.slice(0, slash)) : parseIPv6(raw.slice(0, slash));
    const lenText = raw.slice(slash + 1);
    const max = family === 4 ? 32 : 128;
    if (!address) return bad(`"${raw}" does not start with an IPv${family} address`);
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return bad(`"${raw}": length must be 0..${max}`);
    const length = Number(lenText);
    if (!hostBitsZero(address, length)) return bad(`"${raw}" has host bits set`);
    return ok({ family, address, length });
  },
  format: formatPrefix,
});

/** Opaque octets written as hex (`00:01:…`, `0001…`) for DUIDs and ids. */
export const hexBytes = (maxLen: number): ValueType<Uint8Array> => ({
  label: 'hex octets',
  parse(raw) {
    const clean = raw.replace(/[:\-]/g, '');
    if (clean.length === 0 || clean.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(clean))
      return bad(`"${raw}" is not an even number of hex digits`);
    if (clean.length / 2 > maxLen) return bad(`longer than ${maxLen} octets`);
    const out = new Uint8Array(clean.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
    return ok(out);
  },
  format: (v) => Array.from(v, (b) => b.toString(16).padStart(2, '0')).join(':'),
});
