/**
 * Option value types for the UCI schema. Each type parses one UCI string value
 * (for a `list`, each element) into a typed value or a one-line error.
 */
import {
  formatIPv4, formatIPv6, formatMac, formatPrefix, hostBitsZero, parseHex, parseIPv4, parseIPv6, parsePrefix, type Prefix,
} from '../wire/address';

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

// ---- addresses (text ↔ bytes in src/wire/address.ts) ---------------------------

export const ipv4: ValueType<Uint8Array> = {
  label: 'IPv4 address',
  parse: (raw) => {
    const a = parseIPv4(raw);
    return a ? ok(a) : bad(`"${raw}" is not an IPv4 address`);
  },
  format: (v) => formatIPv4(v),
};

export const ipv6: ValueType<Uint8Array> = {
  label: 'IPv6 address',
  parse: (raw) => {
    const a = parseIPv6(raw);
    return a ? ok(a) : bad(`"${raw}" is not an IPv6 address`);
  },
  format: (v) => formatIPv6(v),
};

export const prefix = (family: 4 | 6): ValueType<Prefix> => ({
  label: `IPv${family} prefix`,
  parse(raw) {
    const slash = raw.indexOf('/');
    if (slash < 0) return bad(`"${raw}" is not a prefix (address/length)`);
    if (!(family === 4 ? parseIPv4(raw.slice(0, slash)) : parseIPv6(raw.slice(0, slash)))) {
      return bad(`"${raw}" does not start with an IPv${family} address`);
    }
    const p = parsePrefix(raw, family);
    if (!p) return bad(`"${raw}": length must be 0..${family === 4 ? 32 : 128}`);
    if (!hostBitsZero(p.address, p.length)) return bad(`"${raw}" has host bits set`);
    return ok(p);
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
    return ok(parseHex(clean)!);
  },
  format: (v) => formatMac(v),
});
