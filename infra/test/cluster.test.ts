import { freePort } from '@chat/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Chatter } from './support/chatter';
import { CliChatter } from './support/cli';
import { ComposeProject } from './support/compose';

/**
 * The compose stack exactly as users start it (`docker compose up --scale gateway=3` in infra/),
 * under its own project name and port: HAProxy in front of three gateways and Redis. Clients
 * connect only through the balancer: socket.io clients plus the real CLI.
 */
const GATEWAYS = 3;
const NAMES = ['ann', 'ben', 'cat', 'dan', 'eve'];
const CLI_NAME = 'terminal';

let project: ComposeProject | undefined;
let url = '';
const chatters: Chatter[] = [];
let cli: CliChatter | undefined;
/** Every text sent so far, by sender name. */
const sent = new Map<string, string[]>();

function eventually(check: () => void | Promise<void>, timeout = 30_000): Promise<void> {
  return vi.waitFor(check, { timeout, interval: 100 });
}

function stack(): ComposeProject {
  if (project === undefined) throw new Error('the compose stack did not start');
  return project;
}

function theCli(): CliChatter {
  if (cli === undefined) throw new Error('the CLI is not running');
  return cli;
}

async function say(who: Chatter | CliChatter, text: string): Promise<void> {
  sent.set(who.name, [...(sent.get(who.name) ?? []), text]);
  if (who instanceof Chatter) await who.send(text);
  else who.say(text);
}

/** What `name` should have received: everything everyone else sent, each sender in order. */
function expectedFor(name: string): Map<string, string[]> {
  return new Map([...sent].filter(([from]) => from !== name));
}

/** Every client got every other client's messages exactly once, in order, and none of its own. */
function assertEveryoneHasEverything(): void {
  for (const chatter of chatters) {
    const got = new Map<string, string[]>();
    for (const m of chatter.messages)
      got.set(m.from.name, [...(got.get(m.from.name) ?? []), m.text]);
    expect(got, `${chatter.name} (node ${chatter.welcome.node})`).toEqual(
      expectedFor(chatter.name),
    );
    const ids = chatter.messages.map((m) => m.id);
    expect(new Set(ids).size, `${chatter.name} got a message twice`).toBe(ids.length);
  }
  const cliUser = theCli();
  for (const [from, texts] of expectedFor(cliUser.name)) {
    expect(cliUser.said(from), `${from} as shown by the CLI:\n${cliUser.transcript()}`).toEqual(
      texts,
    );
  }
  expect(cliUser.said(cliUser.name)).toEqual([]);
}

/** Waits until the balancer routes to `count` distinct ready gateways. */
async function balancerReaches(count: number): Promise<void> {
  const nodes = new Set<string>();
  await eventually(async () => {
    const res = await fetch(`${url}/readyz`);
    const body = (await res.json()) as { ready?: boolean; node?: string };
    if (res.ok && body.ready && body.node !== undefined) nodes.add(body.node);
    expect(nodes.size).toBeGreaterThanOrEqual(count);
  }, 60_000);
}

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  project = await ComposeProject.create({
    CHAT_PORT: String(port),
    GATEWAY_IMAGE: 'chat-gateway:e2e',
    // Survivors reap a killed node's users after this lease; the default is 8 s.
    NODE_TTL_MS: '3000',
    LOG_LEVEL: 'warn',
    // Whatever infra/.env says, these clients bring no token.
    AUTH_SECRET: '',
  });
  // Always the current sources; layer caching makes this a few seconds after the first time.
  await project.compose(['build', 'gateway'], 280_000);
  await project.compose(['up', '-d', '--scale', `gateway=${GATEWAYS}`], 120_000);
  await balancerReaches(GATEWAYS);
});

afterEach(async (context) => {
  if (context.task.result?.state === 'fail' && project !== undefined) {
    process.stderr.write(`--- compose logs (${project.name}) ---\n${await project.logs()}\n`);
  }
});

afterAll(async () => {
  for (const chatter of chatters) chatter.close();
  await cli?.close();
  await project?.down();
});

// One story in two steps: the second test continues the conversation of the first.
describe(`compose stack: ${GATEWAYS} gateways behind the balancer`, () => {
  it('spreads clients over the gateways and relays each message to every other client once', async () => {
    for (const name of NAMES) chatters.push(await Chatter.connect(url, name));
    cli = new CliChatter(url, CLI_NAME);
    const cliUser = cli;
    await eventually(() => expect(cliUser.nodes(), cliUser.transcript()).toHaveLength(1));

    const nodes = new Set([...chatters.map((c) => c.welcome.node), ...cliUser.nodes()]);
    expect(nodes.size, `clients landed on ${[...nodes].join(', ')}`).toBeGreaterThanOrEqual(2);
    // The balancer passes /healthz to a gateway.
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { node?: string }).node).toMatch(/^[0-9a-f]{12}-/);

    for (const chatter of chatters) {
      await say(chatter, `${chatter.name} says hello`);
      await say(chatter, `${chatter.name} asks how it goes`);
    }
    await say(cliUser, 'hello from the terminal');
    await eventually(assertEveryoneHasEverything);
    // The compose stack keeps them in its archive (PostgreSQL): a search finds them.
    const searcher = chatters[0];
    if (searcher === undefined) throw new Error('no chatter');
    await eventually(async () =>
      expect((await searcher.search('hello')).sort()).toEqual(
        [...NAMES.map((name) => `${name} says hello`), 'hello from the terminal'].sort(),
      ),
    );
  });

  it('moves the clients of a killed gateway to the others and the conversation goes on', async () => {
    const cliUser = theCli();
    const before = new Map(chatters.map((c) => [c.name, c.welcome]));
    // The node holding the most of our clients, so the kill surely hits some.
    const load = new Map<string, number>();
    for (const c of chatters) load.set(c.welcome.node, (load.get(c.welcome.node) ?? 0) + 1);
    const [victim] = [...load].sort((a, b) => b[1] - a[1])[0] ?? [];
    if (victim === undefined) throw new Error('no clients connected');
    const moved = chatters.filter((c) => c.welcome.node === victim);

    await stack().kill(await stack().gatewayOf(victim));

    // Its clients come back through the balancer on a surviving node, as the same users.
    await eventually(() => {
      for (const chatter of moved) {
        expect(chatter.connected, `${chatter.name} reconnected`).toBe(true);
        expect(chatter.welcome.node).not.toBe(victim);
        expect(chatter.welcome.user).toEqual(before.get(chatter.name)?.user);
      }
    });
    if (cliUser.nodes()[0] === victim) {
      await eventually(() => expect(cliUser.nodes().at(-1)).not.toBe(victim));
    }

    for (const chatter of chatters) await say(chatter, `${chatter.name} is still here`);
    await say(cliUser, 'the terminal is still here');
    await eventually(assertEveryoneHasEverything);
  });
});
