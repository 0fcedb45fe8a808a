import { execFileSync } from 'node:child_process';
import { findBinary } from './redis';

let ss: string | undefined | null = null;

/**
 * Bytes each process has received from Redis over its open connections (kernel tcp_info via
 * `ss`, so nothing inside the process is touched). Undefined when `ss` (iproute2) is missing.
 * Scenario S3 uses it to see how much of the bus traffic a node gets for rooms it has no
 * members in.
 */
export function bytesFromRedis(redisPort: number): Map<number, number> | undefined {
  if (ss === null) ss = findBinary('ss');
  if (ss === undefined) return undefined;
  let output: string;
  try {
    output = execFileSync(ss, ['-tinpH', 'state', 'established', `( dport = :${redisPort} )`], {
      encoding: 'utf8',
      maxBuffer: 16 << 20,
    });
  } catch {
    return undefined;
  }
  const totals = new Map<number, number>();
  let pid: number | undefined;
  for (const line of output.split('\n')) {
    const owner = line.match(/pid=(\d+)/);
    if (owner) {
      pid = Number(owner[1]);
      continue;
    }
    const received = line.match(/bytes_received:(\d+)/);
    if (received && pid !== undefined) {
      totals.set(pid, (totals.get(pid) ?? 0) + Number(received[1]));
      pid = undefined;
    }
  }
  return totals;
}
