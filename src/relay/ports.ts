import type { Config } from '../config/config';
import type { SubscriberConfig, UpstreamConfig } from '../config/schema';
import { parseIPv6 } from '../wire/address';
import { utf8Bytes } from '../wire';

/**
 * The relay's view of the configured ports, indexed the ways replies name them:
 * by giaddr and circuit-id (DHCPv4, RFC 3046 §2.2 — the server echoes option 82),
 * by Interface-ID (DHCPv6, RFC 8415 §19.1.3 — the server copies it back).
 */
export interface SubscriberPort {
  readonly cfg: SubscriberConfig;
  readonly upstream: UpstreamConfig;
  readonly circuitId: Uint8Array;
  readonly interfaceId: Uint8Array;
  readonly remoteId: Uint8Array | null;
  readonly remoteIdV6: Uint8Array | null;
}

/** RFC 8415 §7.1 All_DHCP_Servers, the default destination of relayed DHCPv6. */
export const ALL_DHCP_SERVERS = parseIPv6('ff05::1:3')!;

/**
 * A Map key for bytes: one char per octet. Looked up for every reply (server address,
 * circuit-id, Interface-ID), so it is built with one call rather than hex digits per
 * octet. Identifiers here are option bodies (at most 65,535 octets, in practice a few
 * dozen), well under the engine's argument limit; longer ones are built in chunks.
 */
const keyOf = (b: Uint8Array): string => {
  if (b.length <= 1024) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = '';
  for (let i = 0; i < b.length; i += 1024) s += String.fromCharCode.apply(null, b.subarray(i, i + 1024) as unknown as number[]);
  return s;
};

export class PortMap {
  readonly subscribers = new Map<string, SubscriberPort>();
  private readonly byCircuitId = new Map<string, SubscriberPort>();
  private readonly byInterfaceId = new Map<string, SubscriberPort>();
  private readonly byGiaddr = new Map<string, SubscriberPort[]>();
  private readonly servers4 = new Set<string>();
  private readonly servers6 = new Set<string>();
  /** True when some upstream relays DHCPv6 to a multicast group: any source may answer. */
  readonly anyServer6: boolean;

  constructor(config: Config) {
    const upstreams = new Map(config.upstreams.map((u) => [u.name, u]));
    for (const u of config.upstreams) {
      for (const s of u.dhcpv4_server) this.servers4.add(keyOf(s));
      for (const s of u.dhcpv6_server) this.servers6.add(keyOf(s));
    }
    this.anyServer6 = config.upstreams.some((u) => u.dhcpv6_server.length === 0 || u.dhcpv6_server.some((a) => a[0] === 0xff));
    for (const cfg of config.subscribers) {
      const port: SubscriberPort = {
        cfg,
        upstream: upstreams.get(cfg.upstream)!,
        circuitId: utf8Bytes(cfg.circuit_id ?? cfg.name),
        interfaceId: utf8Bytes(cfg.interface_id ?? cfg.name),
        remoteId: cfg.remote_id === undefined ? null : utf8Bytes(cfg.remote_id),
        remoteIdV6: cfg.remote_id_v6 === undefined ? null : utf8Bytes(cfg.remote_id_v6),
      };
      this.subscribers.set(cfg.name, port);
      this.byCircuitId.set(keyOf(port.circuitId), port);
      this.byInterfaceId.set(keyOf(port.interfaceId), port);
      if (cfg.giaddr) {
        const list = this.byGiaddr.get(keyOf(cfg.giaddr)) ?? [];
        list.push(port);
        this.byGiaddr.set(keyOf(cfg.giaddr), list);
      }
    }
  }

  port(name: string): SubscriberPort | undefined {
    return this.subscribers.get(name);
  }

  isServer4(address: Uint8Array): boolean {
    return this.servers4.has(keyOf(address));
  }

  isServer6(address: Uint8Array): boolean {
    return this.anyServer6 || this.servers6.has(keyOf(address));
  }

  /**
   * A listed `dhcpv6_server` address, without the any-source rule of multicast upstreams:
   * what a server reply that bypassed the relay must come from to be believed.
   */
  isConfiguredServer6(address: Uint8Array): boolean {
    return this.servers6.has(keyOf(address));
  }

  byCircuit(circuitId: Uint8Array): SubscriberPort | undefined {
    return this.byCircuitId.get(keyOf(circuitId));
  }

  byInterface(interfaceId: Uint8Array): SubscriberPort | undefined {
    return this.byInterfaceId.get(keyOf(interfaceId));
  }

  /** The ports using a giaddr; several ports may share one subnet and one giaddr. */
  byGateway(giaddr: Uint8Array): readonly SubscriberPort[] {
    return this.byGiaddr.get(keyOf(giaddr)) ?? [];
  }
}
