import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      name: 'soak',
      // The soak itself runs 60 s plus start-up and convergence: one file at a time.
      testTimeout: 180_000,
      hookTimeout: 60_000,
      maxWorkers: 1,
    },
  }),
);
