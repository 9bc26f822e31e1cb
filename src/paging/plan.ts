import type { Config } from '../config/config';
import type { PagingAreaConfig, PagingConfig, PagingHostConfig } from '../config/schema';
import { PAGING_ACK_STATUS } from '../wire/paging';
import { deriveHostKey, type HmacSha256 } from './auth';

/**
 * The paging areas and host keys of one configuration, resolved for lookups.
 *
 * Areas are sets of subscriber ports named by the operator, independent of the ports'
 * subnets (RFC 3154 §4.12); a port may be in several. A `paging_host` with ports has a
 * customised area of its own (§4.18): it is paged on exactly those ports.
 */
export interface Area {
  readonly id: string;
  readonly ports: readonly string[];
  readonly key: Uint8Array;
}

/** The area id a REGISTER_ACK names for a host paged on its own ports (a token, see wire/paging.ts). */
export const CUSTOM_AREA = '~custom';

export type RegisterVerdict =
  | { readonly ok: true; readonly area: string; readonly ports: readonly string[] }
  | { readonly ok: false; readonly status: number; readonly reason: 'unknown-area' | 'area-not-on-port' | 'area-not-allowed' };

export class PagingPlan {
  readonly cfg: PagingConfig;
  readonly areas = new Map<string, Area>();
  private readonly hosts = new Map<string, PagingHostConfig>();

  constructor(config: Config, private readonly hmac: HmacSha256) {
    this.cfg = config.paging;
    for (const a of config.pagingAreas) this.areas.set(a.name, toArea(a));
    for (const h of config.pagingHosts) this.hosts.set(h.name, h);
  }

  /**
   * The key of host `id`: its own, or derived from `key_master` (any id then); null for
   * an id nobody configured — its messages are forged as far as gleand can tell.
   */
  keyOf(id: string): Uint8Array | null {
    const h = this.hosts.get(id);
    if (h?.key) return h.key;
    return this.cfg.key_master ? deriveHostKey(this.cfg.key_master, id, this.hmac) : null;
  }

  /**
   * Where a REGISTER for `area`, received on `port`, tracks the host: a fixed area must
   * hold the port the host heard its advert on (§4.10), and be the host's own when its
   * section names one; a customised area overrides both (§4.18).
   */
  register(id: string, area: string, port: string): RegisterVerdict {
    const h = this.hosts.get(id);
    if (h && h.port.length > 0) return { ok: true, area: CUSTOM_AREA, ports: h.port };
    const a = this.areas.get(area);
    if (!a) return { ok: false, status: PAGING_ACK_STATUS.UNKNOWN_AREA, reason: 'unknown-area' };
    if (h?.area !== undefined && h.area !== area) return { ok: false, status: PAGING_ACK_STATUS.UNKNOWN_AREA, reason: 'area-not-allowed' };
    if (!a.ports.includes(port)) return { ok: false, status: PAGING_ACK_STATUS.UNKNOWN_AREA, reason: 'area-not-on-port' };
    return { ok: true, area: a.id, ports: a.ports };
  }
}

const toArea = (a: PagingAreaConfig): Area => ({ id: a.name, ports: [...a.port], key: a.key });
