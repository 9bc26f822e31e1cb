import { internetChecksum } from '../wire/checksum';

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
  return out;
}
