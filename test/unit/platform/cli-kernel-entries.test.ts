/** `gleand status`'s kernel entry table (platform/cli/kernel-entries.ts) from the kernel driver's status section. */
import { describe, expect, it } from 'vitest';
import { renderKernelEntries } from '../../../platform/cli/kernel-entries';

describe('renderKernelEntries', () => {
  it('lists the kinds with entries, desired beside installed, and the last reconcile', () => {
    const text = renderKernelEntries({ kernel: {
      entries: [
        { kind: 'routes_host', family: 4, desired: 2, installed: 2 },
        { kind: 'routes_pd', family: 6, desired: 1, installed: 0 },
        { kind: 'mroutes', family: 4, desired: 0, installed: 0 },
      ],
      lastReconcile: { added: 1, removed: 0, replaced: 0 }, lastReconcileMsAgo: 12_400,
    } });
    expect(text).toBe([
      'KERNEL ENTRIES  FAMILY  DESIRED  INSTALLED',
      'routes_host     4       2        2',
      'routes_pd       6       1        0',
      '',
      'last reconcile  12 s ago: added 1, removed 0, replaced 0',
    ].join('\n'));
  });

  it('is absent without a kernel driver, and says when no reconcile ran yet', () => {
    expect(renderKernelEntries({})).toBeNull();
    expect(renderKernelEntries({ kernel: { entries: [], lastReconcile: { added: 0, removed: 0, replaced: 0 }, lastReconcileMsAgo: null } }))
      .toContain('last reconcile  not yet');
  });
});
