import { describe, expect, it } from 'vitest';
import { usableLinkLocal } from '../../../platform/links';

// /proc/net/if_inet6 as the kernel prints it: address, ifindex, prefix length, scope, flags, device.
const table = [
  'fe800000000000000000000000000dad 00000007 40 20 c0     sub0', // TENTATIVE | PERMANENT: DAD running
  'fe800000000000000000000000000bad 00000007 40 20 c8     sub0', // TENTATIVE | DADFAILED | PERMANENT
  'fd000000000000000000000000000001 00000007 40 00 80     sub0', // global
  'fe800000000000000000000000000002 00000008 40 20 80     sub1',
  'fe800000000000000000000000000001 00000007 40 20 80     sub0', // usable
  '00000000000000000000000000000001 01 80 10 80       lo', // older kernels print the index with %02x
].join('\n');

describe('usableLinkLocal', () => {
  it('skips tentative and DADFAILED addresses (RFC 4862 §5.4), other scopes and other devices', () => {
    expect(usableLinkLocal(7, table)).toEqual(Uint8Array.from([0xfe, 0x80, ...Array(13).fill(0), 1]));
    expect(usableLinkLocal(8, table)).toEqual(Uint8Array.from([0xfe, 0x80, ...Array(13).fill(0), 2]));
  });

  it('is null while the only link-local is tentative, and for a missing or garbled table', () => {
    expect(usableLinkLocal(7, table.split('\n').slice(0, 3).join('\n'))).toBeNull();
    expect(usableLinkLocal(1, table)).toBeNull();
    expect(usableLinkLocal(7, null)).toBeNull();
    expect(usableLinkLocal(7, 'fe80 7 40 20 80 x\n\n  \nzz')).toBeNull();
  });
});
