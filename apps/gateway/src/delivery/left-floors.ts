/** Rooms a node remembers after it stopped following them, at most (oldest go first). @default 1_000 */
export const MAX_LEFT_FLOORS = 1_000;

interface Floor {
  seq: number;
  epoch: string;
  at: number;
}

/**
 * The positions this node delivered in rooms it no longer follows (its last member left). After
 * the broker lost or rolled back data the node raises those rooms back too (see Relay
 * repairRooms), so a position it delivered is not given to another message just because no live
 * node follows the room any more. Kept for `keepMs` (ROOM_TTL_S: the log would have expired by
 * then, and the room rightly starts over), at most MAX_LEFT_FLOORS rooms.
 */
export class LeftFloors {
  private readonly floors = new Map<string, Floor>();

  constructor(
    private readonly keepMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The node stopped following `room` having delivered up to `seq` in `epoch`. */
  remember(room: string, seq: number, epoch: string | undefined): void {
    if (epoch === undefined || seq <= 0) return;
    this.floors.delete(room);
    this.floors.set(room, { seq, epoch, at: this.now() });
    for (const oldest of this.floors.keys()) {
      if (this.floors.size <= MAX_LEFT_FLOORS) break;
      this.floors.delete(oldest);
    }
  }

  /** The rooms to raise after a loss, each with the highest seq delivered and its epoch. */
  live(): { room: string; seq: number; epoch: string }[] {
    const oldest = this.now() - this.keepMs;
    for (const [room, floor] of this.floors) if (floor.at < oldest) this.floors.delete(room);
    return [...this.floors].map(([room, { seq, epoch }]) => ({ room, seq, epoch }));
  }
}
