import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU and memory of processes, read from /proc. CPU is utime + stime of the whole process (all
 * its threads: V8's GC and compiler threads, libuv's pool), in clock ticks; memory is VmRSS and
 * VmHWM (the peak RSS since the process started).
 */
export interface ProcSample {
  cpuMs: number;
  rssKb: number;
  hwmKb: number;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) =>
      Number(status.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
    return { cpuMs: (ticks * 1000) / clockTicks(), rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * CPU time of the whole machine (all cores), in ms, from /proc/stat. `processMs` is what
 * processes ran (user, nice, system); `irqMs` is interrupt and softirq time, charged to no
 * process: on loopback that is mostly the kernel's TCP work for the benchmark's own traffic.
 */
export function sampleMachine(): {
  processMs: number;
  irqMs: number;
  stealMs: number;
  totalMs: number;
} {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...values] = line.trim().split(/\s+/);
  const t = values.map(Number);
  const at = (i: number) => t[i] ?? 0;
  const scale = 1000 / clockTicks();
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  return {
    processMs: (at(0) + at(1) + at(2)) * scale,
    irqMs: (at(5) + at(6)) * scale,
    stealMs: at(7) * scale,
    totalMs: (at(0) + at(1) + at(2) + at(3) + at(4) + at(5) + at(6) + at(7)) * scale,
  };
}

export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}
