// The HTTP side assembled: the guard, the JSON API under /v1, server-sent events, /metrics and the dashboard's
// files. Kept apart from main.ts so tests and the benchmark can build the same app around their own pool.
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { api, type ApiDeps } from './api.js';
import { DschedError } from '../../lib/errors.js';
import { errorResponse, guard, type GuardOptions, type WebEnv } from './guard.js';
import type { Metrics } from './metrics.js';
import { MIRROR_WAIT_MS } from './job-mirror.js';
import { StreamBudget } from './stream-budget.js';

const MAX_SSE_CLIENTS = 2000;
/** A browser opens one stream per tab: a client with more than this many is holding them, not watching. */
export const MAX_SSE_PER_CLIENT = 16;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The dashboard's files, read once at start: the set is fixed, so no request names a path on disk. */
function loadUi(dir: string): Map<string, { body: string; type: string }> {
  const files = new Map<string, { body: string; type: string }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { body: readFileSync(join(dir, name), 'utf8'), type });
  }
  return files;
}

/** Who holds an event stream, for MAX_SSE_PER_CLIENT: the token's user, else the caller's address. */
function clientOf(c: Context<WebEnv>): string {
  const caller = c.get('caller');
  if (caller.kind === 'user') return `user ${caller.name}`;
  const socket = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket;
  return `address ${socket?.remoteAddress ?? 'unknown'} (without a token)`;
}

export function webApp(d: ApiDeps & { guard: GuardOptions; metrics: Metrics; uiDir: string }): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.use('*', guard(d.guard));
  app.route('/v1', api(d));

  // one event stream per browser, all fed from the mirror's single WatchJobs stream
  const streams = new StreamBudget(MAX_SSE_CLIENTS, MAX_SSE_PER_CLIENT);
  app.get('/v1/events', (c) => {
    // each stream holds a socket and a small queue: bounded, so a flood of them cannot exhaust the daemon, and
    // per client (a user by name, anyone else by address), so one client cannot take them all
    const release = streams.take(clientOf(c));
    if (release instanceof DschedError) return errorResponse(c, release, d.log);
    return streamSSE(c, async (stream) => {
      let closed = false;
      const queue: Array<{ event: string; data: string }> = [];
      let wake: (() => void) | undefined;
      const off = d.mirror.subscribe((kind, data) => {
        if (queue.length > 1000) queue.splice(0, queue.length - 1); // a reader that stopped reading gets the newest only
        queue.push({ event: kind, data: JSON.stringify(data) });
        wake?.();
      });
      stream.onAbort(() => {
        closed = true;
        off();
        release();
        wake?.();
      });
      await stream.writeSSE({ event: 'hello', data: JSON.stringify({ ready: d.mirror.jobsReady }) });
      while (!closed) {
        const next = queue.shift();
        if (next) {
          await stream.writeSSE(next);
          continue;
        }
        // a comment every 25 s keeps proxies from closing an idle stream, and at half WEB_IDLE_TIMEOUT the
        // daemon itself (which closes connections idle that long)
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(25_000, d.config.int('WEB_IDLE_TIMEOUT') * 500)).unref();
        });
        wake = undefined;
        if (!queue.length && !closed) await stream.write(': keep-alive\n\n');
      }
      off();
      release();
    });
  });

  app.get('/metrics', async (c) => {
    await d.mirror.use(MIRROR_WAIT_MS);
    c.header('Content-Type', d.metrics.registry.contentType);
    return c.body(await d.metrics.text());
  });

  const ui = loadUi(d.uiDir);
  app.get('/', (c) => c.body(ui.get('index.html')!.body, 200, { 'Content-Type': ui.get('index.html')!.type }));
  app.get('/ui/:name{[a-z0-9-]+\\.(js|css|svg)}', (c) => {
    const f = ui.get(c.req.param('name'));
    return f ? c.body(f.body, 200, { 'Content-Type': f.type }) : c.notFound();
  });
  app.notFound((c) =>
    c.json({ error: { code: 'NOT_FOUND', message: `no such page: ${c.req.path.slice(0, 200)}` } }, 404),
  );
  return app;
}
