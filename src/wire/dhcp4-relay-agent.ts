/**
 * DHCPv4 Relay Agent Information option body (option 82, RFC 3046 §2.0): a sequence of
 * sub-options, each code + length + value.
 *
 *        SubOpt  Len     Sub-option Value
 *       +------+------+------+------+------+------+--...-+------+
 *       |  1   |   N  |  s1  |  s2  |  s3  |  s4  |      |  sN  |
 *       +------+------+------+------+------+------+--...-+------+
 *
 * Typed sub-options: 1 circuit-id, 2 remote-id (RFC 3046), 5 link-selection (RFC 3527),
 * 11 server-id-override (RFC 5107), 12 relay-id (RFC 6925, a DUID), 19 relay-port
 * (RFC 8357 §5.1, the relay's source port). Unknown sub-options are kept raw, in order.
 */
import { Reader, Writer, defineCodec, type Codec } from './cursor';
import { checkLength, fixedBytes, opaque, uint, type FieldCodec } from './fields';

export type RelayAgentSubOption =
  | { readonly kind: 'circuitId'; readonly circuitId: Uint8Array }
  | { readonly kind: 'remoteId'; readonly remoteId: Uint8Array }
  | { readonly kind: 'linkSelection'; readonly address: Uint8Array }
  | { readonly kind: 'serverIdOverride'; readonly address: Uint8Array }
  | { readonly kind: 'relayId'; readonly relayId: Uint8Array }
  | { readonly kind: 'relayPort'; readonly port: number }
  | { readonly kind: 'unknown'; readonly code: number; readonly data: Uint8Array };

export type RelayAgentInformation = readonly RelayAgentSubOption[];

type KnownKind = Exclude<RelayAgentSubOption['kind'], 'unknown'>;

interface SubDescriptor<K extends KnownKind> {
  readonly code: number;
  readonly kind: K;
  readonly body: FieldCodec<unknown>;
  make(v: unknown): Extract<RelayAgentSubOption, { kind: K }>;
  value(s: Extract<RelayAgentSubOption, { kind: K }>): unknown;
}

const row = <K extends KnownKind, V>(
  code: number,
  kind: K,
  body: FieldCodec<V>,
  make: (v: V) => Extract<RelayAgentSubOption, { kind: K }>,
  value: (s: Extract<RelayAgentSubOption, { kind: K }>) => V,
): SubDescriptor<K> => ({ code, kind, body: body as FieldCodec<unknown>, make: make as (v: unknown) => never, value });

/** One row per sub-option code (CONVENTIONS 4). */
export const RELAY_AGENT_SUBOPTIONS: readonly SubDescriptor<KnownKind>[] = [
  row(1, 'circuitId', opaque(1), (circuitId) => ({ kind: 'circuitId', circuitId }), (s) => s.circuitId),
  row(2, 'remoteId', opaque(1), (remoteId) => ({ kind: 'remoteId', remoteId }), (s) => s.remoteId),
  row(5, 'linkSelection', fixedBytes(4), (address) => ({ kind: 'linkSelection', address }), (s) => s.address),
  row(11, 'serverIdOverride', fixedBytes(4), (address) => ({ kind: 'serverIdOverride', address }), (s) => s.address),
  row(12, 'relayId', opaque(1), (relayId) => ({ kind: 'relayId', relayId }), (s) => s.relayId),
  row(19, 'relayPort', uint(2), (port) => ({ kind: 'relayPort', port }), (s) => s.port),
] as readonly SubDescriptor<KnownKind>[];

const byCode = new Map(RELAY_AGENT_SUBOPTIONS.map((d) => [d.code, d]));
const byKind = new Map(RELAY_AGENT_SUBOPTIONS.map((d) => [d.kind, d]));

export const relayAgentSubOptionCode = (s: RelayAgentSubOption): number =>
  s.kind === 'unknown' ? s.code : byKind.get(s.kind)!.code;

function bodyLength(s: RelayAgentSubOption): number {
  if (s.kind === 'unknown') return s.data.length;
  const d = byKind.get(s.kind)!;
  return d.body.length(d.value(s as never));
}

export function readRelayAgentInformation(r: Reader): RelayAgentSubOption[] {
  const out: RelayAgentSubOption[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const code = r.u8('option82.subOption');
    const len = r.u8(`option82[${code}].length`);
    const body = r.sub(`option82[${code}]`, len, at + 1);
    const d = byCode.get(code);
    if (!d) {
      out.push({ kind: 'unknown', code, data: body.rest(`option82[${code}]`) });
    } else {
      const field = `option82.${d.kind}`;
      if (!checkLength(r, field, d.body, len, at + 1)) break;
      const v = d.body.read(body, field);
      body.expectEnd(field);
      out.push(d.make(v));
    }
    if (r.failed) break;
  }
  return out;
}

export function writeRelayAgentInformation(w: Writer, info: RelayAgentInformation): void {
  for (const s of info) {
    const len = bodyLength(s);
    if (len > 255) throw new RangeError('option82: sub-option longer than 255 bytes');
    w.u8(relayAgentSubOptionCode(s)).u8(len);
    if (s.kind === 'unknown') w.bytes(s.data);
    else {
      const d = byKind.get(s.kind)!;
      d.body.write(w, d.value(s as never));
    }
  }
}

export const relayAgentInformationLength = (info: RelayAgentInformation): number =>
  info.reduce((n, s) => n + 2 + bodyLength(s), 0);

/** Codec over the option 82 body (without the option's own code and length). */
export const relayAgentInformation: Codec<RelayAgentInformation> = defineCodec('option82', {
  read: readRelayAgentInformation,
  write: writeRelayAgentInformation,
  length: relayAgentInformationLength,
});

/** First sub-option of a kind, typed. */
export function findSubOption<K extends RelayAgentSubOption['kind']>(
  info: RelayAgentInformation,
  kind: K,
): Extract<RelayAgentSubOption, { kind: K }> | undefined {
  return info.find((s) => s.kind === kind) as Extract<RelayAgentSubOption, { kind: K }> | undefined;
}
