import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // Builds dist/driftshield.cjs once, for the tests that spawn the CLI.
    globalSetup: ['test/global-setup.ts'],
    // CI also writes a JSON report, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Unhandled errors fail the run: a swallowed rejection is a hidden bug.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
