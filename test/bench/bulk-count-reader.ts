/**
 * The reference reader of the bulk-restore benchmark (`bulk-restore.ts`): the least a
 * requester can do with a bulk leasequery stream. It connects to TCP 547, sends the
 * same LEASEQUERY gleand sends (QUERY_BY_RELAY_ID, link-address ::, RFC 5460 §6.1,
 * built by the project's codec), then only walks the 2-octet length framing (RFC 5460
 * §5.1) and counts messages by type until the LEASEQUERY-DONE of its transaction
 * (§7.3) — no decoding, no bindings, no kernel. Prints one JSON line and exits.
 *
 * Run (bundled by the bench, plain node): node reader.js --server ADDR --relay-id HEX
 *   [--duid HEX] [--source ADDR]
 */
import * as net from 'node:net';
import { frameMessage } from '../../src/leasequery/bulk-frame';
import { buildLeasequery6, dhcp6Message, DHCP6_LEASEQUERY_TYPE, LINK_UNSPECIFIED } from '../../src/wire';
import { parseHex } from '../../src/wire/address';

const { LEASEQUERY_REPLY, LEASEQUERY_DATA, LEASEQUERY_DONE } = DHCP6_LEASEQUERY_TYPE;

const arg = (name: string, dflt?: string): string => {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) {
    if (dflt === undefined) throw new Error(`${name} required`);
    return dflt;
  }
  return process.argv[i + 1]!;
};

const t0 = performance.now();
const relayId = parseHex(arg('--relay-id').replace(/:/g, ''))!;
// The requester's own DUID (CLIENTID of the query, RFC 5460 §7.2): the relay's, as gleand sends.
const duid = parseHex(arg('--duid', arg('--relay-id')).replace(/:/g, ''))!;
const xid = (Math.random() * 0x1000000) >>> 0;
const query = frameMessage(dhcp6Message.encode(buildLeasequery6({ by: 'relay-id', duid: relayId, linkAddress: LINK_UNSPECIFIED }, xid, duid)).slice());

const counts = { reply: 0, data: 0, done: 0, other: 0, bytes: 0, chunks: 0 };
/** Framing state carried across chunks: octets of the current header or body still to come. */
let headerHave = 0;
let header = 0;
let bodyLeft = 0;
/** Where in the current body we are: its first octet is the message type, octets 1–3 the xid. */
let bodyAt = 0;
let msgType = 0;
let msgXid = 0;

function finish(how: string): void {
  const ms = performance.now() - t0;
  process.stdout.write(`${JSON.stringify({ how, ms, xid, ...counts, bindings: counts.data + (counts.reply > 0 ? 1 : 0) })}\n`);
  process.exit(how === 'done' ? 0 : 1);
}

const source = process.argv.includes('--source') ? arg('--source') : undefined;
const sock = net.connect({ host: arg('--server'), port: 547, family: 6, ...(source ? { localAddress: source } : {}) });
sock.setNoDelay(true);
sock.once('connect', () => sock.write(query));
sock.on('error', (e) => finish(`error ${e.message}`));
sock.once('close', () => finish('closed before DONE'));
sock.on('data', (chunk: Buffer) => {
  counts.bytes += chunk.length;
  counts.chunks++;
  let at = 0;
  while (at < chunk.length) {
    if (bodyLeft === 0) {
      header = (header << 8) | chunk[at++]!;
      if (++headerHave < 2) continue;
      bodyLeft = header & 0xffff;
      header = 0;
      headerHave = 0;
      bodyAt = 0;
      msgXid = 0;
      continue;
    }
    // Only the type and the transaction id are read; the rest is skipped in one step.
    if (bodyAt < 4) {
      const b = chunk[at++]!;
      if (bodyAt === 0) msgType = b;
      else msgXid = (msgXid << 8) | b;
      bodyAt++;
      bodyLeft--;
    } else {
      const n = Math.min(bodyLeft, chunk.length - at);
      at += n;
      bodyAt += n;
      bodyLeft -= n;
    }
    if (bodyLeft > 0) continue;
    if (msgType === LEASEQUERY_REPLY) counts.reply++;
    else if (msgType === LEASEQUERY_DATA) counts.data++;
    else if (msgType === LEASEQUERY_DONE && msgXid === xid) {
      counts.done++;
      sock.removeAllListeners('close');
      sock.destroy();
      finish('done');
      return;
    } else counts.other++;
  }
});
