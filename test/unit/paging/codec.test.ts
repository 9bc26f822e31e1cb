/** The paging protocol codec (src/wire/paging.ts) through the shared codec kit, plus a hand-laid vector. */
import { describe, expect, it } from 'vitest';
import { pagingMessage, type PagingMessage } from '../../../src/wire/paging';
import { hex, runCodecKit, toHex } from '../wire/kit';

const mac = (fill: number) => new Uint8Array(32).fill(fill);
const v4 = (...b: number[]) => new Uint8Array(b);
const v6 = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
const base = { epoch: 0x01020304, counter: 0x0000000500000006n, mac: mac(0xab) };

const values: PagingMessage[] = [
  { ...base, id: 'lobby', body: { type: 'advert', intervalS: 30 } },
  {
    ...base, id: 'laptop-1',
    body: {
      type: 'register', mode: 3, wake: 1, lifetimeS: 3600, area: 'lobby', addresses: [v4(198, 51, 100, 7), v6],
      correspondents: [{ address: v4(203, 0, 113, 0), length: 24 }, { address: v6, length: 64 }],
    },
  },
  { ...base, id: 'h', body: { type: 'register', mode: 1, wake: 0, lifetimeS: 1, area: 'a', addresses: [], correspondents: [] } },
  { ...base, id: 'laptop-1', body: { type: 'register-ack', status: 0, lifetimeS: 600, acked: 0xffffffffffffffffn, area: '~custom' } },
  { ...base, id: 'laptop-1', body: { type: 'deregister', reason: 2 } },
  { ...base, id: 'laptop-1', body: { type: 'page', attempt: 3 } },
  { ...base, id: 'laptop-1', body: { type: 'page-response', paged: 42n } },
  { ...base, id: 'x', body: { type: 'unknown', code: 99, body: v4(1, 2, 3) } },
];

// Laid out by hand from the diagram in src/wire/paging.ts, not by the encoder.
const deregisterVector = hex(`
  01 04 02 00  00 00 00 07  00 00 00 00 00 00 00 2a  68 31  01
  ${'cd'.repeat(32)}`);

runCodecKit('paging message', { codec: pagingMessage, vectors: [deregisterVector], values, flips: 100 });

describe('paging codec: layout and refusals', () => {
  it('reads the hand-laid DEREGISTER field by field', () => {
    expect(pagingMessage.decode(deregisterVector)).toEqual({
      ok: true, value: { epoch: 7, counter: 42n, id: 'h1', body: { type: 'deregister', reason: 1 }, mac: mac(0xcd) },
    });
  });

  const refuse = (bytes: Uint8Array, field: string) => {
    const d = pagingMessage.decode(bytes);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error.field).toBe(field);
  };

  it('refuses another version, a non-zero reserved octet, an id that is not a printable token', () => {
    const v = deregisterVector.slice();
    v[0] = 2;
    refuse(v, 'paging.version');
    const r = deregisterVector.slice();
    r[3] = 1;
    refuse(r, 'paging.reserved');
    const id = deregisterVector.slice();
    id[16] = 0x20;
    refuse(id, 'paging.id');
    const empty = hex(`01 04 00 00 00000007 000000000000002a 01 ${'cd'.repeat(32)}`);
    refuse(empty, 'paging.id');
  });

  it('refuses a body longer than its type (trailing bytes inside the signed part)', () => {
    const long = hex(`01 04 02 00 00000007 000000000000002a 6831 01 00 ${'cd'.repeat(32)}`);
    refuse(long, 'paging.body');
  });

  it('refuses a message too short for its HMAC trailer', () => {
    refuse(deregisterVector.slice(0, deregisterVector.length - 1), 'deregister.reason');
    refuse(hex('01 04 02 00 00000007 000000000000002a 6831'), 'paging.mac');
  });

  it('refuses more than 8 addresses before reading them (a claimed count never allocates)', () => {
    const reg = pagingMessage.encode(values[2]!).slice();
    // version..id(1) | mode wake lifetime(2) areaLen area | addrCount
    const countAt = 16 + 1 + 4 + 1 + 1;
    reg[countAt] = 9;
    refuse(reg, 'register.addressCount');
  });

  it('refuses a correspondent prefix longer than its family', () => {
    const v: PagingMessage = { ...base, id: 'h', body: { type: 'register', mode: 1, wake: 0, lifetimeS: 1, area: 'a', addresses: [], correspondents: [{ address: v4(10, 0, 0, 0), length: 8 }] } };
    const b = pagingMessage.encode(v).slice();
    const lenAt = 16 + 1 + 4 + 1 + 1 + 1 + 1 + 1;
    expect(b[lenAt]).toBe(8);
    b[lenAt] = 33;
    refuse(b, 'register.correspondents[0].length');
  });

  it('encodes the header in network order', () => {
    expect(toHex(pagingMessage.encode(values[5]!).subarray(0, 16))).toBe('0105080001020304' + '0000000500000006');
  });
});
