/**
 * Builds the web client into `apps/web/dist` (index.html, app.js, app.css), the directory every
 * gateway serves at `/` (WEB_DIR). Everything the page needs is in those three files:
 * socket.io-client and @chat/protocol are bundled, nothing is fetched from elsewhere at run
 * time. `npm start` and `npm run gateway` run this first; build output is never committed.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export const WEB_DIST = here('./dist');

const PROTOCOL_ENTRY = here('../../libs/protocol/src/index.ts');
const PROTOCOL_DIR = here('../../libs/protocol/src/');

/**
 * @chat/protocol is pure (no I/O, no globals touched), but some of its modules compute tables
 * when loaded and its name keys need 115 KB of Unicode confusables that the page never uses.
 * Declaring the library and those tables free of side effects lets tree shaking drop them.
 */
const PURE_PACKAGES = /^(unhomoglyph|unicode-case-folding)$/;
const pureProtocol: Plugin = {
  name: 'pure-protocol',
  setup(builder) {
    builder.onResolve({ filter: /^@chat\/protocol$/ }, () => ({
      path: PROTOCOL_ENTRY,
      sideEffects: false,
    }));
    builder.onResolve({ filter: /.*/ }, async (args) => {
      const fromProtocol = args.importer.startsWith(PROTOCOL_DIR) && args.path.startsWith('.');
      if (args.pluginData === 'pure' || !(fromProtocol || PURE_PACKAGES.test(args.path))) {
        return undefined;
      }
      const { resolveDir, kind } = args;
      const resolved = await builder.resolve(args.path, { resolveDir, kind, pluginData: 'pure' });
      return { path: resolved.path, sideEffects: false };
    });
  },
};

export async function buildWeb(): Promise<void> {
  await mkdir(WEB_DIST, { recursive: true });
  await build({
    entryPoints: { app: here('./src/main.ts') },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    sourcemap: true,
    plugins: [pureProtocol],
    outdir: WEB_DIST,
    logLevel: 'warning',
  });
  await copyFile(here('./index.html'), `${WEB_DIST}/index.html`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWeb();
