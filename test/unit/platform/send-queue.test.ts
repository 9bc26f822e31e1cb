/** SendQueue: one sendmmsg per turn, per-datagram results as sendto gave them. */
import { describe, expect, it } from 'vitest';
import type { NativeBinding } from '../../../platform/native';
import { NAME_BYTES } from '../../../platform/native';
import { SendQueue } from '../../../platform/send-queue';

interface Sent { bytes: number[]; name: number[] }

/** A fake addon: `script` says what each sendBatch call returns (default: all sent). */
function fake(script: ((n: number) => number)[] = []) {
  const sent: Sent[] = [];
  const calls: number[] = [];
  const native = {
    sendBatch(_fd: number, data: Uint8Array, lengths: Uint32Array, count: number, names: Uint8Array, nameBytes: number): number {
      calls.push(count);
      const rc = (script.shift() ?? ((n: number) => n))(count);
      let at = 0;
      for (let i = 0; i < Math.max(0, rc); i++) {
        sent.push({ bytes: [...data.subarray(at, at + lengths[i]!)], name: [...names.subarray(i * NAME_BYTES, i * NAME_BYTES + nameBytes)] });
        at += lengths[i]!;
      }
      return rc;
    },
  } as unknown as NativeBinding;
  return { native, sent, calls };
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

describe('SendQueue', () => {
  it('sends what one turn queued with one call, in order, with each address', async () => {
    const f = fake();
    let ok = 0;
    const q = new SendQueue<string>(f.native, 3, 4, (n) => { ok += n; }, () => { throw new Error('no error expected'); });
    for (let i = 0; i < 5; i++) q.push(Uint8Array.of(i, i, i).subarray(0, 1 + (i % 3)), (names, at) => { names[at] = 0xa0 + i; }, `d${i}`);
    expect(f.calls).toEqual([]);
    await tick();
    expect(f.calls).toEqual([5]);
    expect(ok).toBe(5);
    expect(f.sent.map((s) => s.bytes)).toEqual([[0], [1, 1], [2, 2, 2], [3], [4, 4]]);
    expect(f.sent.map((s) => s.name)).toEqual([0, 1, 2, 3, 4].map((i) => [0xa0 + i, 0, 0, 0]));
  });

  it('counts the datagram that failed and resubmits the rest', async () => {
    // first call: two sent then a stop; second: the failing one (-ENOBUFS); third: the rest
    const f = fake([() => 2, () => -105]);
    const errors: [number, string][] = [];
    let ok = 0;
    const q = new SendQueue<string>(f.native, 3, 0, (n) => { ok += n; }, (errno, tag) => errors.push([errno, tag]));
    for (let i = 0; i < 5; i++) q.push(Uint8Array.of(i), () => {}, `d${i}`);
    await tick();
    expect(f.calls).toEqual([5, 3, 2]);
    expect(errors).toEqual([[105, 'd2']]);
    expect(ok).toBe(4);
    expect(f.sent.map((s) => s.bytes[0])).toEqual([0, 1, 3, 4]);
  });

  it('sends at once when full, and flushes on close then refuses more', async () => {
    const f = fake();
    const q = new SendQueue<string>(f.native, 3, 0, () => {}, () => {});
    const big = new Uint8Array(40_000);
    q.push(big, () => {}, 'a');
    q.push(big, () => {}, 'b'); // 80,000 bytes do not fit: the first goes now
    expect(f.calls).toEqual([1]);
    q.close();
    expect(f.calls).toEqual([1, 1]);
    q.push(big, () => {}, 'c');
    await tick();
    expect(f.calls).toEqual([1, 1]);
  });
});
