import { describe, expect, it } from 'vitest';
import { messageLength, writeMessage } from '../../../platform/netlink/message';
import { allOwn } from '../../../platform/netlink/monitor';

/** A datagram of netlink messages with these portids (payloads of 1–7 bytes, padded). */
function datagram(pids: readonly number[]): Uint8Array {
  const payloads = pids.map((_, i) => new Uint8Array(1 + (i % 7)).fill(0xab));
  const out = new Uint8Array(payloads.reduce((n, p) => n + messageLength(p.length), 0));
  let off = 0;
  pids.forEach((pid, i) => {
    off = writeMessage(out, off, { type: 24, flags: 0, seq: i, pid }, payloads[i]!);
  });
  return out;
}

describe('monitor: own notifications dropped from their headers', () => {
  const own = (pid: number) => pid === 4242 || pid === 0x80001234;

  it('a datagram all of whose messages carry an own portid is own (portids above 2^31 too)', () => {
    expect(allOwn(datagram([4242]), own)).toBe(true);
    expect(allOwn(datagram([4242, 0x80001234, 4242]), own)).toBe(true);
  });

  it('one message of someone else (or the kernel, portid 0) keeps the datagram', () => {
    expect(allOwn(datagram([4242, 77, 4242]), own)).toBe(false);
    expect(allOwn(datagram([0]), own)).toBe(false);
  });

  it('an empty or malformed datagram is not own: it is framed, and its error reported', () => {
    expect(allOwn(new Uint8Array(0), own)).toBe(false);
    const d = datagram([4242, 4242]);
    expect(allOwn(d.subarray(0, d.length - 3), own)).toBe(false); // truncated second message
    const bad = datagram([4242]);
    bad[0] = 8; // nlmsg_len shorter than the header
    bad[1] = bad[2] = bad[3] = 0;
    expect(allOwn(bad, own)).toBe(false);
  });
});
