import { PAGING_MAC_LENGTH, pagingMessage, type PagingMessage } from '../wire/paging';

/**
 * Message authentication of the paging protocol (RFC 3154 §4.19–§4.22): HMAC-SHA-256
 * (RFC 2104, FIPS 180-4) over every octet of the message before the trailer, keyed with
 * the host's key (H-TA, H-DMA, PAGE) or the area's key (AREA_ADVERT, §4.21).
 *
 * The core is sans-IO and has no hash of its own: the platform passes node:crypto's
 * HMAC in, the way it passes `random32` (src/core.ts; CONVENTIONS 8).
 */
export type HmacSha256 = (key: Uint8Array, data: Uint8Array) => Uint8Array;

/** Encodes `m` and fills the trailer with the HMAC of everything before it. */
export function signMessage(m: Omit<PagingMessage, 'mac'>, key: Uint8Array, hmac: HmacSha256): Uint8Array {
  const bytes = pagingMessage.encode({ ...m, mac: new Uint8Array(PAGING_MAC_LENGTH) }).slice();
  const signed = bytes.length - PAGING_MAC_LENGTH;
  bytes.set(hmac(key, bytes.subarray(0, signed)).subarray(0, PAGING_MAC_LENGTH), signed);
  return bytes;
}

/** True when the trailer of `bytes` is the HMAC of the rest under `key` (compared in constant time). */
export function verifyMessage(bytes: Uint8Array, key: Uint8Array, hmac: HmacSha256): boolean {
  if (bytes.length < PAGING_MAC_LENGTH) return false;
  const signed = bytes.length - PAGING_MAC_LENGTH;
  const want = hmac(key, bytes.subarray(0, signed));
  if (want.length < PAGING_MAC_LENGTH) return false;
  let diff = 0;
  for (let i = 0; i < PAGING_MAC_LENGTH; i++) diff |= want[i]! ^ bytes[signed + i]!;
  return diff === 0;
}

const LABEL = new TextEncoder().encode('gleand paging host key ');

/**
 * A host's key derived from the `paging` section's `key_master` (RFC 5869 §2.2 style
 * extract with a fixed label): a million hosts need no million config sections, and the
 * operator hands each host `HMAC(master, label ‖ host id)` (RFC 3154 §4.2, §4.17).
 */
export function deriveHostKey(master: Uint8Array, hostId: string, hmac: HmacSha256): Uint8Array {
  const id = Uint8Array.from(hostId, (c) => c.charCodeAt(0));
  const data = new Uint8Array(LABEL.length + id.length);
  data.set(LABEL);
  data.set(id, LABEL.length);
  return hmac(master, data).slice(0, 32);
}

/** Width of the anti-replay window, as IPsec's default (RFC 4303 §3.4.3). */
export const REPLAY_WINDOW = 32;

/**
 * Anti-replay state of one sender, kept as three numbers in the tracking entry (no
 * bigint per host: §4.2 memory at a million hosts): the highest counter accepted, split
 * in 32-bit halves, and a bitmap of the `REPLAY_WINDOW` counters below it already seen
 * (RFC 4303 §3.4.3 sliding window, so a reordered datagram still counts once).
 */
export interface ReplayState {
  replayHi: number;
  replayLo: number;
  replayBits: number;
}

export const freshReplay = (): ReplayState => ({ replayHi: 0, replayLo: 0, replayBits: 0 });

/**
 * Accepts `counter` once: true and the state advanced, or false (a replay, or older than
 * the window). Counter 0 is never valid (a fresh state's top), so a sender starts at 1.
 */
export function acceptCounter(s: ReplayState, counter: bigint): boolean {
  const top = (BigInt(s.replayHi) << 32n) | BigInt(s.replayLo);
  if (counter > top) {
    const shift = counter - top;
    s.replayBits = shift >= BigInt(REPLAY_WINDOW) ? 0 : (s.replayBits << Number(shift)) >>> 0;
    // Bit 0 stands for `top` itself once it moved: the old top is now `shift` below.
    if (top > 0n && shift < BigInt(REPLAY_WINDOW)) s.replayBits = (s.replayBits | (1 << (Number(shift) - 1))) >>> 0;
    s.replayHi = Number(counter >> 32n);
    s.replayLo = Number(counter & 0xffffffffn);
    return true;
  }
  const behind = top - counter;
  if (behind === 0n || behind > BigInt(REPLAY_WINDOW)) return false;
  const bit = 1 << (Number(behind) - 1);
  if (s.replayBits & bit) return false;
  s.replayBits = (s.replayBits | bit) >>> 0;
  return true;
}
