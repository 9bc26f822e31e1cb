/**
 * The paging divert's nftables script (platform/kernel/diverts.ts): with paging on, the
 * dormant sets and a prerouting chain that copies a packet toward a member to gleand's
 * NFLOG group and drops it, and the host messages on the area ports kept from the local
 * stack; with paging off, all of it removed.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../../src/config/config';
import { divertScript, LOG_PREFIX_DORMANT, LOG_PREFIX_WIDE } from '../../../platform/kernel/diverts';

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
    // RFC 3154 §4.3: wide cast forwarded toward a watched port is copied, never dropped; DHCP and the paging port never.
    expect(s).toContain('add set inet gl wake_bcast { type ifname; }');
    expect(s).toContain('add chain inet gl paging_wake { type filter hook forward priority filter; policy accept; }');
    expect(s).toContain('meta l4proto udp udp dport { 67, 68, 546, 547, 4000 } return');
    expect(s).toMatch(new RegExp(`oifname @wake_mcast ip daddr 224\\.0\\.0\\.0/4 limit rate \\d+/second .* log group 7 prefix "${LOG_PREFIX_WIDE}"`));
    expect(s).toMatch(/oifname @wake_bcast meta nfproto ipv4 fib daddr type broadcast limit rate/);
    expect(s.split('\n').filter((l) => l.includes('paging_wake') && l.includes(' drop'))).toEqual([]);
  });

  it('paging off: the chain, sets and counter are removed (idempotently)', () => {
    const s = divertScript(cfg(BASE), []);
    expect(s).toContain('delete chain inet gl paging_divert');
    expect(s).toContain('delete set inet gl dormant4');
    expect(s).toContain('delete chain inet gl paging_wake');
    expect(s).toContain('delete set inet gl wake_mcast');
    expect(s).not.toContain('log group');
  });
});
