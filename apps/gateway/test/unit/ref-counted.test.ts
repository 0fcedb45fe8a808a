import { describe, expect, it } from 'vitest';
import { RefCounted } from '../../src/delivery/ref-counted';

describe('RefCounted', () => {
  it('opens on the first retain, shares the value, and closes on the last release', async () => {
    const log: string[] = [];
    const counted = new RefCounted<string, string>(
      (key) => {
        log.push(`open ${key}`);
        return { value: `${key}!`, ready: Promise.resolve() };
      },
      (key, value) => log.push(`close ${key} ${value}`),
    );
    const [a, b] = await Promise.all([counted.retain('x'), counted.retain('x')]);
    expect([a, b]).toEqual(['x!', 'x!']);
    counted.release('x');
    expect(counted.get('x')).toBe('x!');
    counted.release('x');
    counted.release('x');
    expect(counted.get('x')).toBeUndefined();
    expect(log).toEqual(['open x', 'close x x!']);
  });

  it('forgets a failed opening (nothing to close), so the next retain tries again', async () => {
    let attempts = 0;
    const closed: string[] = [];
    const counted = new RefCounted<string, number>(
      () => {
        attempts++;
        return {
          value: attempts,
          ready: attempts === 1 ? Promise.reject(new Error('down')) : Promise.resolve(),
        };
      },
      (key) => closed.push(key),
    );
    await expect(counted.retain('x')).rejects.toThrow('down');
    expect(counted.get('x')).toBeUndefined();
    expect(closed).toEqual([]);
    await expect(counted.retain('x')).resolves.toBe(2);
    counted.release('x');
    expect(closed).toEqual(['x']);
  });
});
