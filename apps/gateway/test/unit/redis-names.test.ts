import { nameKey } from '@chat/protocol';
import { describe, expect, it } from 'vitest';
import { RedisNames } from '../../src/broker/redis/names';

describe('RedisNames: a name claim key', () => {
  it('is one key for names that are one name, and another for another name, asked again and again', () => {
    const names = new RedisNames('chat');
    for (let round = 0; round < 3; round++) {
      expect(names.name('Bob')).toBe(names.name('bob'));
      expect(names.name('b0b')).toBe(names.name('BOB'));
      expect(names.name('саrol')).toBe(names.name('carol'));
      expect(names.name('alice')).not.toBe(names.name('bob'));
      expect(names.nameHold('Straße')).toBe(names.nameHold('STRASSE'));
      expect(names.dmHolder('ｄａｖｅ')).toBe(names.dmHolder('dave'));
    }
  });

  it('stays right after more distinct names than it remembers', () => {
    const names = new RedisNames('chat');
    const first = names.name('Dave');
    for (let i = 0; i < 70_000; i++) names.name(`user${i}`);
    expect(names.name('dave')).toBe(first);
    expect(names.name('USER69999')).toBe(`chat:name:${nameKey('user69999')}`);
  });
});
