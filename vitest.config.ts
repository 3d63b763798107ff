import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Generous: tests are bounded by their number of cases and must pass on a busy two-core machine too.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // Two cores on the reference machine; the emulators take the rest.
    maxWorkers: 2,
  },
});
