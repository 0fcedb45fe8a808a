import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      name: 'gateway',
      testTimeout: 60_000,
      hookTimeout: 120_000,
      // Integration files start their own Redis and gateways; two cores do not run many at once.
      maxWorkers: 2,
    },
  }),
);
