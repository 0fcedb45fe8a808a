// Vitest settings every project shares: the workspace path alias, test hygiene, and the
// environment for tests that need Docker (image names, Testcontainers without Ryuk).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** infra/.env, written by infra/offline-images.sh on machines without a registry. */
function infraEnv(): Record<string, string> {
  const file = root('./infra/.env');
  if (!existsSync(file)) return {};
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim().match(/^([A-Z_][A-Z0-9_]*)=(.*)$/))
    .filter((match): match is RegExpMatchArray => match !== null)
    .map((match) => [match[1] ?? '', match[2] ?? ''] as const);
  return Object.fromEntries(entries);
}

const images = infraEnv();

export default defineConfig({
  resolve: {
    alias: {
      '@chat/protocol': root('./libs/protocol/src/index.ts'),
      '@chat/test-support': root('./libs/test-support/src/index.ts'),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    allowOnly: false,
    env: {
      // The official images unless told otherwise (env var, then infra/.env).
      REDIS_IMAGE: process.env.REDIS_IMAGE ?? images.REDIS_IMAGE ?? 'redis:7',
      NODE_IMAGE: process.env.NODE_IMAGE ?? images.NODE_IMAGE ?? 'node:20-bookworm-slim',
      HAPROXY_IMAGE: process.env.HAPROXY_IMAGE ?? images.HAPROXY_IMAGE ?? 'haproxy:2.6',
      POSTGRES_IMAGE: process.env.POSTGRES_IMAGE ?? images.POSTGRES_IMAGE ?? 'postgres:15',
      TESTCONTAINERS_RYUK_DISABLED: process.env.TESTCONTAINERS_RYUK_DISABLED ?? 'true',
    },
  },
});
