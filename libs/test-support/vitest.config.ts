import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineConfig({
    // Starts one Redis container and a few gateway processes: generous hooks, one file at a time.
    test: { name: 'test-support', testTimeout: 60_000, hookTimeout: 120_000, maxWorkers: 1 },
  }),
);
