import { formatMac, parseIPv4, parseIPv6, parseMac, parsePrefix, type Prefix } from '../../src/wire/address';

/**
 * `gleand bindings --port NAME --mac MAC --address ADDR[/LEN] --source SOURCE`: which
 * rows of the binding table to print. Every given filter must match.
 *
 * `--address` is about containment, both ways: a binding matches when it holds the
 * address (a host route equal to it, or a delegated prefix, RFC 8415 §6.3, that
 * contains it) or when it lies inside the given prefix (`--address 2001:db8:100::/40`
 * lists every binding in that block). Both are "the first min(length) bits agree".
 */
export interface BindingFilter {
  readonly port?: string;
  readonly mac?: string;
  readonly address?: Prefix;
  readonly source?: string;
}

export const BINDING_SOURCES = ['glean', 'leasequery', 'static'] as const;

/** The filter from the command line, or what is wrong with it. */
export function parseBindingFilter(flags: ReadonlyMap<string, string | true>): BindingFilter | string {
  const value = (name: string): string | undefined | null => {
    const v = flags.get(name);
    return v === undefined ? undefined : typeof v === 'string' ? v : null;
  };
  const f: { -readonly [K in keyof BindingFilter]: BindingFilter[K] } = {};
  const port = flags.has('--port') ? value('--port') : value('-p');
  if (port === null) return '--port needs a port name';
  if (port !== undefined) f.port = port;
  const mac = value('--mac');
  if (mac === null) return '--mac needs a MAC address';
  if (mac !== undefined) {
    const m = parseMac(mac);
    if (!m || m.length !== 6) return `'${mac}' is not a MAC address (aa:bb:cc:dd:ee:ff)`;
    f.mac = formatMac(m);
  }
  const address = value('--address');
  if (address === null) return '--address needs an address or prefix';
  if (address !== undefined) {
    const p = parseAddressOrPrefix(address);
    if (!p) return `'${address}' is not an IPv4 or IPv6 address or prefix`;
    f.address = p;
  }
  const source = value('--source');
  if (source === null) return '--source needs a source';
  if (source !== undefined) {
    if (!(BINDING_SOURCES as readonly string[]).includes(source)) return `'${source}' is not a source (${BINDING_SOURCES.join(', ')})`;
    f.source = source;
  }
  return f;
}

function parseAddressOrPrefix(text: string): Prefix | null {
  if (text.includes('/')) return parsePrefix(text);
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, address: v4, length: 32 };
  const v6 = parseIPv6(text);
  return v6 ? { family: 6, address: v6, length: 128 } : null;
}

/** The first `bits` bits of a and b are equal. */
function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i += 8) {
    const mask = bits - i >= 8 ? 0xff : (0xff << (8 - (bits - i))) & 0xff;
    if (((a[i >> 3]! ^ b[i >> 3]!) & mask) !== 0) return false;
  }
  return true;
}

export const filterIsEmpty = (f: BindingFilter): boolean =>
  f.port === undefined && f.mac === undefined && f.address === undefined && f.source === undefined;

/** One row of `bindings` (the control query's shape: `binding` is `ADDRESS/LEN`). */
export function bindingMatches(f: BindingFilter, row: Record<string, unknown>): boolean {
  if (f.port !== undefined && row['port'] !== f.port) return false;
  if (f.source !== undefined && row['source'] !== f.source) return false;
  if (f.mac !== undefined && (typeof row['mac'] !== 'string' || row['mac'].toLowerCase() !== f.mac)) return false;
  if (f.address !== undefined) {
    const b = typeof row['binding'] === 'string' ? parsePrefix(row['binding']) : null;
    if (!b || b.family !== f.address.family) return false;
    if (!samePrefix(b.address, f.address.address, Math.min(b.length, f.address.length))) return false;
  }
  return true;
}
