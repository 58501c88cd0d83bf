// What every HTTP request passes before a handler sees it. The threats: a web page in the user's browser
// calling the API (CSRF; DNS rebinding onto 127.0.0.1), a local user posing as another, oversized bodies, and
// error text that tells an attacker about the daemon. So: the Host header must name this daemon; there are no
// cookies at all (a token travels only in the Authorization header, which a page of another origin cannot send
// without a CORS preflight that is refused unless WEB_CORS_ORIGINS lists it); a state change with an Origin
// header from elsewhere is refused; bodies are bounded; errors are a code and a sentence, never a stack.
import type { Socket } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { KeyObject } from 'node:crypto';
import { DschedError, ERROR_CODES, GrpcStatus } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { userIdentity, verifyToken } from '../../lib/rpc/auth.js';
import type { Caller } from './pool-link.js';

export type WebEnv = { Variables: { caller: Caller } };

const HTTP_OF_GRPC: Record<number, number> = {
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.UNAUTHENTICATED]: 401,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.FAILED_PRECONDITION]: 409,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 413,
  [GrpcStatus.UNIMPLEMENTED]: 501,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
};

/** An error as the API answers it: `{error: {code, message, hint}}` and the HTTP status of its code. */
export function errorResponse(c: Context, e: unknown, log: Logger): Response {
  // hono's own refusals (a body that is not JSON) carry their status
  if (e instanceof HTTPException)
    return c.json({ error: { code: 'USAGE', message: e.message.slice(0, 200) || 'malformed request' } }, e.status);
  if (e instanceof DschedError) {
    const status = HTTP_OF_GRPC[ERROR_CODES[e.code].status] ?? 500;
    if (e.code === 'QUERY_TOO_EXPENSIVE' || e.code === 'TOO_MANY_CLIENTS')
      return c.json({ error: { code: e.code, message: e.message, hint: e.hint } }, 429);
    return c.json({ error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } }, status as 400);
  }
  // the stack goes to the log, never to the caller
  log.error({ err: e, path: c.req.path }, 'internal error in an HTTP handler');
  return c.json({ error: { code: 'INTERNAL', message: 'internal error (see the web daemon log)' } }, 500);
}

export interface GuardOptions {
  log: Logger;
  tokenPub: KeyObject;
  /** host:port names the Host header may carry */
  hosts: () => Set<string>;
  corsOrigins: () => Set<string>;
  maxBody: () => number;
  anonymousReads: () => boolean;
  /** A request on this connection carried `user`'s valid token (the connection bound counts it against them). */
  onUser?: (socket: Socket, user: string) => void;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function guard(opts: GuardOptions): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    // DNS rebinding: a page on evil.example resolved to 127.0.0.1 would be same-origin with us
    const host = (c.req.header('host') ?? '').toLowerCase();
    if (!opts.hosts().has(host))
      return c.json(
        {
          error: { code: 'PERMISSION_DENIED', message: `this daemon does not answer for host "${host.slice(0, 100)}"` },
        },
        421 as 400,
      );

    const origin = c.req.header('origin');
    const self = `http://${host}`;
    const allowed = origin !== undefined && (origin === self || opts.corsOrigins().has(origin));
    if (origin !== undefined && allowed && origin !== self) {
      c.header('Access-Control-Allow-Origin', origin);
      c.header('Vary', 'Origin');
    }
    if (c.req.method === 'OPTIONS') {
      if (!allowed) return c.body(null, 403);
      c.header('Access-Control-Allow-Methods', 'GET, POST');
      c.header('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      c.header('Access-Control-Max-Age', '600');
      return c.body(null, 204);
    }
    // CSRF: a state change from a page of another origin is refused whatever it carries
    if (UNSAFE.has(c.req.method) && origin !== undefined && !allowed)
      return c.json(
        {
          error: {
            code: 'PERMISSION_DENIED',
            message: `requests from ${origin.slice(0, 200)} may not change anything here`,
          },
        },
        403,
      );
    // a body must be JSON (a form post from another site cannot be), and bounded
    if (UNSAFE.has(c.req.method)) {
      if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json'))
        return c.json({ error: { code: 'USAGE', message: 'the body must be application/json' } }, 415 as 400);
      const len = Number(c.req.header('content-length') ?? NaN);
      if (!Number.isFinite(len))
        return c.json({ error: { code: 'USAGE', message: 'a body needs a Content-Length' } }, 411 as 400);
      if (len > opts.maxBody())
        return c.json(
          {
            error: {
              code: 'INPUT_TOO_LARGE',
              message: `the body is ${len} bytes; at most ${opts.maxBody()} are accepted (WEB_MAX_BODY)`,
            },
          },
          413,
        );
    }

    // who is calling: a pool user token, verified here and forwarded as it came; else anonymous
    const auth = c.req.header('authorization');
    if (auth !== undefined) {
      const m = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(auth);
      if (!m)
        return c.json({ error: { code: 'UNAUTHENTICATED', message: 'Authorization must be "Bearer TOKEN"' } }, 401);
      let id;
      try {
        id = userIdentity(verifyToken(opts.tokenPub, m[1]!));
      } catch (e) {
        return errorResponse(c, e, opts.log);
      }
      c.set('caller', { kind: 'user', name: id.name, admin: id.admin, token: m[1]! });
      const socket = (c.env as { incoming?: { socket?: Socket } } | undefined)?.incoming?.socket;
      if (socket) opts.onUser?.(socket, id.name);
    } else {
      c.set('caller', { kind: 'anonymous' });
      const open =
        c.req.path === '/' ||
        c.req.path.startsWith('/ui/') ||
        c.req.path === '/v1/openapi.json' ||
        c.req.path === '/v1/whoami';
      if (!open && !opts.anonymousReads())
        return c.json(
          {
            error: {
              code: 'UNAUTHENTICATED',
              message: 'this web daemon serves only requests with a user token (Authorization: Bearer …)',
              hint: 'make one with: dsched token create',
            },
          },
          401,
        );
    }

    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'no-store');
    c.header('X-Frame-Options', 'DENY');
    c.header(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    );
    await next();
  };
}
