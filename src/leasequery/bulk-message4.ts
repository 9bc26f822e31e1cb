/**
 * The bulk client's reading of a DHCPv4 reply stream (RFC 6926 §7.4) over the shared
 * DHCPv4 leasequery reading (`message.ts`): each binding is a BOOTREPLY DHCPLEASEACTIVE
 * (or DHCPLEASEUNASSIGNED), the end is a DHCPLEASEQUERYDONE, and an error is option 151
 * in the DONE (RFC 6926 §6.2.2). Nothing read here is trusted yet (`bulk-accept.ts`).
 *
 * Unlike DHCPv6 (RFC 5460 §5.2: REPLY, DATA…, DONE, or a REPLY alone) a query with no
 * match is answered by a DONE alone (RFC 6926 §7.4; Kea: DONE with option 54, no 151).
 */
import {
  BOOTREPLY, DHCP4_BULK_TYPE, DHCP4_LEASEQUERY_TYPE, DHCP4_STATUS, dhcp4Message,
} from '../wire';
import { buildBulkLeasequery4, readAnswer, type BulkQuery4, type LeaseAnswer } from './message';

/** A DHCPBULKLEASEQUERY's bytes (unframed). */
export const buildBulkQuery4 = (q: BulkQuery4, xid: number): Uint8Array => dhcp4Message.encode(buildBulkLeasequery4(q, xid)).slice();

export type BulkReply4 =
  | { readonly kind: 'active' | 'unassigned'; readonly xid: number; readonly answer: LeaseAnswer }
  | {
      readonly kind: 'done'; readonly xid: number;
      /** Option 151 other than Success, by name (RFC 6926 §6.2.2); null: Success or absent. */
      readonly error: string | null; readonly statusCode: number; readonly statusMessage: string;
    }
  /** A BOOTREPLY of any other type (an RFC 4388 LEASEUNKNOWN, an ACK, an unknown code). */
  | { readonly kind: 'unexpected'; readonly msgType: number }
  | { readonly kind: 'malformed'; readonly reason: string };

/** RFC 6926 §6.2.2 status name; `status-N` for a code it does not define. */
export function dhcp4StatusName(code: number): string {
  for (const [name, v] of Object.entries(DHCP4_STATUS)) if (v === code) return name;
  return `status-${code}`;
}

/** Classify one framed message. Never throws. */
export function readBulkReply4(bytes: Uint8Array): BulkReply4 {
  const d = dhcp4Message.decode(bytes);
  if (!d.ok) return { kind: 'malformed', reason: `${d.error.field}: ${d.error.reason}` };
  const m = d.value;
  // RFC 6926 §6.1: every message from the server is a BOOTREPLY.
  if (m.op !== BOOTREPLY) return { kind: 'malformed', reason: `op ${m.op} is not BOOTREPLY` };
  const a = readAnswer(m);
  if (!a) return { kind: 'malformed', reason: 'an option does not decode' };
  switch (a.type) {
    case DHCP4_LEASEQUERY_TYPE.LEASEACTIVE: return { kind: 'active', xid: a.xid, answer: a };
    case DHCP4_LEASEQUERY_TYPE.LEASEUNASSIGNED: return { kind: 'unassigned', xid: a.xid, answer: a };
    case DHCP4_BULK_TYPE.LEASEQUERYDONE: {
      const code = a.status?.status ?? DHCP4_STATUS.Success;
      return { kind: 'done', xid: a.xid, error: code === DHCP4_STATUS.Success ? null : dhcp4StatusName(code), statusCode: code, statusMessage: a.status?.message ?? '' };
    }
    default: return { kind: 'unexpected', msgType: a.type };
  }
}
