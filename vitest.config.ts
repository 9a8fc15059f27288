import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // Builds dist/driftshield.cjs once, for the tests that spawn the CLI.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Unhandled errors fail the run: a swallowed rejection is a hidden bug.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
