/** HMAC-SHA-256 signing, key derivation and the anti-replay window (src/paging/auth.ts). */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { acceptCounter, deriveHostKey, freshReplay, REPLAY_WINDOW, signMessage, verifyMessage } from '../../../src/paging/auth';
import { pagingMessage } from '../../../src/wire/paging';
import { hex, toHex } from '../wire/kit';

export const hmac = (key: Uint8Array, data: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha256', key).update(data).digest());

describe('paging auth: HMAC-SHA-256 over the message (RFC 3154 §4.20–§4.22)', () => {
  const key = new Uint8Array(32).fill(7);
  const m = { epoch: 9, counter: 1n, id: 'h1', body: { type: 'deregister' as const, reason: 1 } };

  it('the injected hmac is HMAC-SHA-256 (RFC 4231 test case 2)', () => {
    const out = hmac(new TextEncoder().encode('Jefe'), new TextEncoder().encode('what do ya want for nothing?'));
    expect(toHex(out)).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('signs the octets before the trailer; the trailer is the HMAC of exactly them', () => {
    const bytes = signMessage(m, key, hmac);
    expect(toHex(bytes.subarray(bytes.length - 32))).toBe(toHex(hmac(key, bytes.subarray(0, bytes.length - 32))));
    expect(verifyMessage(bytes, key, hmac)).toBe(true);
    const d = pagingMessage.decode(bytes);
    expect(d.ok && d.value.id).toBe('h1');
  });

  it('any changed octet, or another key, fails verification', () => {
    const bytes = signMessage(m, key, hmac);
    for (let i = 0; i < bytes.length; i++) {
      const t = bytes.slice();
      t[i] = t[i]! ^ 1;
      expect(verifyMessage(t, key, hmac), `octet ${i}`).toBe(false);
    }
    expect(verifyMessage(bytes, new Uint8Array(32).fill(8), hmac)).toBe(false);
    expect(verifyMessage(bytes.subarray(0, 10), key, hmac)).toBe(false);
  });

  it('derives a host key from the master key and the host id, distinct per id', () => {
    const master = hex('000102030405060708090a0b0c0d0e0f');
    const k1 = deriveHostKey(master, 'h1', hmac);
    expect(toHex(k1)).toBe(toHex(hmac(master, new TextEncoder().encode('gleand paging host key h1'))));
    expect(toHex(deriveHostKey(master, 'h2', hmac))).not.toBe(toHex(k1));
  });
});

describe('paging auth: anti-replay window (RFC 4303 §3.4.3 style)', () => {
  it('accepts increasing counters once; a replay and 0 are refused', () => {
    const s = freshReplay();
    expect(acceptCounter(s, 0n)).toBe(false);
    expect(acceptCounter(s, 1n)).toBe(true);
    expect(acceptCounter(s, 1n)).toBe(false);
    expect(acceptCounter(s, 5n)).toBe(true);
    expect(acceptCounter(s, 5n)).toBe(false);
  });

  it('accepts a reordered counter inside the window once, refuses one older than the window', () => {
    const s = freshReplay();
    expect(acceptCounter(s, 100n)).toBe(true);
    expect(acceptCounter(s, 99n)).toBe(true);
    expect(acceptCounter(s, 99n)).toBe(false);
    expect(acceptCounter(s, 100n - BigInt(REPLAY_WINDOW))).toBe(true);
    expect(acceptCounter(s, 99n - BigInt(REPLAY_WINDOW))).toBe(false);
    // The old top is remembered after the window moves.
    expect(acceptCounter(s, 103n)).toBe(true);
    expect(acceptCounter(s, 100n)).toBe(false);
    expect(acceptCounter(s, 101n)).toBe(true);
    expect(acceptCounter(s, 101n)).toBe(false);
  });

  it('handles counters past 2^32 and a jump wider than the window', () => {
    const s = freshReplay();
    expect(acceptCounter(s, (7n << 32n) + 1n)).toBe(true);
    expect(s.replayHi).toBe(7);
    expect(acceptCounter(s, (7n << 32n))).toBe(true);
    expect(acceptCounter(s, (9n << 32n))).toBe(true);
    expect(s.replayBits).toBe(0);
    expect(acceptCounter(s, (7n << 32n) + 1n)).toBe(false);
  });

  it('matches a brute-force model on a seeded random sequence', () => {
    const s = freshReplay();
    const seen = new Set<bigint>();
    let top = 0n;
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      const c = top + BigInt((x % 50) - 40);
      if (c < 0n) continue; // the wire carries an unsigned 64-bit counter
      const want = c > 0n && !seen.has(c) && (c > top || top - c <= BigInt(REPLAY_WINDOW));
      expect(acceptCounter(s, c), `counter ${c} top ${top}`).toBe(want);
      if (want) {
        seen.add(c);
        if (c > top) top = c;
      }
    }
  });
});
