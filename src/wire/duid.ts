/**
 * DHCP Unique Identifier (RFC 8415 §11). Options carry DUIDs as opaque bytes; this
 * module reads their structure when a caller needs it.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |           DUID-Type           |    type-specific contents ...
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *  1 DUID-LLT  (§11.2): hardware type (2), time (4, seconds since 2000-01-01), link-layer address
 *  2 DUID-EN   (§11.3): enterprise number (4), identifier
 *  3 DUID-LL   (§11.4): hardware type (2), link-layer address
 *  4 DUID-UUID (RFC 6355): 16-octet UUID
 * Other types decode to `unknown` with their contents kept.
 */
import { Reader, defineCodec, type Codec, type DecodeResult } from './cursor';

export type Duid =
  | { readonly type: 'llt'; readonly hardwareType: number; readonly time: number; readonly linkLayerAddress: Uint8Array }
  | { readonly type: 'en'; readonly enterpriseNumber: number; readonly identifier: Uint8Array }
  | { readonly type: 'll'; readonly hardwareType: number; readonly linkLayerAddress: Uint8Array }
  | { readonly type: 'uuid'; readonly uuid: Uint8Array }
  | { readonly type: 'unknown'; readonly duidType: number; readonly data: Uint8Array };

export const DUID_LLT = 1;
export const DUID_EN = 2;
export const DUID_LL = 3;
export const DUID_UUID = 4;

/** The DUID-Type of an opaque DUID, or undefined if it is shorter than 2 octets. */
export const duidType = (duid: Uint8Array): number | undefined =>
  duid.length >= 2 ? (duid[0]! << 8) | duid[1]! : undefined;

export const duid: Codec<Duid> = defineCodec('duid', {
  read: (r: Reader): Duid => {
    const t = r.u16('duid.type');
    switch (t) {
      case DUID_LLT:
        return { type: 'llt', hardwareType: r.u16('duid.hardwareType'), time: r.u32('duid.time'), linkLayerAddress: r.rest('duid.linkLayerAddress') };
      case DUID_EN:
        return { type: 'en', enterpriseNumber: r.u32('duid.enterpriseNumber'), identifier: r.rest('duid.identifier') };
      case DUID_LL:
        return { type: 'll', hardwareType: r.u16('duid.hardwareType'), linkLayerAddress: r.rest('duid.linkLayerAddress') };
      case DUID_UUID:
        return { type: 'uuid', uuid: r.bytesN('duid.uuid', 16) };
      default:
        return { type: 'unknown', duidType: t, data: r.rest('duid.data') };
    }
  },
  write: (w, d) => {
    switch (d.type) {
      case 'llt': w.u16(DUID_LLT).u16(d.hardwareType).u32(d.time).bytes(d.linkLayerAddress); break;
      case 'en': w.u16(DUID_EN).u32(d.enterpriseNumber).bytes(d.identifier); break;
      case 'll': w.u16(DUID_LL).u16(d.hardwareType).bytes(d.linkLayerAddress); break;
      case 'uuid': w.u16(DUID_UUID).bytes(d.uuid); break;
      case 'unknown': w.u16(d.duidType).bytes(d.data); break;
    }
  },
  length: (d) => {
    switch (d.type) {
      case 'llt': return 8 + d.linkLayerAddress.length;
      case 'en': return 6 + d.identifier.length;
      case 'll': return 4 + d.linkLayerAddress.length;
      case 'uuid': return 2 + d.uuid.length;
      case 'unknown': return 2 + d.data.length;
    }
  },
});

export const decodeDuid = (bytes: Uint8Array): DecodeResult<Duid> => duid.decode(bytes);
