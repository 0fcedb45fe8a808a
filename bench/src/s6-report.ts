import type { SystemName } from './cluster';

/** One system at one client count in S6 (see s6-connections.ts). */
export interface S6Row {
  system: SystemName;
  clients: number;
  idle: {
    connectMs: number;
    connectPerSec: number;
    /** The node's RSS growth from before the first client to after the last, per client. */
    rssKbPerConnection: number;
    rssMb: number;
    /** 50 msg/s in the rooms of 50. */
    trickleP99: number;
    cpuUsPerDelivery: number;
    lost: number;
  };
  broadcast?: {
    /** Until every member was in the room (NaN p50/p99/last: it never filled). */
    joinMs: number;
    p50: number;
    p99: number;
    /** The last member's delivery. */
    last: number;
    lost?: number;
  };
  storm?: {
    /** Clients on the killed node. */
    moved: number;
    /** From the kill until the last of them was back in its room (NaN: not all came back). */
    backMs: number;
    reconnected: number;
    gaveUp: number;
    /** Deliveries of messages sent during the storm that never arrived, or arrived twice. */
    lost: number;
    duplicates: number;
    /** Redis calls over 50 ms (SLOWLOG) during the storm. */
    slowRedisCalls: number;
  };
}

const n = (v: number | undefined, digits = 1) =>
  v !== undefined && Number.isFinite(v) ? v.toFixed(digits) : '–';
const int = (v: number | undefined) =>
  v !== undefined && Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–';

/** The S6 tables: idle clients, the big room's broadcast, the reconnect storm. */
export function s6Markdown(rows: S6Row[], bigRoom: number): string {
  const lines = [
    '### S6: connections at scale (one gateway; storm: 3 nodes, node 0 killed)',
    '',
    '| system | clients | connect /s | RSS KB per connection | RSS MB | p99 ms at 50 msg/s | CPU-µs per delivery |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.system} | ${int(r.clients)} | ${int(r.idle.connectPerSec)} | ${n(r.idle.rssKbPerConnection)} | ${n(r.idle.rssMb, 0)} | ${n(r.idle.trickleP99, 2)} | ${n(r.idle.cpuUsPerDelivery, 1)} |`,
    ),
    '',
  ];
  const big = rows.filter((r) => r.broadcast);
  if (big.length > 0) {
    lines.push(
      `| system | ${int(bigRoom)}-member room filled in s | p50 ms | p99 ms | last delivery ms | lost |`,
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...big.map(
        (r) =>
          `| ${r.system} | ${n((r.broadcast?.joinMs ?? Number.NaN) / 1000)} | ${n(r.broadcast?.p50, 2)} | ${n(r.broadcast?.p99, 2)} | ${n(r.broadcast?.last, 2)} | ${int(r.broadcast?.lost)} |`,
      ),
      '',
    );
  }
  const storms = rows.filter((r) => r.storm);
  if (storms.length > 0) {
    lines.push(
      '| system | clients | clients moved | all back after s | gave up | missed | doubled | Redis calls > 50 ms |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...storms.map(
        (r) =>
          `| ${r.system} | ${int(r.clients)} | ${int(r.storm?.moved)} | ${n((r.storm?.backMs ?? Number.NaN) / 1000, 2)} | ${int(r.storm?.gaveUp)} | ${int(r.storm?.lost)} | ${int(r.storm?.duplicates)} | ${int(r.storm?.slowRedisCalls)} |`,
      ),
      '',
    );
  }
  return lines.join('\n');
}
