import type { Action } from '../src/actions';
import type { Config } from '../src/config/config';
import { hexBytes } from '../src/config/types';
import type { Driver, DriverContext } from './driver';
import { loadOrCreateRelayId, type Identity } from './identity';

/** Hands the relay DUID (config, else stable storage, else generated once) to the core. */
export class IdentityDriver implements Driver {
  readonly name = 'identity';
  readonly actionKinds = [] as const;
  private identity: Identity | null = null;
  private ctx!: DriverContext;

  async start(config: Config, ctx: DriverContext): Promise<void> {
    this.ctx = ctx;
    await this.reconfigure(config);
  }

  async reconfigure(config: Config): Promise<void> {
    const id = loadOrCreateRelayId(config.global);
    if (this.identity && hexBytes(130).format(id.relayId) === hexBytes(130).format(this.identity.relayId)) return;
    this.identity = id;
    this.ctx.log('info', 'identity', 'relay DUID', { duid: hexBytes(130).format(id.relayId), origin: id.origin });
    this.ctx.emit({ kind: 'identity', relayId: id.relayId });
  }

  execute(_a: Action): void {}

  async stop(): Promise<void> {}

  status(): Record<string, unknown> {
    return this.identity ? { relayId: hexBytes(130).format(this.identity.relayId), origin: this.identity.origin } : {};
  }
}
