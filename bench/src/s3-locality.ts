import { SYSTEMS, type SystemName } from './cluster';
import { nowMs } from './clock';
import { say } from './out';
import type { ScenarioSettings } from './scenarios';
import { Session, type BenchEnv, type Layout } from './session';
import type { StepResult } from './step';
import { measure } from './sweep';

export interface S3Row {
  nodes: number;
  system: SystemName;
  step: StepResult;
  /** Bus bytes per second each node received. */
  busRx: number[];
  /** Estimated share of those bytes that were for rooms without members on the node. */
  foreignShare: number;
}

/**
 * S3: many small rooms, each room's members all on one node, 1 to `maxNodes` nodes at one rate.
 * A node needs only its own rooms' traffic; whatever else it receives from Redis is waste that
 * grows with the number of nodes. The bytes a node needs per message are taken from the
 * 1-node run of the same system (where every room is local).
 */
export async function scenarioS3(
  systems: SystemName[],
  env: BenchEnv,
  settings: ScenarioSettings,
  rate: number,
  maxNodes: number,
): Promise<S3Row[]> {
  const multi = systems.filter((s) => SYSTEMS[s].multiNode);
  const layout: Layout = { rooms: 40, roomSize: 5, nodes: 1, placement: 'local' };
  say(
    `s3: ${layout.rooms} rooms of ${layout.roomSize}, each on one node, 1..${maxNodes} nodes, ${rate} msg/s`,
  );
  const rows: S3Row[] = [];
  const perMessage = new Map<SystemName, number>();
  for (let nodes = 1; nodes <= maxNodes; nodes++) {
    if (nowMs() > settings.deadline) break;
    for (const system of multi) {
      const session = await Session.open(system, 's3', { ...layout, nodes }, settings.timing, env);
      try {
        const step = await measure(session, rate, settings.noise);
        const busRx = step.busRxBytesPerSec ?? [];
        if (nodes === 1) perMessage.set(system, (busRx[0] ?? 0) / rate);
        const bytesPerMsg = perMessage.get(system) ?? 0;
        let foreign = 0;
        busRx.forEach((rx, node) => {
          const localRooms = session.plan.roomsOfNode[node]?.size ?? 0;
          const needed = bytesPerMsg * rate * (localRooms / layout.rooms);
          foreign += Math.max(0, rx - needed);
        });
        const total = busRx.reduce((a, b) => a + b, 0);
        const foreignShare = total > 0 ? foreign / total : Number.NaN;
        rows.push({ nodes, system, step, busRx, foreignShare });
        say(
          `    bus rx per node ${busRx.map((b) => `${Math.round(b / 1024)} KiB/s`).join(', ')}; foreign share ${(foreignShare * 100).toFixed(0)}%`,
        );
      } finally {
        await session.close();
      }
    }
  }
  return rows;
}
