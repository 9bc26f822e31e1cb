// `gleand host` options: every flag is checked before a socket is opened (a usage error
// is exit 2 whatever the network), and the settings the machine gets are what was asked.
import { describe, expect, it } from 'vitest';
import { hostSettings } from '../../../platform/cli/host';
import { UsageError } from '../../../platform/cli/command';
import { deriveHostKey } from '../../../src/paging/auth';
import { parseIPv6 } from '../../../src/wire/address';
import { hmac, MASTER, v4 } from './kit';

const HEX = 'a0'.repeat(16);
const flags = (o: Record<string, string>) => new Map<string, string | true>(Object.entries(o));
const base = { '--id': 'laptop', '--key': '5b'.repeat(16), '--area-key': HEX, '--iface': 'lo', '--address': '198.51.100.7' };

describe('gleand host: options', () => {
  it('builds the settings: keys, area keys, addresses, correspondents, wake bits, mode; the counter from the clock in µs', () => {
    const s = hostSettings(flags({
      ...base, '--area-key': `lobby=${HEX},${'b1'.repeat(20)}`, '--allow': '203.0.113.5,2001:db8::/32', '--wake': 'broadcast,multicast',
      '--mode': 'both', '--lifetime': '3600', '--area': 'lobby',
    }), 1_700_000_000_000);
    expect(s.settings).toMatchObject({ id: 'laptop', area: 'lobby', mode: 3, wake: 3, lifetimeS: 3600, counterSeed: 1_700_000_000_000_000n });
    expect([...s.settings.areaKeys.keys()]).toEqual(['lobby']);
    expect(s.settings.anyAreaKey?.length).toBe(20);
    expect(s.settings.addresses).toEqual([v4('198.51.100.7')]);
    expect(s.settings.correspondents).toEqual([{ address: v4('203.0.113.5'), length: 32 }, { address: parseIPv6('2001:db8::'), length: 32 }]);
    expect([s.iface, s.family, s.port]).toEqual(['lo', 4, 3154]);
  });

  it('--master derives the key as the agent does from key_master (PROTOCOL.md §4.1)', () => {
    const { '--key': _, ...rest } = base;
    const s = hostSettings(flags({ ...rest, '--master': MASTER }));
    expect(s.settings.key).toEqual(deriveHostKey(Buffer.from(MASTER, 'hex'), 'laptop', hmac));
  });

  it('refuses what it cannot use, as a usage error', () => {
    const bad: Record<string, string>[] = [
      { ...base, '--id': 'two words' },
      { ...base, '--key': 'abcd' },
      { ...base, '--master': MASTER },
      { ...base, '--area-key': '' },
      { ...base, '--mode': 'sleepy' },
      { ...base, '--family': '5' },
      { ...base, '--allow': 'nowhere' },
      { ...base, '--wake': 'unicast' },
      { ...base, '--lifetime': '0' },
      { ...base, '--address': '2001:db8::1' },
    ];
    for (const b of bad) expect(() => hostSettings(flags(b)), JSON.stringify(b)).toThrow(UsageError);
  });
});
