import { describe, expect, it } from 'vitest';
import { backlogFlat, keepUpLine, type ArchiveStepResult } from '../src/archive';

const step: ArchiveStepResult = {
  system: 'ours',
  size: 0,
  archivedRows: 25_200,
  rate: 3_600,
  sent: 25_200,
  deliveryP99Ms: 812.4,
  backlogMax: 1_400,
  backlogMid: 900,
  backlogEnd: 1_100,
  drainMs: 240,
  writtenPerSec: 3_500,
  missing: 0,
  flat: true,
};

describe("the archive scenario's verdict", () => {
  it('calls a backlog flat when it grew by less than a quarter second of the rate', () => {
    expect(backlogFlat(3_600, 900, 1_100)).toBe(true);
    expect(backlogFlat(3_600, 22_743, 61_838)).toBe(false);
    expect(backlogFlat(1_000, 5_064, 3_827)).toBe(true);
  });

  it('says plainly, per step, whether the archive kept up', () => {
    expect(keepUpLine(step)).toBe(
      'archive keep-up ours at 3,600 msg/s, 0 rows: backlog FLAT (kept up); backlog mid 900 -> end 1,100 (max 1,400), drained in 0.2 s, archived 25,200/25,200, delivery p99 812 ms',
    );
    expect(keepUpLine({ ...step, system: 'ours-ref', flat: false })).toContain(
      'ours-ref at 3,600 msg/s, 0 rows: backlog GREW (fell behind)',
    );
  });
});
