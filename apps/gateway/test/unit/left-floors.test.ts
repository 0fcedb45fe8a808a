import { describe, expect, it } from 'vitest';
import { LeftFloors, MAX_LEFT_FLOORS } from '../../src/delivery/left-floors';

describe('the positions of rooms a node stopped following', () => {
  it('keeps the last one delivered per room for keepMs, at most 1,000 rooms (the oldest go)', () => {
    let now = 0;
    const left = new LeftFloors(10_000, () => now);
    left.remember('lobby', 5, 'e1');
    left.remember('empty', 0, 'e1');
    left.remember('unknown', 3, undefined);
    left.remember('lobby', 9, 'e1');
    expect(left.live()).toEqual([{ room: 'lobby', seq: 9, epoch: 'e1' }]);
    now += 10_001;
    expect(left.live()).toEqual([]);

    for (let i = 0; i < MAX_LEFT_FLOORS + 5; i++) left.remember(`r${i}`, 1, 'e');
    const rooms = left.live().map((f) => f.room);
    expect(rooms).toHaveLength(MAX_LEFT_FLOORS);
    expect(rooms[0]).toBe('r5');
  });
});
