import { defineConfig } from 'vitest/config';

// Root is the repository; this file lives in test/ because the top level is fixed.
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    // e2e suites build network namespaces and run real daemons: one file at a time
    // keeps the 2-core CI machine from timing out peers (dhcpd, clients).
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
