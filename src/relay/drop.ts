/**
 * Why a packet was not relayed. Each reason is a per-port counter and a rate-limited
 * log key (CONVENTIONS 10): bad input is an event, not an exception.
 */
export type DropReason =
  | 'malformed'            // a decoder refused the bytes
  | 'not-dhcp'             // not UDP to the DHCP server port
  | 'wrong-direction'      // a BOOTREPLY / server message from a client port, or vice versa
  | 'untrusted-option82'   // RFC 3046 §2.1: option 82 from an untrusted circuit
  | 'untrusted-giaddr'     // RFC 3046 §2.1: giaddr set by something below an untrusted port
  | 'untrusted-relay'      // RFC 8415 §19.1.2: a RELAY-FORW from below an untrusted port
  | 'hops'                 // RFC 1542 §4.1.1 / RFC 8415 §19.1.1 hop limit
  | 'unknown-server'       // a reply from a source that is not a configured server
  | 'no-port'              // a reply that names no configured subscriber port
  | 'port-disabled'        // the family is off on that port
  | 'rate-limit'           // the port's packet budget is spent
  | 'foreign-release'      // a RELEASE/DECLINE for a binding of another port, MAC or DUID (DHCP snooping)
  | 'transaction-conflict' // a DHCPv6 request reusing a live transaction of another MAC (transactions.ts)
  | 'no-transaction';      // an ADVERTISE/REPLY answering no request this relay saw (RFC 8415 §19.2)

export type Verdict<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: DropReason };

export const pass = <T>(value: T): Verdict<T> => ({ ok: true, value });
export const drop = <T>(reason: DropReason): Verdict<T> => ({ ok: false, reason });
