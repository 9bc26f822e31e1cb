/**
 * DHCPv4 option descriptor table (RFC 2132 and later): one row per option code with
 * its name, minimum/maximum length and the body codec (CONVENTIONS 4). The message keeps
 * every option as raw bytes in wire order (`dhcp4.ts`); typed values are read through
 * this table on demand, after RFC 3396 concatenation of repeated codes.
 *
 *     Code   Len   Data
 *    +-----+-----+-----+-----+---
 *    |  c  |  n  |  d1 |  d2 | ...      (Pad 0 and End 255 are a single octet)
 *    +-----+-----+-----+-----+---
 */
import { Reader, Writer, type DecodeResult } from './cursor';
import { addressList, checkLength, codeList, fixedBytes, latin1, readUtf8, uint, utf8Bytes, type FieldCodec } from './fields';
import { relayAgentInformation, readRelayAgentInformation, writeRelayAgentInformation, type RelayAgentInformation } from './dhcp4-relay-agent';

export const DHCP4_OPTION = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS_SERVERS: 6,
  HOST_NAME: 12,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  CLIENT_ID: 61,
  RELAY_AGENT_INFO: 82,
  CLIENT_LAST_TRANSACTION_TIME: 91,
  ASSOCIATED_IP: 92,
  STATUS_CODE: 151,
  BASE_TIME: 152,
  START_TIME_OF_STATE: 153,
  QUERY_START_TIME: 154,
  QUERY_END_TIME: 155,
  DHCP_STATE: 156,
  DATA_SOURCE: 157,
  END: 255,
} as const;

/** DHCP message types: RFC 2132 §9.6, RFC 4388 §6.1 (10–13), RFC 6926 (14–15), RFC 7724 (16–18). */
export const DHCP4_MESSAGE_TYPES = {
  1: 'DHCPDISCOVER',
  2: 'DHCPOFFER',
  3: 'DHCPREQUEST',
  4: 'DHCPDECLINE',
  5: 'DHCPACK',
  6: 'DHCPNAK',
  7: 'DHCPRELEASE',
  8: 'DHCPINFORM',
  9: 'DHCPFORCERENEW',
  10: 'DHCPLEASEQUERY',
  11: 'DHCPLEASEUNASSIGNED',
  12: 'DHCPLEASEUNKNOWN',
  13: 'DHCPLEASEACTIVE',
  14: 'DHCPBULKLEASEQUERY',
  15: 'DHCPLEASEQUERYDONE',
  16: 'DHCPACTIVELEASEQUERY',
  17: 'DHCPLEASEQUERYSTATUS',
  18: 'DHCPTLS',
} as const;
export type Dhcp4MessageTypeName = (typeof DHCP4_MESSAGE_TYPES)[keyof typeof DHCP4_MESSAGE_TYPES];

/**
 * RFC 4388 §6.1 leasequery message types (option 53). Seed 003's draft names map as
 * DHCPKNOWN → LEASEUNASSIGNED, DHCPACTIVE → LEASEACTIVE, DHCPUNKNOWN → LEASEUNKNOWN;
 * the draft's DHCPUNIMPLEMENTED has no RFC code (PROTOCOLS.md).
 */
export const DHCP4_LEASEQUERY_TYPE = {
  LEASEQUERY: 10,
  LEASEUNASSIGNED: 11,
  LEASEUNKNOWN: 12,
  LEASEACTIVE: 13,
} as const;

/** RFC 6926 §6.1 bulk leasequery message types (option 53), sent over TCP 67. */
export const DHCP4_BULK_TYPE = {
  BULKLEASEQUERY: 14,
  LEASEQUERYDONE: 15,
} as const;

/** Option 53. An unassigned code decodes to `name: 'unknown'` instead of failing. */
export interface Dhcp4MessageType {
  readonly code: number;
  readonly name: Dhcp4MessageTypeName | 'unknown';
}
export const dhcp4MessageType = (code: number): Dhcp4MessageType => ({
  code,
  name: (DHCP4_MESSAGE_TYPES as Record<number, Dhcp4MessageTypeName>)[code] ?? 'unknown',
});

/** RFC 6926 §6.2.2 status codes (option 151). */
export const DHCP4_STATUS = { Success: 0, UnspecFail: 1, QueryTerminated: 2, MalformedQuery: 3, NotAllowed: 4 } as const;
/** RFC 6926 §6.2.7 dhcp-state values (option 156). */
export const DHCP4_STATE = {
  AVAILABLE: 1, ACTIVE: 2, EXPIRED: 3, RELEASED: 4, ABANDONED: 5, RESET: 6, REMOTE: 7, TRANSITIONING: 8,
} as const;
/** RFC 6926 §6.2.8 data-source flag: the binding came from another server. */
export const DHCP4_DATA_SOURCE_REMOTE = 0x01;

/** Option 61 (RFC 2132 §9.14): a type octet (1 = Ethernet hardware address) and the identifier. */
export interface Dhcp4ClientId {
  readonly type: number;
  readonly id: Uint8Array;
}
/** Option 151 (RFC 6926 §6.2.2). */
export interface Dhcp4StatusCode {
  readonly status: number;
  readonly message: string;
}

/** The typed value of each option in the table, by code. */
export interface Dhcp4OptionValues {
  1: Uint8Array;
  3: Uint8Array[];
  6: Uint8Array[];
  12: string;
  50: Uint8Array;
  51: number;
  52: number;
  53: Dhcp4MessageType;
  54: Uint8Array;
  55: number[];
  57: number;
  58: number;
  59: number;
  61: Dhcp4ClientId;
  82: RelayAgentInformation;
  91: number;
  92: Uint8Array[];
  151: Dhcp4StatusCode;
  152: number;
  153: number;
  154: number;
  155: number;
  156: number;
  157: number;
}
export type Dhcp4OptionCode = keyof Dhcp4OptionValues;

export interface Dhcp4OptionDescriptor<C extends Dhcp4OptionCode = Dhcp4OptionCode> {
  readonly code: C;
  readonly name: string;
  readonly body: FieldCodec<Dhcp4OptionValues[C]>;
}

const messageTypeBody: FieldCodec<Dhcp4MessageType> = {
  minLength: 1,
  maxLength: 1,
  read: (r, f) => dhcp4MessageType(r.u8(f)),
  write: (w, v) => void w.u8(v.code),
  length: () => 1,
};
const clientIdBody: FieldCodec<Dhcp4ClientId> = {
  minLength: 2, // RFC 2132 §9.14
  read: (r, f) => ({ type: r.u8(`${f}.type`), id: r.rest(`${f}.id`) }),
  write: (w, v) => void w.u8(v.type).bytes(v.id),
  length: (v) => 1 + v.id.length,
};
const statusCodeBody: FieldCodec<Dhcp4StatusCode> = {
  minLength: 1,
  read: (r, f) => ({ status: r.u8(`${f}.status`), message: readUtf8(r, `${f}.message`) }),
  write: (w, v) => void w.u8(v.status).bytes(utf8Bytes(v.message)),
  length: (v) => 1 + utf8Bytes(v.message).length,
};
const relayAgentBody: FieldCodec<RelayAgentInformation> = {
  minLength: 2, // at least one sub-option header
  read: (r) => readRelayAgentInformation(r),
  write: writeRelayAgentInformation,
  length: (v) => relayAgentInformation.encodingLength(v),
};

const row = <C extends Dhcp4OptionCode>(code: C, name: string, body: FieldCodec<Dhcp4OptionValues[C]>): Dhcp4OptionDescriptor<C> => ({
  code, name, body,
});

/** One row per option code. */
export const DHCP4_OPTIONS: { readonly [C in Dhcp4OptionCode]: Dhcp4OptionDescriptor<C> } = {
  1: row(1, 'subnetMask', fixedBytes(4)),
  3: row(3, 'router', addressList(4)),
  6: row(6, 'domainNameServer', addressList(4)),
  12: row(12, 'hostName', latin1),
  50: row(50, 'requestedIpAddress', fixedBytes(4)),
  51: row(51, 'ipAddressLeaseTime', uint(4)),
  52: row(52, 'optionOverload', uint(1)),
  53: row(53, 'dhcpMessageType', messageTypeBody),
  54: row(54, 'serverIdentifier', fixedBytes(4)),
  55: row(55, 'parameterRequestList', codeList(1)),
  57: row(57, 'maximumMessageSize', uint(2)),
  58: row(58, 'renewalTime', uint(4)),
  59: row(59, 'rebindingTime', uint(4)),
  61: row(61, 'clientIdentifier', clientIdBody),
  82: row(82, 'relayAgentInformation', relayAgentBody),
  91: row(91, 'clientLastTransactionTime', uint(4)),
  92: row(92, 'associatedIp', addressList(4)),
  151: row(151, 'statusCode', statusCodeBody),
  152: row(152, 'baseTime', uint(4)),
  153: row(153, 'startTimeOfState', uint(4)),
  154: row(154, 'queryStartTime', uint(4)),
  155: row(155, 'queryEndTime', uint(4)),
  156: row(156, 'dhcpState', uint(1)),
  157: row(157, 'dataSource', uint(1)),
};

export const isDhcp4OptionCode = (code: number): code is Dhcp4OptionCode => Object.prototype.hasOwnProperty.call(DHCP4_OPTIONS, code);

/** Field names per option code, built once (not a string per lookup). */
const bodyFields: string[] = [];

/** Decode an option body (already concatenated per RFC 3396) through the table. */
export function decodeDhcp4OptionBody<C extends Dhcp4OptionCode>(code: C, body: Uint8Array): DecodeResult<Dhcp4OptionValues[C]> {
  return decodeBody(code, body, false);
}

/**
 * `decodeDhcp4OptionBody` of a body the caller made for this decode alone (a fresh
 * concatenation): its values are windows on it instead of copies.
 */
export function decodeOwnedDhcp4OptionBody<C extends Dhcp4OptionCode>(code: C, body: Uint8Array): DecodeResult<Dhcp4OptionValues[C]> {
  return decodeBody(code, body, true);
}

function decodeBody<C extends Dhcp4OptionCode>(code: C, body: Uint8Array, views: boolean): DecodeResult<Dhcp4OptionValues[C]> {
  const d = DHCP4_OPTIONS[code] as Dhcp4OptionDescriptor<C>;
  const r = new Reader(body, 0, body.length, undefined, views);
  const field = (bodyFields[code] ??= `dhcp4.option[${code}].${d.name}`);
  if (!checkLength(r, field, d.body, body.length, 0)) return r.result(undefined as never);
  const v = d.body.read(r, field);
  r.expectEnd(field);
  return r.result(v);
}

/** Encode an option body (without code/length octets) through the table. */
export function encodeDhcp4OptionBody<C extends Dhcp4OptionCode>(code: C, value: Dhcp4OptionValues[C]): Uint8Array {
  const d = DHCP4_OPTIONS[code] as Dhcp4OptionDescriptor<C>;
  const out = new Uint8Array(d.body.length(value));
  d.body.write(new Writer(out), value);
  return out;
}
