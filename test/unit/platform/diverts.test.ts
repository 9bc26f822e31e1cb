/**
 * The paging divert's nftables script (platform/kernel/diverts.ts): with paging on, the
 * dormant sets and a prerouting chain that copies a packet toward a member to gleand's
 * NFLOG group and drops it, and the host messages on the area ports kept from the local
 * stack; with paging off, all of it removed.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../../src/config/config';
import { divertScript, LOG_PREFIX_DORMANT } from '../../../platform/kernel/diverts';

const BASE = `
config global
	option nft_table 'gl'
	option nflog_group '7'
config upstream 'wan'
	option device 'up0'
config subscriber 'lan1'
	option device 'eth1'
	option upstream 'wan'
	option relay_v4 '0'
	option relay_v6 '0'
`;
const PAGING = `
config paging
	option enabled '1'
	option port '4000'
	option key_master '0123456789abcdef0123456789abcdef'
config paging_area 'lobby'
	list port 'lan1'
	option key '0123456789abcdef0123456789abcdef'
`;

function cfg(text: string): Config {
  const r = loadConfig(text, 'test');
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

describe('paging divert ruleset (platform/kernel/diverts.ts)', () => {
  it('paging on: sets, copy-and-drop rules in prerouting, and the paging port kept from the local stack', () => {
    const s = divertScript(cfg(BASE + PAGING), ['eth1']);
    expect(s).toContain('add set inet gl dormant4 { type ipv4_addr; }');
    expect(s).toContain('add set inet gl dormant6 { type ipv6_addr; }');
    expect(s).toContain('add chain inet gl paging_divert { type filter hook prerouting priority raw; policy accept; }');
    expect(s).toMatch(new RegExp(`ip daddr @dormant4 limit rate \\d+/second burst \\d+ packets log group 7 prefix "${LOG_PREFIX_DORMANT}"`));
    expect(s).toContain('ip daddr @dormant4 counter name paging_divert_drop drop');
    expect(s).toContain('ip6 daddr @dormant6 counter name paging_divert_drop drop');
    expect(s).toContain('iifname { "eth1" } udp dport 4000 drop');
  });

  it('paging off: the chain, sets and counter are removed (idempotently)', () => {
    const s = divertScript(cfg(BASE), []);
    expect(s).toContain('delete chain inet gl paging_divert');
    expect(s).toContain('delete set inet gl dormant4');
    expect(s).not.toContain('log group');
  });
});
