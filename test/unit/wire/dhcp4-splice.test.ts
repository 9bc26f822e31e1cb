/**
 * The byte-level option 82 edits (what the relay sends) write exactly what encoding
 * the message-level edits writes, over messages shaped the ways the wire allows.
 */
import { describe, expect, it } from 'vitest';
import { hex, toHex } from './kit';
import {
  dhcp4Message, insertRelayAgentInformation, insertRelayAgentInformationBytes, stripRelayAgentInformation,
  stripRelayAgentInformationInto, strippedLength, type Dhcp4Message, type Dhcp4RawOption,
} from '../../../src/wire/dhcp4';
import type { RelayAgentSubOption } from '../../../src/wire/dhcp4-relay-agent';

const opt = (code: number, ...data: number[]): Dhcp4RawOption => ({ code, data: new Uint8Array(data) });
const base = (options: Dhcp4RawOption[], trailer: Uint8Array, extra: Partial<Dhcp4Message> = {}): Dhcp4Message => ({
  op: 1, htype: 1, hlen: 6, hops: 0, xid: 0x01020304, secs: 0, flags: 0x8000,
  ciaddr: new Uint8Array(4), yiaddr: new Uint8Array(4), siaddr: new Uint8Array(4), giaddr: new Uint8Array(4),
  chaddr: hex('0200000000c1 00000000000000000000'), sname: new Uint8Array(64), file: new Uint8Array(128),
  options, trailer, ...extra,
});
const rai = (code: number, n: number): Dhcp4RawOption => ({ code: 82, data: Uint8Array.from([1, n, ...new Uint8Array(n).fill(code)]) });

const shapes: [string, Dhcp4Message][] = [
  ['DISCOVER padded to 300', base([opt(53, 1), opt(61, 1, 2, 3, 4, 5, 6, 7), opt(55, 1, 3, 6)], new Uint8Array(43))],
  ['no trailer', base([opt(53, 1)], new Uint8Array(0))],
  ['short zero trailer', base([opt(53, 1)], new Uint8Array(3))],
  ['non-zero trailer', base([opt(53, 1)], Uint8Array.of(0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))],
  ['Pads between options', base([opt(0), opt(53, 1), opt(0), opt(0), opt(12, 0x68)], new Uint8Array(30))],
  ['no options', base([], new Uint8Array(60))],
  ['overloaded file', base([opt(53, 1), opt(52, 1)], new Uint8Array(20), { file: Uint8Array.from([12, 1, 0x68, 255, ...new Uint8Array(124)]) })],
];
const infos: [string, RelayAgentSubOption[]][] = [
  ['circuit-id', [{ kind: 'circuitId', circuitId: hex('6c616e31') }]],
  ['circuit, remote and relay id', [{ kind: 'circuitId', circuitId: hex('6c616e31') }, { kind: 'remoteId', remoteId: hex('0102') },
    { kind: 'relayId', relayId: hex('000400010203040506070809') }]],
  ['a body over 255 octets (RFC 3396 split)', [{ kind: 'circuitId', circuitId: new Uint8Array(200).fill(1) },
    { kind: 'remoteId', remoteId: new Uint8Array(150).fill(2) }]],
];

describe('option 82 edits on the received bytes', () => {
  for (const [shape, m] of shapes) {
    const bytes = dhcp4Message.encode(m);
    const decoded = dhcp4Message.decode(bytes);
    if (!decoded.ok) throw new Error(`${shape}: ${JSON.stringify(decoded.error)}`);
    for (const [what, info] of infos) {
      for (const keepSize of [false, true]) {
        it(`inserts ${what} into ${shape}${keepSize ? ', keeping the size' : ''}`, () => {
          const expected = dhcp4Message.encode(insertRelayAgentInformation(decoded.value, info, { keepSize }));
          expect(toHex(insertRelayAgentInformationBytes(bytes, decoded.value, info, { keepSize }))).toBe(toHex(expected));
        });
      }
    }
  }

  const withRai: [string, Dhcp4Message][] = [
    ['option 82 last', base([opt(53, 2), opt(54, 10, 0, 0, 2), rai(1, 4)], new Uint8Array(20))],
    ['option 82 first and split in two', base([rai(1, 253), rai(2, 30), opt(53, 2)], new Uint8Array(0))],
    ['option 82 between Pads', base([opt(0), rai(3, 2), opt(0), opt(53, 5)], new Uint8Array(7))],
    ['option 82 and a non-zero trailer', base([opt(53, 2), rai(4, 1)], Uint8Array.of(9, 9))],
    ['no option 82', base([opt(53, 2)], new Uint8Array(10))],
  ];
  for (const [shape, m] of withRai) {
    const bytes = dhcp4Message.encode(m);
    const decoded = dhcp4Message.decode(bytes);
    if (!decoded.ok) throw new Error(`${shape}: ${JSON.stringify(decoded.error)}`);
    for (const keepSize of [false, true]) {
      it(`strips ${shape}${keepSize ? ', keeping the size' : ''}, into a dirty buffer at an offset`, () => {
        const expected = dhcp4Message.encode(stripRelayAgentInformation(decoded.value, { keepSize }));
        const n = strippedLength(decoded.value, { keepSize });
        expect(n).toBe(expected.length);
        const out = new Uint8Array(n + 9).fill(0xa5);
        stripRelayAgentInformationInto(bytes, decoded.value, { keepSize }, out, 5);
        expect(toHex(out.subarray(5, 5 + n))).toBe(toHex(expected));
        expect([...out.subarray(0, 5), ...out.subarray(5 + n)].every((b) => b === 0xa5)).toBe(true);
      });
    }
  }

  it('encodes the edited value when the bytes are not the ones the message came from', () => {
    const m = shapes[0]![1];
    const info = infos[0]![1];
    const expected = dhcp4Message.encode(insertRelayAgentInformation(m, info, { keepSize: true }));
    expect(toHex(insertRelayAgentInformationBytes(new Uint8Array(5), m, info, { keepSize: true }))).toBe(toHex(expected));
  });
});
