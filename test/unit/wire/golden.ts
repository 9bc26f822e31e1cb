/** Loader for the captured golden vectors (see golden/capture.sh). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hex } from './kit';

export interface GoldenPacket {
  readonly frame: number;
  readonly iface: string;
  /** The datagram from the IP header on. */
  readonly ipHex: string;
  /** tshark's dissection flattened: field name → values in tshark's order. */
  readonly fields: Readonly<Record<string, readonly string[]>>;
}

export const loadGolden = (name: string): GoldenPacket[] =>
  JSON.parse(readFileSync(join(__dirname, 'golden', name), 'utf8')) as GoldenPacket[];

export const goldenBytes = (p: GoldenPacket): Uint8Array => hex(p.ipHex);
