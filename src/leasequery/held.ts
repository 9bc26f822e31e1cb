import { internetChecksum, pseudoHeaderSum, rangeSum } from '../wire/checksum';

/**
 * Packets held while gleand asks where their destination is (location on demand,
 * seed 003 §1, §4.1). The kernel dropped them after copying them to gleand (NFLOG), so
 * gleand holds the copy and, once the answer installed the binding, delivers it itself.
 * Bounded like the kernel's own queue of packets waiting for a neighbour
 * (`unres_qlen`): a few packets per address, and a total in packets and bytes
 * (CONVENTIONS 10). What does not fit is dropped and counted by the caller.
 */
export const HELD_PER_ADDRESS = 4;
export const HELD_TOTAL = 512;
export const HELD_TOTAL_BYTES = 1 << 20;

export type HoldRefusal = 'held-per-address' | 'held-total';

export class HeldPackets {
  private readonly byAddress = new Map<string, Uint8Array[]>();
  private packets = 0;
  private bytes = 0;

  constructor(
    private readonly perAddress = HELD_PER_ADDRESS,
    private readonly total = HELD_TOTAL,
    private readonly totalBytes = HELD_TOTAL_BYTES,
  ) {}

  get size(): number {
    return this.packets;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Packets held for `address` now (`gleand hosts`). */
  count(address: string): number {
    return this.byAddress.get(address)?.length ?? 0;
  }

  /** Holds a copy of `packet` for `address` (a text key), or says why not. */
  hold(address: string, packet: Uint8Array): HoldRefusal | null {
    const list = this.byAddress.get(address) ?? [];
    if (list.length >= this.perAddress) return 'held-per-address';
    if (this.packets >= this.total || this.bytes + packet.length > this.totalBytes) return 'held-total';
    list.push(packet.slice());
    this.byAddress.set(address, list);
    this.packets++;
    this.bytes += packet.length;
    return null;
  }

  /** Every packet held for `address`, oldest first; they are no longer held. */
  take(address: string): Uint8Array[] {
    const list = this.byAddress.get(address);
    if (!list) return [];
    this.byAddress.delete(address);
    this.packets -= list.length;
    for (const p of list) this.bytes -= p.length;
    return list;
  }
}

/** The addresses of an IP packet as the kernel handed it over; null when it is not one. */
export interface IpAddresses {
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
}

/**
 * Reads source and destination without trusting anything: the version nibble must
 * match the family, the IPv4 header length must be 5..15 words and present. Never throws.
 */
export function readAddresses(family: 4 | 6, b: Uint8Array): IpAddresses | null {
  if (b.length < 1 || b[0]! >> 4 !== family) return null;
  if (family === 4) {
    const ihl = (b[0]! & 0x0f) * 4;
    if (ihl < 20 || b.length < ihl) return null;
    return { source: b.slice(12, 16), destination: b.slice(16, 20) };
  }
  if (b.length < 40) return null;
  return { source: b.slice(8, 24), destination: b.slice(24, 40) };
}

/**
 * The copy a router forwards (RFC 1812 §5.3.1; RFC 8200 §3): TTL / Hop Limit one less,
 * and for IPv4 the header checksum recomputed (RFC 1071). Null when the TTL or Hop
 * Limit would reach zero: a router must not forward it (the sender gets no ICMP Time
 * Exceeded from here; the caller counts the drop).
 */
export function forwardCopy(family: 4 | 6, b: Uint8Array): Uint8Array | null {
  if (readAddresses(family, b) === null) return null;
  const out = b.slice();
  if (family === 6) {
    if (out[7]! <= 1) return null;
    out[7] = out[7]! - 1;
    completeChecksum(out, 6, 40, out[6]!);
    return out;
  }
  if (out[8]! <= 1) return null;
  out[8] = out[8]! - 1;
  const ihl = (out[0]! & 0x0f) * 4;
  out[10] = 0;
  out[11] = 0;
  const sum = internetChecksum(out.subarray(0, ihl));
  out[10] = sum >> 8;
  out[11] = sum & 0xff;
  // Only a whole datagram carries its transport header (offset 0, no more fragments).
  if ((out[6]! & 0x3f) === 0 && out[7] === 0) completeChecksum(out, 4, ihl, out[9]!);
  return out;
}

const TCP = 6;
const UDP = 17;

/**
 * A packet the kernel copied before it left a sender on this host or a virtual link
 * with checksum offload may carry a TCP/UDP checksum that is not filled in yet
 * (CHECKSUM_PARTIAL: the field holds only the pseudo-header sum, PROTOCOLS.md). The
 * kernel would have completed it on the way out; delivered as is, the client drops it.
 * So exactly that pattern is completed — a checksum that is merely wrong is left wrong,
 * so corruption stays visible end to end.
 */
function completeChecksum(p: Uint8Array, family: 4 | 6, at: number, protocol: number): void {
  const field = protocol === TCP ? at + 16 : protocol === UDP ? at + 6 : -1;
  if (field < 0 || p.length < field + 2) return;
  const source = family === 4 ? p.subarray(12, 16) : p.subarray(8, 24);
  const destination = family === 4 ? p.subarray(16, 20) : p.subarray(24, 40);
  const upperLength = family === 4 ? ((p[2]! << 8) | p[3]!) - at : (p[4]! << 8) | p[5]!;
  if (upperLength < 8 || p.length < at + upperLength) return;
  const pseudo = pseudoHeaderSum(source, destination, protocol, upperLength);
  if (((p[field]! << 8) | p[field + 1]!) !== pseudo) return;
  p[field] = 0;
  p[field + 1] = 0;
  let sum = ~rangeSum(p, at, at + upperLength, pseudo) & 0xffff;
  if (sum === 0 && protocol === UDP) sum = 0xffff; // RFC 768: zero means "no checksum"
  p[field] = sum >> 8;
  p[field + 1] = sum & 0xff;
}
