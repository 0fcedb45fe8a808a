import { describe, expect, it } from 'vitest';
import { leftText } from '../src/leave-reason';

describe('leftText', () => {
  it('keeps the `<name> left` prefix and adds the reason, except for a plain quit', () => {
    expect(leftText('bob', { reason: 'quit' })).toBe('bob left');
    expect(leftText('bob', { reason: 'moved', to: 'dev' })).toBe('bob left (moved to #dev)');
    expect(leftText('bob', { reason: 'moved' })).toBe('bob left (moved to another room)');
    expect(leftText('bob', { reason: 'disconnected' })).toBe('bob left (lost connection)');
    expect(leftText('bob', { reason: 'node-failure' })).toBe('bob left (node failure)');
  });
});
