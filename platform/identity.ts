import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GlobalConfig } from '../src/config/schema';
import { hexBytes } from '../src/config/types';

/**
 * The relay's DUID: the Relay-ID of RFC 5460 §5.4.1 (and option 82.12, RFC 6925).
 * It must survive reboots so a bulk leasequery after a restart finds this relay's
 * bindings, so it lives in stable storage — the only thing gleand ever writes there,
 * and only once: a later start reads it back. `relay_id` in the config overrides it
 * (a replacement router keeps its predecessor's identity) and then nothing is written.
 *
 * Generated as DUID-UUID (RFC 6355): type 4 + 16 octets, with no dependence on
 * hardware that a replacement would not share.
 */
export const RELAY_ID_FILE = 'relay-id';
const DUID_UUID = 4;

export type Identity = { relayId: Uint8Array; origin: 'config' | 'stored' | 'generated' };

export function loadOrCreateRelayId(global: GlobalConfig): Identity {
  if (global.relay_id) return { relayId: global.relay_id, origin: 'config' };
  const file = path.join(global.state_dir, RELAY_ID_FILE);
  if (fs.existsSync(file)) {
    const parsed = hexBytes(130).parse(fs.readFileSync(file, 'utf8').trim());
    if (!parsed.ok) throw new Error(`${file}: ${parsed.error}`);
    return { relayId: parsed.value, origin: 'stored' };
  }
  const uuid = Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
  const duid = new Uint8Array(18);
  duid[1] = DUID_UUID;
  duid.set(uuid, 2);
  fs.mkdirSync(global.state_dir, { recursive: true });
  // Written to a temporary name and renamed, so a power cut never leaves half a DUID.
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${hexBytes(130).format(duid)}\n`, { mode: 0o644 });
  fs.renameSync(tmp, file);
  return { relayId: duid, origin: 'generated' };
}
