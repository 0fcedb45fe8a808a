import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/args';

describe('parseArgs', () => {
  it('collects repeated --url in order, and validates name and room as the gateway would', () => {
    const parsed = parseArgs([
      '--url',
      'http://a:3000',
      '--url',
      'wss://b.example',
      '--name',
      'alice',
      '--room',
      'Dev',
      '--token',
      'jwt',
    ]);
    expect(parsed).toEqual({
      kind: 'run',
      settings: {
        urls: ['http://a:3000', 'wss://b.example'],
        name: 'alice',
        room: 'dev',
        token: 'jwt',
      },
    });
  });

  it('uses the local gateway of `npm start` without --url, and only the given ones with it', () => {
    expect(parseArgs([])).toEqual({ kind: 'run', settings: { urls: ['http://localhost:3000'] } });
    expect(parseArgs(['--name', 'alice'])).toEqual({
      kind: 'run',
      settings: { urls: ['http://localhost:3000'], name: 'alice' },
    });
    expect(parseArgs(['--url', 'http://b:1'])).toEqual({
      kind: 'run',
      settings: { urls: ['http://b:1'] },
    });
  });

  it('leaves out what was not given', () => {
    expect(parseArgs(['--url', 'http://a:1'])).toEqual({
      kind: 'run',
      settings: { urls: ['http://a:1'] },
    });
  });

  it.each([
    [['--url', 'nope'], 'error: --url "nope" is not a URL (e.g. http://localhost:3000)\n'],
    [['--url', 'ftp://a'], 'error: --url "ftp://a" must use http, https, ws or wss\n'],
    [
      ['--url', 'http://a', '--name', 'a b'],
      "error: --name: name must be 1-24 letters, digits, '_', '-' or '.'\n",
    ],
    [
      ['--url', 'http://a', '--name', 'user42'],
      "error: --name: 'user42' is reserved for unnamed users\n",
    ],
    [
      ['--url', 'http://a', '--room', '#general'],
      "error: --room: room must be 1-32 of a-z, 0-9, '_', '-', starting with a letter or digit\n",
    ],
    [['--url', 'http://a', '--colour'], "error: unknown option '--colour'\n"],
    [['--url', 'http://a', 'extra'], expect.stringMatching(/^error: too many arguments/)],
  ])('refuses %j with exit status 2 and one clear message', (argv, stderr) => {
    expect(parseArgs(argv)).toEqual({ kind: 'exit', code: 2, stdout: '', stderr });
  });

  it('prints help on stdout with status 0', () => {
    const parsed = parseArgs(['--help']);
    expect(parsed).toMatchObject({ kind: 'exit', code: 0, stderr: '' });
    expect(parsed.kind === 'exit' && parsed.stdout).toMatch(/^Usage: chat \[options\]/);
  });

  it('takes the token from CHAT_TOKEN when --token is absent', () => {
    process.env.CHAT_TOKEN = 'from-env';
    try {
      expect(parseArgs(['--url', 'http://a'])).toMatchObject({ settings: { token: 'from-env' } });
    } finally {
      delete process.env.CHAT_TOKEN;
    }
  });
});
