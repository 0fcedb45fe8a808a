/**
 * The archive scenario (`npm run bench -- --scenario archive [--rates R] [--smoke]`): our three
 * gateways with DATABASE_URL on a PostgreSQL in Docker (server defaults, fsync on).
 *
 * 1. Keeping up: S1's layout (4 rooms of 50 over 3 nodes) at `--rates` (default 3,600 msg/s,
 *    our S1 saturation in BENCHMARKS.md), sampling every node's archive backlog each 500 ms;
 *    then how long the backlog takes to drain and whether every sent message is archived.
 * 2. Size: the archive is filled (server-side SQL, 1,000 rooms, words from a skewed vocabulary)
 *    to 1M and then 10M rows; at each size, clients in filled rooms page back with `history`
 *    and search with `search` through a gateway (end-to-end latency as users see it), and a
 *    second keep-up step measures the gateways' archive write throughput at that size.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PROTOCOL_VERSION,
  type Ack,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '@chat/protocol';
import { startPostgres, type TestPostgres } from '@chat/test-support';
import { io, type Socket } from 'socket.io-client';
import { nowMs, sleep } from './clock';
import { say } from './out';
import type { ScenarioSettings } from './scenarios';
import { Session, type BenchEnv } from './session';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Rooms the fill spreads rows over, and the vocabulary size of their texts. */
const FILL_ROOMS = 1_000;
const WORDS = 1_000;
const FILL_CHUNK = 250_000;

export interface ArchiveStepResult {
  /** The gateway measured: `ours`, or `ours-ref` (the gateway at --baseline-ref). */
  system: 'ours' | 'ours-ref';
  /** Rows in the archive before the step. */
  size: number;
  archivedRows: number;
  rate: number;
  sent: number;
  deliveryP99Ms: number;
  backlogMax: number;
  /** Summed over the nodes, half-way through the step and at its end: equal when it keeps up. */
  backlogMid: number;
  backlogEnd: number;
  drainMs: number;
  /** Rows the gateways wrote per second over the step and its drain. */
  writtenPerSec: number;
  missing: number;
  /** The backlog did not grow over the step's second half (see `backlogFlat`). */
  flat: boolean;
}

/**
 * Kept up: from the middle of the step to its end the summed backlog grew by less than a
 * quarter of a second of the offered rate (a backlog that falls behind grows by a share of the
 * rate every second; one that keeps up only wobbles by what is in flight).
 */
export function backlogFlat(rate: number, mid: number, end: number): boolean {
  return end - mid < rate / 4;
}

/** One line a reader can act on: whether the archive kept up at this rate. */
export function keepUpLine(step: ArchiveStepResult): string {
  const n = (v: number) => v.toLocaleString('en');
  const verdict = step.flat ? 'backlog FLAT (kept up)' : 'backlog GREW (fell behind)';
  return (
    `archive keep-up ${step.system} at ${n(step.rate)} msg/s, ${n(step.size)} rows: ${verdict}; ` +
    `backlog mid ${n(step.backlogMid)} -> end ${n(step.backlogEnd)} (max ${n(step.backlogMax)}), ` +
    `drained in ${(step.drainMs / 1000).toFixed(1)} s, archived ${n(step.archivedRows)}/${n(step.sent)}, ` +
    `delivery p99 ${Math.round(step.deliveryP99Ms)} ms`
  );
}

export interface ArchiveSizeResult {
  rows: number;
  bulkRowsPerSec: number;
  pageMs: { p50: number; p99: number };
  searchMs: Record<string, { p50: number; p99: number; hits: number }>;
}

export interface ArchiveRun {
  sizes: ArchiveSizeResult[];
  keepUp: ArchiveStepResult[];
  /** The same steps without DATABASE_URL, same run: what the archive costs the chat. */
  withoutArchive: { rate: number; sent: number; deliveryP99Ms: number }[];
}

async function metricSum(url: string, name: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

const total = (urls: string[], name: string) =>
  Promise.all(urls.map((u) => metricSum(u, name))).then((v) => v.reduce((a, b) => a + b, 0));

async function rowCount(pg: TestPostgres): Promise<number> {
  const [row] = await pg.query<{ n: string }>('SELECT count(*) AS n FROM archive_messages');
  return Number(row?.n ?? 0);
}

/** One S1 step at `rate` with the archive's backlog sampled, then its drain. */
async function keepUp(
  system: ArchiveStepResult['system'],
  session: Session,
  pg: TestPostgres,
  rate: number,
): Promise<ArchiveStepResult> {
  const before = await rowCount(pg);
  const writtenBefore = await total(session.urls, 'chat_archive_written_total');
  const started = nowMs();
  let sampling = true;
  const samples: number[] = [];
  const sampler = (async () => {
    while (sampling) {
      samples.push(await total(session.urls, 'chat_archive_backlog_messages'));
      await sleep(500);
    }
  })();
  const step = await session.step(rate);
  sampling = false;
  await sampler;
  const backlogEnd = samples.at(-1) ?? 0;
  const drainStart = nowMs();
  while ((await total(session.urls, 'chat_archive_backlog_messages')) > 0) {
    if (nowMs() - drainStart > 120_000) break;
    await sleep(200);
  }
  const drainMs = nowMs() - drainStart;
  const written = (await total(session.urls, 'chat_archive_written_total')) - writtenBefore;
  const archivedRows = (await rowCount(pg)) - before;
  const backlogMid = samples[Math.floor(samples.length / 2)] ?? 0;
  return {
    system,
    archivedRows,
    rate,
    sent: step.sent,
    deliveryP99Ms: step.latency.p99,
    size: before,
    backlogMax: Math.max(0, ...samples),
    backlogMid,
    backlogEnd,
    flat: backlogFlat(rate, backlogMid, backlogEnd),
    drainMs: Math.round(drainMs),
    writtenPerSec: Math.round(written / ((nowMs() - started) / 1000)),
    missing: step.sent - archivedRows,
  };
}

/** Fills archive_messages up to `rows` with server-side generated messages; rows per second. */
async function fill(pg: TestPostgres, rows: number): Promise<number> {
  let have = await rowCount(pg);
  const started = nowMs();
  const added = rows - have;
  await pg.query(
    `INSERT INTO archive_epochs (room, epoch, first_ts)
     SELECT 'fill' || r, 'bench', 0 FROM generate_series(0, $1 - 1) r ON CONFLICT DO NOTHING`,
    [FILL_ROOMS],
  );
  while (have < rows) {
    const n = Math.min(FILL_CHUNK, rows - have);
    // Row g goes to room g % FILL_ROOMS at seq g / FILL_ROOMS; 4-12 words, index skewed to the
    // common ones (w0 is in about half of the texts, w500 in one of ~250).
    await pg.query(
      `INSERT INTO archive_messages (room, epoch, seq, id, from_id, from_name, text, ts)
       SELECT 'fill' || (g % $3), 'bench', g / $3 + 1, 'f' || g, g % 97, 'user' || (g % 97),
              (SELECT string_agg('w' || floor($4 * random() ^ 3)::int, ' ')
                 FROM generate_series(1, 4 + (g % 9))),
              1700000000000 + g
       FROM generate_series($1::bigint, $2::bigint - 1) g`,
      [have, have + n, FILL_ROOMS, WORDS],
    );
    have += n;
  }
  await pg.query('ANALYZE archive_messages');
  return Math.round(added / ((nowMs() - started) / 1000));
}

function connect(url: string, room: string): Promise<Client> {
  const socket: Client = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { v: PROTOCOL_VERSION, room },
  });
  return new Promise((resolve, reject) => {
    socket.once('synced', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

async function timed(
  count: number,
  request: (i: number) => Promise<Ack<object>>,
): Promise<{ p50: number; p99: number; hits: number }> {
  const ms: number[] = [];
  let hits = 0;
  for (let i = 0; i < count; i++) {
    const started = nowMs();
    const ack = await request(i);
    ms.push(nowMs() - started);
    if (!ack.ok) throw new Error(`request refused: ${ack.error.message}`);
    if ('messages' in ack && Array.isArray(ack.messages)) hits += ack.messages.length;
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(ms.length * q))] ?? 0;
  return { p50: round(at(0.5)), p99: round(at(0.99)), hits: Math.round(hits / count) };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Page and search latency through a gateway, clients in 10 filled rooms. */
async function reads(url: string, rowsPerRoom: number, queries: number) {
  const clients = await Promise.all(
    Array.from({ length: 10 }, (_, i) => connect(url, `fill${i * 37}`)),
  );
  try {
    const client = (i: number) => clients[i % clients.length] as Client;
    const room = (i: number) => `fill${(i % clients.length) * 37}`;
    const pageMs = await timed(queries, (i) =>
      client(i)
        .timeout(30_000)
        .emitWithAck('history', {
          room: room(i),
          epoch: 'bench',
          before: 1 + Math.floor(Math.random() * rowsPerRoom),
          limit: 50,
        }),
    );
    const searchMs: Record<string, { p50: number; p99: number; hits: number }> = {};
    for (const q of ['w0', 'w500', 'w998', 'w1 w2']) {
      searchMs[q] = await timed(Math.ceil(queries / 4), (i) =>
        client(i)
          .timeout(30_000)
          .emitWithAck('search', { room: room(i), q, limit: 20 }),
      );
    }
    return { pageMs: { p50: pageMs.p50, p99: pageMs.p99 }, searchMs };
  } finally {
    clients.forEach((c) => c.close());
  }
}

/** POSTGRES_IMAGE, else what infra/.env names (offline machines), else the official image. */
function usePostgresImageOf(root: string): void {
  const file = join(root, 'infra/.env');
  if (process.env.POSTGRES_IMAGE !== undefined || !existsSync(file)) return;
  const line = /^POSTGRES_IMAGE=(.+)$/m.exec(readFileSync(file, 'utf8'));
  if (line?.[1]) process.env.POSTGRES_IMAGE = line[1].trim();
}

export async function scenarioArchive(
  env: BenchEnv,
  settings: ScenarioSettings,
  options: { smoke: boolean; rates: number[]; rows: number[]; resultsDir: string },
): Promise<ArchiveRun> {
  usePostgresImageOf(env.root);
  const pg = await startPostgres({ durable: true });
  const layout = {
    rooms: options.smoke ? 2 : 4,
    roomSize: options.smoke ? 10 : 50,
    nodes: 3,
    placement: 'spread' as const,
  };
  const open = (gatewayEnv: Record<string, string>, system: ArchiveStepResult['system'] = 'ours') =>
    Session.open(system, 'archive', layout, settings.timing, { ...env, gatewayEnv });
  const run: ArchiveRun = { sizes: [], keepUp: [], withoutArchive: [] };
  // With --baseline-ref, the gateway at that ref first (same PostgreSQL, same sizes): before/after.
  const systems: ArchiveStepResult['system'][] =
    env.bundles.refGateway === undefined ? ['ours'] : ['ours-ref', 'ours'];
  const keepUpSteps = async (system: ArchiveStepResult['system'], session: Session) => {
    for (const rate of options.rates) {
      const step = await keepUp(system, session, pg, rate);
      run.keepUp.push(step);
      say(`  ${keepUpLine(step)}`);
    }
  };
  let session = await open({ DATABASE_URL: pg.url });
  try {
    // The gateways migrate at start; wait for the table.
    const table = () =>
      pg.query<{ t: string | null }>("SELECT to_regclass('archive_messages') AS t");
    while ((await table())[0]?.t === null) await sleep(200);
    for (const rows of options.rows) {
      if (rows > 0) {
        say(`  archive: filling to ${rows.toLocaleString('en')} rows`);
        const bulkRowsPerSec = await fill(pg, rows);
        const { pageMs, searchMs } = await reads(
          session.urls[0] ?? '',
          rows / FILL_ROOMS,
          options.smoke ? 20 : 400,
        );
        const size = { rows: await rowCount(pg), bulkRowsPerSec, pageMs, searchMs };
        run.sizes.push(size);
        say(`  archive at ${size.rows.toLocaleString('en')} rows: ${JSON.stringify(size)}`);
      }
      for (const system of systems) {
        if (system !== 'ours') {
          await session.close();
          session = await open({ DATABASE_URL: pg.url }, system);
          await keepUpSteps(system, session);
          await session.close();
          session = await open({ DATABASE_URL: pg.url });
        } else await keepUpSteps(system, session);
      }
    }
    say('  archive keep-up summary:');
    for (const step of run.keepUp) say(`    ${keepUpLine(step)}`);
    await session.close();
    session = await open({});
    for (const rate of options.rates) {
      const step = await session.step(rate);
      const result = { rate, sent: step.sent, deliveryP99Ms: step.latency.p99 };
      run.withoutArchive.push(result);
      say(`  without archive: ${JSON.stringify(result)}`);
    }
  } finally {
    await session.close();
    await pg.container.stop();
  }
  if (!options.smoke) {
    writeFileSync(
      // A keep-up run alone (--archive-rows 0) does not replace the sizes' figures.
      join(
        options.resultsDir,
        options.rows.some((rows) => rows > 0) ? 'archive.json' : 'archive-keepup.json',
      ),
      `${JSON.stringify({ at: new Date().toISOString(), ...run }, null, 1)}\n`,
    );
  }
  return run;
}
