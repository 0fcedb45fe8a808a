import express, { type Router } from 'express';

/**
 * The web client's files (built by `apps/web/build.ts` into WEB_DIR) at `/`, and
 * `/config.json`, which tells the page what it cannot guess: whether to ask for a token. A
 * gateway started without a build still serves the chat; `/` then says how to build the page
 * instead of `Cannot GET /`.
 */
export function webClient(webDir: string, config: { auth: boolean }): Router {
  const router = express.Router();
  router.get('/config.json', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(config);
  });
  router.use(
    express.static(webDir, {
      index: 'index.html',
      // index.html names app.js and app.css without a version: revalidate instead of caching.
      cacheControl: true,
      maxAge: 0,
      setHeaders: (res) => {
        res.set('X-Content-Type-Options', 'nosniff');
        res.set('Referrer-Policy', 'no-referrer');
      },
    }),
  );
  // Reached only when express.static found no index.html.
  router.get('/', (_req, res) => {
    res
      .status(503)
      .type('text/plain')
      .send(
        `The web client is not built in ${webDir}.\n` +
          'Run `npm run build:web` (npm start does this), or use the CLI: ' +
          'npm run chat -- --name alice\n',
      );
  });
  return router;
}
