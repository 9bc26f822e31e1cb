/**
 * The bulk reply stream's usual message read in one pass (RFC 5460 §7.3): a bulk
 * restore is ~100k of them back to back, and the general codec builds an option tree
 * per message (objects, arrays, a private copy of the bytes) only for `readBulkReply`
 * to pick six fields out of it. This reader walks the same TLVs with bounds checks and
 * fills the lease directly; its fields are windows on the frame (the caller copies what
 * it keeps beyond the message).
 *
 * It reads only the shape real servers and the lab responder send (PROTOCOLS.md):
 * LEASEQUERY-REPLY / -DATA / -DONE with SERVERID / CLIENTID and at most one
 * OPTION_CLIENT_DATA (RFC 5007 §4.1.2.2) holding CLIENTID, IAADDR / IAPREFIX without
 * sub-options, CLT_TIME and one LQ_RELAY_DATA whose stored RELAY-FORW carries
 * Interface-ID, Remote-ID, Relay-ID and Client Link-Layer Address options. On anything
 * else — another option, a status code, a repeated option, a nested relay, a length
 * the general codec would refuse — it returns null, and the caller reads the message
 * with `readBulkReply`, which applies every rule and counts what is wrong. So it never
 * accepts what the codec would refuse, and never decides a drop itself.
 */
import { DHCP6_LEASEQUERY_TYPE, DHCP6_OPTION } from '../wire';
import type { BulkLease, BulkReply, StoredRelay } from './bulk-message';

const { LEASEQUERY_REPLY, LEASEQUERY_DATA, LEASEQUERY_DONE } = DHCP6_LEASEQUERY_TYPE;
const O = DHCP6_OPTION;
/** RELAY-FORW (RFC 8415 §7.3). */
const RELAY_FORW = 12;
const NO_LEASES: readonly BulkLease[] = [];
/**
 * Options one message of the usual shape has at most (about a dozen); beyond this the
 * general codec reads it and applies its own bound (DHCP6_LIMITS.maxOptions).
 */
const MAX_OPTIONS = 64;
/** Options seen in the message being read (one message at a time: the reader does not re-enter). */
let seen = 0;
const tooMany = (): boolean => ++seen > MAX_OPTIONS;

const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;
const u32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** The message as `readBulkReply` would read it, or null: not the usual shape, read it in full. Never throws. */
export function readBulkReplyFast(b: Uint8Array): BulkReply | null {
  const end = b.length;
  if (end < 4) return null;
  const t = b[0];
  const kind = t === LEASEQUERY_REPLY ? 'reply' : t === LEASEQUERY_DATA ? 'data' : t === LEASEQUERY_DONE ? 'done' : null;
  if (kind === null) return null;
  const transactionId = (b[1]! << 16) | (b[2]! << 8) | b[3]!;
  seen = 0;
  let cd = -1;
  let cdEnd = -1;
  for (let at = 4; at < end;) {
    if (end - at < 4 || tooMany()) return null;
    const code = u16(b, at);
    const len = u16(b, at + 2);
    const body = at + 4;
    at = body + len;
    if (at > end) return null;
    // RFC 8415 §11.1: a DUID is at least its type.
    if (code === O.CLIENTID || code === O.SERVERID) {
      if (len < 2) return null;
    } else if (code === O.CLIENT_DATA && cd < 0) {
      cd = body;
      cdEnd = at;
    } else return null;
  }
  if (cd < 0) return { kind, transactionId, error: null, statusMessage: '', clientData: false, leases: NO_LEASES, clientLink: false };
  const leases = readClientData(b, cd, cdEnd);
  if (leases === null) return null;
  return { kind, transactionId, error: null, statusMessage: '', clientData: true, leases, clientLink: false };
}

/** OPTION_CLIENT_DATA's body [at, end): its leases, or null for anything unusual. */
function readClientData(b: Uint8Array, from: number, end: number): BulkLease[] | null {
  let duid: Uint8Array | null = null;
  let cltS: number | null = null;
  let relay: StoredRelay | null = null;
  let relaySeen = false;
  // Lease option offsets: real servers send one per CLIENT_DATA (PROTOCOLS.md).
  const found: number[] = [];
  for (let at = from; at < end;) {
    if (end - at < 4 || tooMany()) return null;
    const code = u16(b, at);
    const len = u16(b, at + 2);
    const body = at + 4;
    at = body + len;
    if (at > end) return null;
    switch (code) {
      case O.CLIENTID:
        if (duid !== null || len < 2) return null;
        duid = b.subarray(body, at);
        break;
      case O.IAADDR: // RFC 8415 §21.6: 24 octets without IAaddr-options
        if (len !== 24) return null;
        found.push(body, 128);
        break;
      case O.IAPREFIX: // RFC 8415 §21.22: 25 octets without IAprefix-options
        if (len !== 25 || b[body + 8]! > 128) return null;
        found.push(body, -1);
        break;
      case O.CLT_TIME: // RFC 5007 §4.1.2.3
        if (cltS !== null || len !== 4) return null;
        cltS = u32(b, body);
        break;
      case O.LQ_RELAY_DATA: // RFC 5007 §4.1.2.4: peer-address, then the stored relay message
        if (relaySeen || len < 17) return null;
        relaySeen = true;
        relay = readRelayForw(b, body + 16, at);
        if (relay === null) return null;
        break;
      default:
        return null;
    }
  }
  if (duid === null) return null;
  const leases: BulkLease[] = [];
  for (let i = 0; i < found.length; i += 2) {
    const at = found[i]!;
    const prefix = found[i + 1] === -1;
    leases.push({
      duid,
      kind: prefix ? 'prefix' : 'address',
      address: prefix ? b.subarray(at + 9, at + 25) : b.subarray(at, at + 16),
      prefixLength: prefix ? b[at + 8]! : 128,
      validLifetime: u32(b, prefix ? at + 4 : at + 20),
      cltS,
      relay,
    });
  }
  return leases;
}

/** A stored RELAY-FORW with no RELAY_MSG in it [at, end) (RFC 8415 §9: hop-count, link-address, peer-address, options). */
function readRelayForw(b: Uint8Array, at: number, end: number): StoredRelay | null {
  if (end - at < 34 || b[at] !== RELAY_FORW) return null;
  const peerAddress = b.subarray(at + 18, at + 34);
  let interfaceId: Uint8Array | null = null;
  let remoteId: Uint8Array | null = null;
  let relayId: Uint8Array | null = null;
  let mac: Uint8Array | null = null;
  let cll = false;
  for (let o = at + 34; o < end;) {
    if (end - o < 4 || tooMany()) return null;
    const code = u16(b, o);
    const len = u16(b, o + 2);
    const body = o + 4;
    o = body + len;
    if (o > end) return null;
    switch (code) {
      case O.INTERFACE_ID: // RFC 8415 §21.18
        if (interfaceId !== null || len < 1) return null;
        interfaceId = b.subarray(body, o);
        break;
      case O.REMOTE_ID: // RFC 4649 §3: enterprise-number, then the remote-id
        if (remoteId !== null || len < 5) return null;
        remoteId = b.subarray(body + 4, o);
        break;
      case O.RELAY_ID: // RFC 5460 §5.4.1: a DUID
        if (relayId !== null || len < 2) return null;
        relayId = b.subarray(body, o);
        break;
      case O.CLIENT_LINKLAYER_ADDR: // RFC 6939 §4: link-layer type, then the address
        if (cll || len < 2) return null;
        cll = true;
        if (u16(b, body) === 1 && len === 8) mac = b.subarray(body + 2, o);
        break;
      default:
        return null;
    }
  }
  return { peerAddress, interfaceId, remoteId, relayId, mac };
}
