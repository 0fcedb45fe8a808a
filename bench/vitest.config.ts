import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      name: 'bench',
      // The smoke run starts Redis, gateways, baselines and load generators: one file at a time.
      testTimeout: 180_000,
      hookTimeout: 60_000,
      maxWorkers: 1,
    },
  }),
);
