import { DHCP4_FIXED_LENGTH, DHCP4_MAGIC_COOKIE } from './dhcp4';

/**
 * Message-type peeks for dispatch. The Agent routes a server-side datagram to the
 * module that claims its message type before anyone decodes it, so these read one
 * field and never allocate; the claiming module then decodes the whole message with
 * the real codec (and counts it malformed if it is). `0` means "no type": BOOTP
 * without option 53, or bytes too short or broken to say.
 */

const DHCP4_OPTION_PAD = 0;
const DHCP4_OPTION_END = 255;
const DHCP4_OPTION_MESSAGE_TYPE = 53;

/** DHCP Message Type (RFC 2132 §9.6) from the options field; 0 when absent or unreadable. */
export function peekDhcp4MessageType(p: Uint8Array): number {
  let i = DHCP4_FIXED_LENGTH;
  if (p.length < i + 4) return 0;
  const cookie = ((p[i]! << 24) | (p[i + 1]! << 16) | (p[i + 2]! << 8) | p[i + 3]!) >>> 0;
  if (cookie !== DHCP4_MAGIC_COOKIE) return 0;
  i += 4;
  while (i < p.length) {
    const code = p[i]!;
    if (code === DHCP4_OPTION_END) return 0;
    if (code === DHCP4_OPTION_PAD) { i++; continue; }
    if (i + 1 >= p.length) return 0;
    const len = p[i + 1]!;
    if (code === DHCP4_OPTION_MESSAGE_TYPE) return len === 1 && i + 2 < p.length ? p[i + 2]! : 0;
    i += 2 + len;
  }
  return 0;
}

/** msg-type, the first octet of every DHCPv6 message (RFC 8415 §8, §9); 0 for an empty datagram. */
export const peekDhcp6MessageType = (p: Uint8Array): number => (p.length > 0 ? p[0]! : 0);

/**
 * The IP protocol of a packet that starts at the IP header: IPv4 Protocol (RFC 791),
 * IPv6 Next Header after a Hop-by-Hop Options header if there is one (RFC 8200 §4.3,
 * which MLD messages carry for their Router Alert). -1 when the bytes cannot say.
 */
export function peekIpProtocol(family: 4 | 6, b: Uint8Array): number {
  if (family === 4) return b.length >= 20 && b[0]! >> 4 === 4 ? b[9]! : -1;
  if (b.length < 40 || b[0]! >> 4 !== 6) return -1;
  const next = b[6]!;
  if (next !== 0) return next;
  return b.length >= 42 ? b[40]! : -1;
}
