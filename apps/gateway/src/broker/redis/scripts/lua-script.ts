import { createHash } from 'node:crypto';
import type { RedisClient } from '../link';

/** What a script is called with: every key and argument by name. */
export type ScriptCall<K extends string, A extends string> = {
  keys: Record<K, string>;
  argv: Record<A, string | number>;
  /**
   * For scripts over a list (one item per key): keys after the named ones, and arguments after
   * the named ones, in the same order; the script walks `KEYS[#named + i]`.
   */
  more?: { keys: string[]; argv: (string | number)[] };
};

export interface ScriptSpec<K extends string, A extends string, R> {
  /** For logs and SCRIPT LOAD failures. */
  name: string;
  /** `KEYS[i]` in order; each becomes a Lua local of that name at the top of the script. */
  keys: readonly K[];
  /** `ARGV[i]` in order; each becomes a Lua local of that name at the top of the script. */
  argv: readonly A[];
  /** The script, using the locals above (and any shared fragments it starts with). */
  body: string;
  /** Reads the reply into its typed result; a malformed reply throws. */
  parse(reply: unknown): R;
}

/**
 * A Lua script run by EVALSHA. Callers name every key and argument (`ScriptCall`), and the
 * script's source opens with `local <name> = KEYS[i]` / `ARGV[i]` generated from the same lists,
 * so positions are written down once and can never drift apart. Scripts are loaded when a
 * connection becomes ready (RedisBackend keeps the list), so calls issued in order run in order;
 * the EVAL fallback covers a script cache flushed behind our back.
 */
export class LuaScript<K extends string, A extends string, R> {
  readonly source: string;
  private readonly sha: string;

  constructor(private readonly spec: ScriptSpec<K, A, R>) {
    const header = [
      `-- ${spec.name}`,
      ...spec.keys.map((key, i) => `local ${key} = KEYS[${i + 1}]`),
      ...spec.argv.map((arg, i) => `local ${arg} = ARGV[${i + 1}]`),
    ];
    this.source = `${header.join('\n')}\n${spec.body}`;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  get name(): string {
    return this.spec.name;
  }

  async run(redis: RedisClient, call: ScriptCall<K, A>): Promise<R> {
    // Plain loops: this runs for every message sent (APPEND), spreads and maps cost more.
    const { keys, argv } = this.spec;
    const { more } = call;
    const args: (string | number)[] = [];
    for (const key of keys) args.push(call.keys[key]);
    if (more) for (const key of more.keys) args.push(key);
    for (const arg of argv) args.push(call.argv[arg]);
    if (more) for (const arg of more.argv) args.push(arg);
    const count = keys.length + (more?.keys.length ?? 0);
    let reply: unknown;
    try {
      reply = await redis.evalsha(this.sha, count, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      reply = await redis.eval(this.source, count, ...args);
    }
    return this.spec.parse(reply);
  }
}

/** A script of any signature, for the list a connection loads. */
export interface LoadableScript {
  readonly name: string;
  readonly source: string;
}

/** Reply helpers: a script's reply has a fixed shape; anything else is a bug worth an error. */
export function replyArray(reply: unknown, script: string): unknown[] {
  if (!Array.isArray(reply)) throw new Error(`${script}: unexpected reply ${String(reply)}`);
  return reply as unknown[];
}

export function replyNumber(value: unknown, script: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new Error(`${script}: expected a number, got ${String(value)}`);
  return n;
}
