import { describe, expect, it } from 'vitest';
import { whereLine } from '../../src/http/where';

describe('whereLine', () => {
  it('says where the chat is and how to join from a terminal', () => {
    expect(whereLine('0.0.0.0', 3000)).toBe(
      'Chat running: open http://localhost:3000 in a browser, or join from a terminal with: npm run chat -- --name alice',
    );
    expect(whereLine('127.0.0.1', 3001)).toBe(
      'Chat running: open http://127.0.0.1:3001 in a browser, or join from a terminal with: npm run chat -- --url http://127.0.0.1:3001 --name alice',
    );
  });
});
