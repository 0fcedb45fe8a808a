import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('invalid configuration', () => {
  it.each([
    [{ PORT: 'eighty' }, 'gateway: invalid PORT="eighty": expected an integer from 0 to 65535\n'],
    [
      { REDIS_URL: 'localhost:6379' },
      'gateway: invalid REDIS_URL="localhost:6379": expected a redis:// or rediss:// URL\n',
    ],
    [
      { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_SENTINELS: '127.0.0.1:26379' },
      'gateway: invalid REDIS_SENTINELS="127.0.0.1:26379": expected unset when REDIS_URL is set (use one)\n',
    ],
    [
      { LOG_LEVEL: 'chatty' },
      'gateway: invalid LOG_LEVEL="chatty": expected one of fatal, error, warn, info, debug, trace, silent\n',
    ],
    [
      { AUTH_SECRET: 'short' },
      'gateway: invalid AUTH_SECRET="<hidden>": expected at least 16 characters\n',
    ],
  ])('%j stops the gateway at start-up with a line naming the setting', async (env, line) => {
    expect(await start(env)).toEqual({ code: 2, stderr: line });
  });
});
