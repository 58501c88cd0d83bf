// The server side of every daemon: authentication on every call, typed errors mapped to gRPC status,
// anything unexpected logged with its stack and reported as INTERNAL.
import * as grpc from '@grpc/grpc-js';
import { networkInterfaces } from 'node:os';
import { DschedError } from '../errors.js';
import type { Logger } from '../log.js';
import { identityOf, verifyToken, type Identity } from './auth.js';
import { CHANNEL_OPTIONS } from './channel-options.js';
import { toServiceError } from './status.js';

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
  /** Methods callable without a token (the authentication handshake itself). */
  public?: string[];
}

export interface ServerOptions {
  daemon: string;
  log: Logger;
  secret: Buffer;
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

const PUBLIC_ANON: Identity = { kind: 'user', name: '', admin: false };

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

function authenticate(metadata: grpc.Metadata, secret: Buffer): Identity {
  const h = metadata.get('authorization')[0];
  if (typeof h !== 'string' || !h.startsWith('Bearer '))
    throw new DschedError('UNAUTHENTICATED', 'this call needs a pool token and none was sent');
  return identityOf(verifyToken(secret, h.slice('Bearer '.length)));
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
    const isPublic = new Set(impl.public ?? []);
    for (const [name, fn] of Object.entries(impl.unary)) {
      handlers[name] = (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        let identity: Identity;
        try {
          identity = isPublic.has(name) ? PUBLIC_ANON : authenticate(call.metadata, opts.secret);
        } catch (e) {
          opts.log.warn({ method: name, peer: call.getPeer(), err: (e as Error).message }, 'refused unauthenticated call');
          cb(toServiceError(e, opts.daemon) as grpc.ServiceError);
          return;
        }
        const ctx: CallContext = { identity, peer: call.getPeer(), cancelled: () => call.cancelled };
        Promise.resolve()
          .then(() => (checkWellFormed(call.request), fn(call.request, ctx)))
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
      handlers[name] = (call: grpc.ServerWritableStream<any, any>) => {
        let identity: Identity;
        try {
          identity = authenticate(call.metadata, opts.secret);
        } catch (e) {
          call.emit('error', toServiceError(e, opts.daemon));
          return;
        }
        const ctx: CallContext = { identity, peer: call.getPeer(), cancelled: () => call.cancelled };
        Promise.resolve()
          .then(() => (checkWellFormed(call.request), fn(call.request, call, ctx)))
          .catch((e) => {
            if (!(e instanceof DschedError)) opts.log.error({ method: name, err: e }, 'internal error in stream');
            call.emit('error', toServiceError(e, opts.daemon));
          });
      };
    }
    server.addService(tolerantDefinition(definition), handlers);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
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
