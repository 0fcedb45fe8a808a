import { createHash } from 'node:crypto';
import { Redis, type Command } from 'ioredis';
import { vi } from 'vitest';
import { ALL_SCRIPTS } from '../../src/broker/redis/scripts/all';

/** A command as recorded: its name (a script's own name for EVALSHA / EVAL) and arguments. */
export interface Recorded {
  name: string;
  args: string[];
}

/**
 * Records the Redis commands this process issues (every ioredis connection: commands and
 * subscriptions) and groups them into round trips: the commands issued before the same number
 * of replies had come back form one. Whatever a code path issues in one turn of the event loop
 * (a Promise.all, a chain of resolved promises) cannot see a reply in between, so the grouping
 * does not depend on timing; commands that wait for a reply start the next round trip.
 */
export function recordRoundTrips(keep: (command: Recorded) => boolean) {
  const scripts = new Map(
    ALL_SCRIPTS.map((s) => [createHash('sha1').update(s.source).digest('hex'), s.name]),
  );
  const rounds = new Map<number, string[]>();
  let replies = 0;
  const send = Redis.prototype.sendCommand;
  const spy = vi.spyOn(Redis.prototype, 'sendCommand').mockImplementation(function (
    this: Redis,
    command: Command,
    ...rest
  ) {
    const args = command.args.map(String);
    const name = scriptName(command.name, args, scripts);
    if (keep({ name, args })) {
      rounds.set(replies, [...(rounds.get(replies) ?? []), name]);
      command.promise.then(count, count);
    }
    return send.call(this, command, ...rest);
  });
  const count = () => {
    replies++;
  };
  return {
    /** The round trips so far, in order, each the sorted names of its commands. */
    rounds(): string[][] {
      return [...rounds.values()].map((names) => [...names].sort());
    },
    stop(): void {
      spy.mockRestore();
    },
  };
}

function scriptName(command: string, args: string[], scripts: Map<string, string>): string {
  const [first = ''] = args;
  if (command === 'evalsha') return scripts.get(first) ?? `evalsha ${first.slice(0, 8)}`;
  if (command === 'eval') return /^-- (\S+)/.exec(first)?.[1] ?? 'eval';
  return command;
}
