import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { say } from './out';

/**
 * The processes under test run as plain bundles, as in production: ours is
 * apps/gateway/dist/main.js (the gateway's own build target); the baselines and the load
 * generator are bundled here the same way (esbuild, ESM, packages left external).
 */
export interface Bundles {
  gateway: string;
  /** What the gateway bundle was built from: 'working tree' or a git commit. */
  gatewaySource: string;
  /** The gateway at `--baseline-ref`, run as system `ours-ref`, and what it was built from. */
  refGateway?: string;
  refSource?: string;
  baseline: string;
  generator: string;
  /** The gateway's scripts module (working tree), for the broker-ceiling step. */
  scripts: string;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'error',
} as const;

/**
 * Builds the gateway when dist is missing or older than its sources, with the command of its
 * own `build` target (read from its project.json, so there is one definition of the build; run
 * directly rather than through Nx, which may already be running this harness's test).
 */
function workingTreeGateway(root: string): string {
  const bundle = join(root, 'apps/gateway/dist/main.js');
  const sources = Math.max(
    newestMtime(join(root, 'apps/gateway/src')),
    newestMtime(join(root, 'libs/protocol/src')),
  );
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources) {
    const project = JSON.parse(readFileSync(join(root, 'apps/gateway/project.json'), 'utf8')) as {
      targets?: { build?: { command?: string } };
    };
    const command = project.targets?.build?.command;
    if (!command) throw new Error('apps/gateway/project.json has no build command');
    say('building the gateway (its project.json build command)');
    execSync(command, {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH ?? ''}` },
    });
  }
  return bundle;
}

/**
 * Builds the gateway as it is at a git ref (e.g. HEAD while others edit the working tree, or an
 * older commit to compare against), with the same esbuild settings as the gateway's build target.
 */
async function gatewayAtRef(
  root: string,
  ref: string,
  outDir: string,
): Promise<{ bundle: string; commit: string }> {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
  const bundle = join(outDir, `gateway-${commit.slice(0, 12)}.js`);
  if (existsSync(bundle)) return { bundle, commit };
  const src = join(root, 'bench/results/tmp/src', commit.slice(0, 12));
  rmSync(src, { recursive: true, force: true });
  mkdirSync(src, { recursive: true });
  const archive = execFileSync(
    'git',
    ['archive', commit, 'apps/gateway/src', 'libs/protocol/src'],
    { cwd: root, maxBuffer: 64 << 20 },
  );
  execFileSync('tar', ['-x', '-C', src], { input: archive });
  await build({
    ...common,
    entryPoints: [join(src, 'apps/gateway/src/main.ts')],
    alias: { '@chat/protocol': join(src, 'libs/protocol/src/index.ts') },
    outfile: bundle,
  });
  rmSync(src, { recursive: true, force: true });
  return { bundle, commit };
}

export async function buildBundles(
  root: string,
  gatewayRef: string | undefined,
  baselineRef?: string,
): Promise<Bundles> {
  const outDir = join(root, 'bench/dist');
  mkdirSync(outDir, { recursive: true });
  const alias = { '@chat/protocol': join(root, 'libs/protocol/src/index.ts') };
  await build({
    ...common,
    entryPoints: {
      baseline: join(root, 'bench/src/baselines/server.ts'),
      generator: join(root, 'bench/src/generator/main.ts'),
      scripts: join(root, 'apps/gateway/src/broker/redis/scripts/room-log.ts'),
    },
    alias,
    outdir: outDir,
  });
  let gateway: string;
  let gatewaySource: string;
  if (gatewayRef === undefined) {
    gateway = workingTreeGateway(root);
    gatewaySource = 'working tree';
  } else {
    const built = await gatewayAtRef(root, gatewayRef, outDir);
    gateway = built.bundle;
    gatewaySource = `${gatewayRef} (${built.commit.slice(0, 12)})`;
  }
  say(`bundles: gateway ${relative(root, gateway)} from ${gatewaySource}`);
  let ref: Pick<Bundles, 'refGateway' | 'refSource'> = {};
  if (baselineRef !== undefined) {
    const built = await gatewayAtRef(root, baselineRef, outDir);
    ref = { refGateway: built.bundle, refSource: `${baselineRef} (${built.commit.slice(0, 12)})` };
    say(`bundles: ours-ref gateway ${relative(root, built.bundle)} from ${ref.refSource}`);
  }
  return {
    gateway,
    gatewaySource,
    ...ref,
    baseline: join(outDir, 'baseline.js'),
    generator: join(outDir, 'generator.js'),
    scripts: join(outDir, 'scripts.js'),
  };
}

/** The source of the gateway's store-and-publish script (APPEND), from the scripts bundle. */
export async function appendScriptSource(bundle: string): Promise<string> {
  const module: unknown = await import(pathToFileURL(bundle).href);
  const append: unknown =
    typeof module === 'object' && module !== null && 'APPEND' in module ? module.APPEND : undefined;
  const source: unknown =
    typeof append === 'object' && append !== null && 'source' in append ? append.source : undefined;
  if (typeof source !== 'string') throw new Error(`${bundle} exports no APPEND script source`);
  return source;
}
