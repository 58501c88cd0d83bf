// dsched web: the pool over HTTP (a JSON API under /v1 with its OpenAPI document, server-sent events, the
// dashboard, Prometheus /metrics). A gRPC client of the schedd, collector and negotiator like the CLIs, started
// by the master like the other daemons; it listens on WEB_ADDRESS (loopback by default) and writes
// run/web.address (host:port) once it serves, which `dsched start` prints as a URL.
import { serve } from '@hono/node-server';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type ServerOptions } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addressFile } from '../../lib/config/paths.js';
import { daemonContext, onShutdown } from '../../lib/daemon.js';
import { writeAddressFile } from '../../lib/rpc/address-file.js';
import { ConnectionLimiter, remoteId } from '../../lib/rpc/connection-limit.js';
import { JobMirror } from './job-mirror.js';
import { Metrics } from './metrics.js';
import { PoolLink } from './pool-link.js';
import { StalledReaders } from './stalled-readers.js';
import { webApp } from './server.js';

const ctx = daemonContext('web');
const { config, log } = ctx;
const bind = config.str('WEB_ADDRESS');
const link = new PoolLink(ctx, config);
const hidden = () => new Set(['environment', 'env', ...config.list('PRIVATE_JOB_ATTRS').map((n) => n.toLowerCase())]);
const mirror = new JobMirror(link, log, hidden, () => config.int('WEB_JOBS_IDLE'));
const metrics = new Metrics(mirror);
link.observe = (method, seconds, ok) => metrics.webRpc.observe({ method, ok: String(ok) }, seconds);

// the dashboard's files: beside this file in dist/ (copied by the build), or in the sources under tsx
const here = dirname(fileURLToPath(import.meta.url));
const uiDir = existsSync(join(here, 'ui')) ? join(here, 'ui') : join(here, '..', '..', '..', 'daemons', 'web', 'ui');

let port = 0;
const hostPart = bind.includes(':') ? `[${bind}]` : bind;
const names = () => {
  const out = new Set<string>();
  for (const h of ['localhost', '127.0.0.1', '[::1]', hostPart, ...config.list('WEB_ALLOWED_HOSTS')])
    out.add(`${h.toLowerCase()}:${port}`);
  return out;
};
const app = webApp({
  link,
  mirror,
  config,
  log,
  metrics,
  uiDir,
  anonymousReads: () => link.anonymousReads(bind),
  guard: {
    log,
    tokenPub: ctx.tokenPub,
    hosts: names,
    corsOrigins: () => new Set(config.list('WEB_CORS_ORIGINS')),
    maxBody: () => config.int('WEB_MAX_BODY') * 1024,
    anonymousReads: () => link.anonymousReads(bind),
    onUser: (socket, user) => connections.markUser(remoteId(socket.remoteAddress, socket.remotePort), user),
  },
});

// Node answers requests sent back to back on one connection (pipelining) without waiting for the answers to
// be read, and keeps every unsent answer: one client that sent thousands and read none made the daemon hold
// hundreds of MB. Browsers send one at a time; a connection with more than this many unanswered is closed, and
// the requests past it are not handled.
const MAX_PIPELINED = 16;
const idleMs = config.int('WEB_IDLE_TIMEOUT') * 1000;
const inFlight = new WeakMap<Socket, number>();
const createServer = ((options: ServerOptions, handle: RequestListener) =>
  createHttpServer(options, (req, res) => {
    const socket = req.socket;
    const n = (inFlight.get(socket) ?? 0) + 1;
    if (n > MAX_PIPELINED || socket.destroyed) return socket.destroy();
    inFlight.set(socket, n);
    res.once('close', () => inFlight.set(socket, (inFlight.get(socket) ?? 1) - 1));
    handle(req, res);
  })) as typeof createHttpServer;

const server = serve(
  { fetch: app.fetch, port: config.int('WEB_PORT'), hostname: bind, createServer },
  (info: AddressInfo) => {
    port = info.port;
    mirror.start();
    writeAddressFile(addressFile(config.paths, 'web'), `${hostPart}:${port}`);
    log.info({ url: `http://${hostPart}:${port}/` }, 'web serving');
  },
);
server.on('error', (e) => {
  log.fatal({ err: e }, `web cannot listen on ${bind}:${config.int('WEB_PORT')}`);
  process.exit(1);
});
// one client (a user, by the token of their requests; else this host, a remote host) cannot hold every socket
// the daemon may open (lib/rpc/connection-limit.ts)
const connections = new ConnectionLimiter(
  {
    get perPeer() {
      return config.int('MAX_CONNECTIONS_PER_CLIENT');
    },
    get total() {
      return config.int('MAX_CONNECTIONS');
    },
  },
  (client, why, count) => log.warn({ client, why, count }, 'connections closed for newer ones'),
);
// a client that stopped reading its answers kept them, unsent, in memory for good (stalled-readers.ts)
const stalled = new StalledReaders(idleMs, (socket, unsent) =>
  log.info(
    { client: remoteId(socket.remoteAddress, socket.remotePort), unsent },
    'connection closed: its client read nothing of its answers for WEB_IDLE_TIMEOUT',
  ),
);
server.on('connection', (socket: Socket) => {
  connections.admit(socket);
  stalled.watch(socket);
});
// slow clients must not hold sockets forever: headers and whole requests are bounded in time, a connection with
// nothing read or written for WEB_IDLE_TIMEOUT is closed (Node's socket timeout, which the server sets again
// after each keep-alive wait) and one whose answers wait unread that long too; event streams send a comment at
// half that, so an open stream is never idle
(server as import('node:http').Server).headersTimeout = 10_000;
(server as import('node:http').Server).requestTimeout = 60_000;
(server as import('node:http').Server).timeout = idleMs;

onShutdown(ctx, async () => {
  mirror.stop();
  stalled.stop();
  link.close();
  await new Promise<void>((resolve) => {
    (server as import('node:http').Server).closeAllConnections?.();
    server.close(() => resolve());
  });
});
