import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      name: 'infra',
      // One compose stack at a time: it builds an image and starts five containers.
      fileParallelism: false,
      testTimeout: 90_000,
      // Building the gateway image from a cold cache (npm ci) dominates start-up.
      hookTimeout: 300_000,
    },
  }),
);
