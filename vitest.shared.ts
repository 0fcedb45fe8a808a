// Vitest settings every project shares: the workspace path alias and test hygiene.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      '@chat/protocol': fileURLToPath(new URL('./libs/protocol/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    allowOnly: false,
  },
});
