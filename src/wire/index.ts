/** Byte codecs (CONVENTIONS 2–6): every decoder returns a DecodeResult and never throws. */
export * from './cursor';
export * from './checksum';
export * from './fields';
export * from './ipv4';
export * from './ipv6';
export * from './udp';
export * from './dhcp4-relay-agent';
export * from './dhcp4-options';
export * from './dhcp4';
export * from './duid';
export * from './dhcp6-options';
export * from './dhcp6';
export * from './peek';
export * from './dhcp6-leasequery';
export * from './mcast';
export * from './igmp';
export * from './mld';
