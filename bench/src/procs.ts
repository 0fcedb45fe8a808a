import { fork, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { sleep } from './clock';
import { warn } from './out';

/**
 * Every process the harness starts goes through here: it runs in its own process group (so a
 * kill reaches its children too), its output goes to a log file, and it is killed when the
 * harness exits for any reason. The pids are also written to a file, so that a harness that was
 * itself SIGKILLed has its orphans reaped by the next run ({@link reapOrphans}).
 */
export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  readonly log: string;
}

const running = new Map<number, Proc>();
let pidFile: string | undefined;

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Log file for stdout and stderr. */
  log: string;
  cwd?: string;
}

function track(name: string, child: ChildProcess, log: string): Proc {
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = child.pid;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(pid);
      writePids();
      resolve(code ?? (signal ? -1 : null));
    });
    child.once('error', () => resolve(-1));
  });
  const proc: Proc = { name, child, pid, exited, log };
  running.set(pid, proc);
  writePids();
  return proc;
}

/**
 * Opens the log, starts the child with stdout and stderr into it (the child keeps its own copy
 * of the descriptor) and tracks it.
 */
function startLogged(name: string, log: string, start: (fd: number) => ChildProcess): Proc {
  const fd = openSync(log, 'a');
  try {
    return track(name, start(fd), log);
  } finally {
    closeSync(fd);
  }
}

export function spawnProc(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions,
): Proc {
  return startLogged(name, options.log, (fd) =>
    spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    }),
  );
}

/** A node child with an IPC channel (the load generators). */
export function forkProc(
  name: string,
  modulePath: string,
  args: string[],
  options: SpawnOptions & { execArgv?: string[] },
): Proc {
  return startLogged(name, options.log, (fd) =>
    fork(modulePath, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      execArgv: options.execArgv ?? [],
      stdio: ['ignore', fd, fd, 'ipc'],
    }),
  );
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** SIGTERM (so a `--cpu-prof` profile is written), then SIGKILL after `graceMs`. */
export async function stopProc(proc: Proc, graceMs = 2_000): Promise<void> {
  if (!running.has(proc.pid)) return;
  signalGroup(proc.pid, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  const done = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    signalGroup(proc.pid, 'SIGKILL');
    await Promise.race([proc.exited, sleep(2_000)]);
  }
}

/** Synchronous, so that it also works from an 'exit' handler. */
export function killAll(): void {
  for (const pid of running.keys()) signalGroup(pid, 'SIGKILL');
  running.clear();
  if (pidFile) rmSync(pidFile, { force: true });
}

function writePids(): void {
  if (!pidFile) return;
  const entries = [...running.values()].map((p) => ({ pid: p.pid, name: p.name }));
  writeFileSync(pidFile, JSON.stringify({ owner: process.pid, procs: entries }));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills what an earlier harness (now dead) left running, going by its pid file. */
export function reapOrphans(dir: string): void {
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir)) {
    const path = join(dir, file);
    try {
      const data = JSON.parse(readFileSync(path, 'utf8')) as {
        owner: number;
        procs: { pid: number; name: string }[];
      };
      if (alive(data.owner)) continue;
      for (const { pid, name } of data.procs) {
        if (!alive(pid)) continue;
        // The pid may have been reused: only kill processes that look like ours.
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (/redis-server|node/.test(cmdline)) {
          warn(`killing orphan ${name} (pid ${pid}) of an earlier run`);
          signalGroup(pid, 'SIGKILL');
        }
      }
    } catch {
      // Unreadable or half-written: drop it.
    }
    rmSync(path, { force: true });
  }
}

/**
 * Kills every child on exit, Ctrl-C, SIGTERM, and uncaught errors; arms a hard deadline after
 * which the run is abandoned (children killed, exit code 3).
 */
export function installCleanup(pidDir: string, hardTimeoutMs: number): void {
  mkdirSync(pidDir, { recursive: true });
  reapOrphans(pidDir);
  pidFile = join(pidDir, `${process.pid}.json`);
  writePids();
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      warn(`${signal}: stopping every process of this run`);
      killAll();
      process.exit(130);
    });
  }
  const timer = setTimeout(() => {
    warn(`hard time limit of ${Math.round(hardTimeoutMs / 1000)} s reached; aborting the run`);
    killAll();
    process.exit(3);
  }, hardTimeoutMs);
  timer.unref();
}

export function runningPids(): number[] {
  return [...running.keys()];
}
