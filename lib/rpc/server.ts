// The server side of every daemon: TLS only, the caller's identity on every call (a verified host
// certificate, else a user token, else anonymous), authorization from one table (lib/rpc/authz.ts) before any
// handler runs, typed errors mapped to gRPC status, anything unexpected logged with its stack and reported as
// INTERNAL.
import * as grpc from '@grpc/grpc-js';
import { networkInterfaces } from 'node:os';
import { DschedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { KeyObject } from 'node:crypto';
import { ANONYMOUS, userIdentity, verifyToken, type Identity } from './auth.js';
import { authorize, isAnonymous, methodName } from './authz.js';
import { CHANNEL_OPTIONS } from './channel-options.js';
import { daemonIdentity, serverCredentials, type Revocations, type TlsMaterial } from './tls.js';
import { toServiceError } from './status.js';

/** Calls this process served per method (`QueryJobs`) and the seconds they took, for its ads. */
export const rpcStats = new Map<string, { count: number; seconds: number }>();
function recordCall(method: string, t0: number): void {
  let s = rpcStats.get(method);
  if (!s) rpcStats.set(method, (s = { count: 0, seconds: 0 }));
  s.count++;
  s.seconds += (performance.now() - t0) / 1000;
}

export interface CallContext {
  identity: Identity;
  peer: string;
  /** Aborted when the client cancels or the deadline passes. */
  cancelled: () => boolean;
}

export type UnaryHandler = (req: any, ctx: CallContext) => Promise<unknown> | unknown;
export type StreamHandler = (req: any, call: grpc.ServerWritableStream<any, any>, ctx: CallContext) => void | Promise<void>;

export interface ServiceImpl {
  unary: Record<string, UnaryHandler>;
  stream?: Record<string, StreamHandler>;
}

export interface ServerOptions {
  daemon: string;
  log: Logger;
  /** This host's certificate and key, and the pool CA client certificates must chain to. */
  tls: Required<TlsMaterial>;
  /** Verifies user tokens. */
  tokenPub: KeyObject;
  /** Revoked certificate serials (on the central host); a revoked client certificate is refused. */
  revoked?: Revocations;
  host: string;
  port: number;
  services: Array<{ definition: grpc.ServiceDefinition; impl: ServiceImpl }>;
}

export interface RunningServer {
  server: grpc.Server;
  port: number;
  address: string;
  shutdown(timeoutMs?: number): Promise<void>;
}

/** A verified, unrevoked host certificate with roles; else a valid user token; else anonymous. A token is
 *  never looked at when a certificate names a daemon. */
function identify(call: { metadata: grpc.Metadata; getAuthContext(): { sslPeerCertificate?: import('node:tls').PeerCertificate } }, opts: ServerOptions): Identity {
  const cert = call.getAuthContext().sslPeerCertificate; // set by grpc-js only when it chains to the pool CA
  const daemon = cert ? daemonIdentity(cert, opts.revoked) : undefined;
  if (daemon) return daemon;
  const h = call.metadata.get('authorization')[0];
  if (typeof h === 'string' && h.startsWith('Bearer ')) return userIdentity(verifyToken(opts.tokenPub, h.slice('Bearer '.length)));
  return ANONYMOUS;
}

// A request body that protobuf cannot decode (truncated, a length past the end, a wrong wire type) made
// grpc-js answer INTERNAL before any handler ran. The deserializer now hands the handler a marker instead,
// so the caller is authenticated first and then told INVALID_ARGUMENT (RPC_MALFORMED).
const MALFORMED = Symbol('malformed request');

function tolerantDefinition(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, m] of Object.entries(definition)) {
    out[name] = {
      ...m,
      requestDeserialize: (buf: Buffer) => {
        try {
          return m.requestDeserialize(buf);
        } catch (e) {
          return { [MALFORMED]: (e as Error)?.message ?? String(e) };
        }
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

function checkWellFormed(req: unknown): void {
  const why = (req as { [MALFORMED]?: string } | null)?.[MALFORMED];
  if (why !== undefined) throw new DschedError('RPC_MALFORMED', `the request is not a valid protobuf message: ${String(why).slice(0, 200)}`);
}

function authenticate(call: Parameters<typeof identify>[0], opts: ServerOptions, isPublic: boolean): Identity {
  if (isPublic) {
    try {
      return identify(call, opts);
    } catch {
      return ANONYMOUS; // a method open to anyone does not fail on a bad credential
    }
  }
  const id = identify(call, opts);
  if (id.kind === 'anonymous')
    throw new DschedError('UNAUTHENTICATED', 'this call needs a pool credential (a host certificate or a user token) and none was sent');
  return id;
}

/**
 * The host part peers should dial: the bound address, or for a wildcard bind (0.0.0.0, ::) this host's
 * first non-loopback address. IPv6 literals are bracketed.
 */
export function advertisedHost(bind: string): string {
  let host = bind;
  if (bind === '0.0.0.0' || bind === '::' || bind === '') {
    const want = bind === '::' ? 'IPv6' : 'IPv4';
    const addrs = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === want);
    host = addrs[0]?.address ?? (bind === '::' ? '::1' : '127.0.0.1');
  }
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const server = new grpc.Server(CHANNEL_OPTIONS);
  for (const { definition, impl } of opts.services) {
    const handlers: grpc.UntypedServiceImplementation = {};
    // who the caller is, and whether the table lets them call this method at all
    const admit = (method: string, call: Parameters<typeof identify>[0]): Identity => {
      const identity = authenticate(call, opts, isAnonymous(method));
      authorize(method, identity);
      return identity;
    };
    for (const [name, fn] of Object.entries(impl.unary)) {
      const method = methodName(definition[name]?.path ?? name);
      handlers[name] = (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        let identity: Identity;
        try {
          identity = admit(method, call);
        } catch (e) {
          opts.log.warn({ method: name, peer: call.getPeer(), err: (e as Error).message }, 'refused call');
          cb(toServiceError(e, opts.daemon) as grpc.ServiceError);
          return;
        }
        const ctx: CallContext = { identity, peer: call.getPeer(), cancelled: () => call.cancelled };
        const t0 = performance.now();
        Promise.resolve()
          .then(() => (checkWellFormed(call.request), fn(call.request, ctx)))
          .finally(() => recordCall(name, t0))
          .then(
            (res) => cb(null, res ?? {}),
            (e) => {
              if (!(e instanceof DschedError)) opts.log.error({ method: name, err: e }, 'internal error in handler');
              cb(toServiceError(e, opts.daemon) as grpc.ServiceError);
            },
          );
      };
    }
    for (const [name, fn] of Object.entries(impl.stream ?? {})) {
      const method = methodName(definition[name]?.path ?? name);
      handlers[name] = (call: grpc.ServerWritableStream<any, any>) => {
        let identity: Identity;
        try {
          identity = admit(method, call);
        } catch (e) {
          opts.log.warn({ method: name, peer: call.getPeer(), err: (e as Error).message }, 'refused call');
          call.emit('error', toServiceError(e, opts.daemon));
          return;
        }
        const ctx: CallContext = { identity, peer: call.getPeer(), cancelled: () => call.cancelled };
        const t0 = performance.now();
        Promise.resolve()
          .then(() => (checkWellFormed(call.request), fn(call.request, call, ctx)))
          .finally(() => recordCall(name, t0))
          .catch((e) => {
            if (!(e instanceof DschedError)) opts.log.error({ method: name, err: e }, 'internal error in stream');
            call.emit('error', toServiceError(e, opts.daemon));
          });
      };
    }
    server.addService(tolerantDefinition(definition), handlers);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host}:${opts.port}`, serverCredentials(opts.tls), (err, p) =>
      err ? reject(new DschedError('DAEMON_UNREACHABLE', `${opts.daemon} cannot listen on ${opts.host}:${opts.port}: ${err.message}`)) : resolve(p),
    ),
  );
  const address = `${advertisedHost(opts.host)}:${port}`;
  return {
    server,
    port,
    address,
    shutdown: (timeoutMs = 3000) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        t.unref();
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}
