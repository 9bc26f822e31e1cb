import type { Config } from './config/config';

/**
 * Everything that can happen to the core. The platform translates I/O into these;
 * modules never see a socket, a file or a clock.
 */
export type Event =
  /** Initial load and every accepted reload. Modules diff against their previous config. */
  | { readonly kind: 'config'; readonly config: Config }
  /**
   * A datagram received on a named port (a UCI `upstream` or `subscriber` section).
   * `bytes` start at the IP header; `mac` is the link-layer source when known.
   */
  | {
      readonly kind: 'packet';
      readonly port: string;
      readonly family: 4 | 6;
      readonly bytes: Uint8Array;
      readonly mac?: Uint8Array;
    };

export type EventKind = Event['kind'];
