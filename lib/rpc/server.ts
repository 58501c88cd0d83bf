// The server side of every daemon: TLS only, the caller's identity on every call (a verified host
// certificate, else a user token, else anonymous), authorization from one table (lib/rpc/authz.ts) before any
// handler runs, typed errors mapped to gRPC status, anything unexpected logged with its stack and reported as
// INTERNAL. Every server also serves the standard health service (grpc.health.v1.Health), whose status the
// daemon sets to what it can do (the schedd NOT_SERVING while its queue cannot be written, ...).
import * as grpc from '@grpc/grpc-js';
import { createServer as createNetServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { DschedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { KeyObject } from 'node:crypto';
import { ANONYMOUS, userIdentity, verifyToken, type Identity } from './auth.js';
import { authorize, isAnonymous, methodName } from './authz.js';
import { SERVER_CHANNEL_OPTIONS } from './channel-options.js';
import { daemonIdentity, serverCredentials, type Revocations, type TlsMaterial } from './tls.js';
import { toServiceError } from './status.js';
import { FRAME_HEADER, FRAMED } from './framing.js';
import { healthProto } from './proto.js';
import { AdmittingDecoder, AnonymousBudget, budgetHost, mib, type AnonymousLimits } from './anonymous-budget.js';
import { UserRequestBudget } from './user-budget.js';
import { checkRequestElements, REQUEST_ELEMENTS } from './request-elements.js';
import { ConnectionLimiter, remoteId, type ConnectionLimits } from './connection-limit.js';

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

// Each handler declares its own request type; a table of them is typed by what they have in common.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type UnaryHandler = (req: any, ctx: CallContext) => Promise<unknown> | unknown;
export type StreamHandler = (
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  req: any,
  call: grpc.ServerWritableStream<unknown, unknown>,
  ctx: CallContext,
) => void | Promise<void>;

/** A client stream answered once: the messages as they arrive (each checked well-formed), then the reply. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type UploadHandler = (messages: AsyncIterable<any>, ctx: CallContext) => Promise<unknown>;

export interface ServiceImpl {
  unary: Record<string, UnaryHandler>;
  stream?: Record<string, StreamHandler>;
  upload?: Record<string, UploadHandler>;
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
  /** Bytes of requests callers without a credential may have being read at once (read at each call, so it
   *  may be changed in place); default ANONYMOUS_LIMITS. */
  anonymousLimits?: AnonymousLimits;
  /** Bytes of requests one user's calls may have being read at once (read at each call); default
   *  USER_REQUEST_BYTES. */
  userRequestLimit?: { bytes: number };
  /** Elements a Submit, SubmitPieces or Edit request may carry (read at each call); default REQUEST_ELEMENTS,
   *  requestElements(MAX_JOBS_PER_SUBMISSION) in the daemons. */
  requestElements?: { max: number };
  /** The health status the server starts with (default SERVING: bound and answering). */
  initialHealth?: ServingStatus;
  /** Connections one client and all clients may hold (read at each connection); default CONNECTIONS_PER_CLIENT
   *  and half the open-files limit in all. */
  connectionLimits?: ConnectionLimits;
}

/** grpc.health.v1 statuses a daemon sets (UNKNOWN and SERVICE_UNKNOWN are the protocol's own). */
export type ServingStatus = 'SERVING' | 'NOT_SERVING';

export interface Health {
  /** The status of the whole server and of each of its services; `why` goes to the log when it changes. */
  set(status: ServingStatus, why?: string): void;
  status(): ServingStatus;
}

export interface RunningServer {
  server: grpc.Server;
  port: number;
  address: string;
  health: Health;
  /** NOT_SERVING first (health watchers are told, and their streams end), then stop. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** A verified, unrevoked host certificate with roles; else a valid user token; else anonymous. A token is
 *  never looked at when a certificate names a daemon. */
function identify(
  call: { metadata: grpc.Metadata; getAuthContext(): { sslPeerCertificate?: import('node:tls').PeerCertificate } },
  opts: ServerOptions,
): Identity {
  const cert = call.getAuthContext().sslPeerCertificate; // set by grpc-js only when it chains to the pool CA
  const daemon = cert ? daemonIdentity(cert, opts.revoked) : undefined;
  if (daemon) return daemon;
  const h = call.metadata.get('authorization')[0];
  if (typeof h === 'string' && h.startsWith('Bearer '))
    return userIdentity(verifyToken(opts.tokenPub, h.slice('Bearer '.length)));
  return ANONYMOUS;
}

// A request body that protobuf cannot decode (truncated, a length past the end, a wrong wire type) made
// grpc-js answer INTERNAL before any handler ran. The deserializer now hands the handler a marker instead,
// so the caller is authenticated first and then told INVALID_ARGUMENT (RPC_MALFORMED).
const MALFORMED = Symbol('malformed request');

/** A reply a handler has already encoded (a page of job ads written straight to wire bytes): sent as is. */
export class EncodedReply {
  /** the bytes in their gRPC frame, when made so (EncodedReply.framed): written to each stream as they are */
  readonly [FRAMED]: Buffer | undefined;
  constructor(
    readonly bytes: Buffer,
    framed?: Buffer,
  ) {
    this[FRAMED] = framed;
  }

  /** A reply from its gRPC frame (frame()): one buffer for every stream it goes to, never copied. */
  static framed(framed: Buffer): EncodedReply {
    return new EncodedReply(framed.subarray(FRAME_HEADER), framed);
  }
}

function tolerantDefinition(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, m] of Object.entries(definition)) {
    out[name] = {
      ...m,
      responseSerialize: (v: unknown) => (v instanceof EncodedReply ? v.bytes : m.responseSerialize(v)),
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
  if (why !== undefined)
    throw new DschedError('RPC_MALFORMED', `the request is not a valid protobuf message: ${String(why).slice(0, 200)}`);
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
    throw new DschedError(
      'UNAUTHENTICATED',
      'this call needs a pool credential (a host certificate or a user token) and none was sent',
    );
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
    const addrs = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && a.family === want);
    host = addrs[0]?.address ?? (bind === '::' ? '::1' : '127.0.0.1');
  }
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** `/dsched.v1.Schedd/Query` → `dsched.v1.Schedd`: the service names the health protocol knows. */
function serviceName(definition: grpc.ServiceDefinition): string | undefined {
  const path = Object.values(definition)[0]?.path;
  return path ? /^\/([\w.]+)\//.exec(path)?.[1] : undefined;
}

/**
 * The health service: one status for the server ("") and each of its services (a daemon serves one, so
 * they move together). Check is open to anyone, as load balancers and probes call it; Watch holds a stream
 * and is for the pool's users and daemons (lib/rpc/authz.ts).
 */
function healthService(
  names: string[],
  initial: ServingStatus,
  log: Logger,
): { impl: ServiceImpl; health: Health; close(): void } {
  let status = initial;
  const known = new Set(['', ...names]);
  const watchers = new Set<{ call: grpc.ServerWritableStream<unknown, unknown>; service: string; last: string }>();
  const reply = (service: string) => ({ status: known.has(service) ? status : 'SERVICE_UNKNOWN' });
  const notify = () => {
    for (const w of watchers) {
      const r = reply(w.service);
      // the protocol sends a status only when it changed
      if (r.status !== w.last) w.call.write(r);
      w.last = r.status;
    }
  };
  return {
    health: {
      set(next, why) {
        if (next === status) return;
        status = next;
        (next === 'SERVING' ? log.info : log.warn).call(log, { health: next, why }, `health: ${next}`);
        notify();
      },
      status: () => status,
    },
    impl: {
      unary: {
        Check(req: { service: string }) {
          if (!known.has(req.service))
            throw new DschedError(
              'SERVICE_UNKNOWN',
              `this server has no service named '${String(req.service).slice(0, 100)}'`,
            );
          return { status };
        },
      },
      stream: {
        Watch(req: { service: string }, call: grpc.ServerWritableStream<unknown, unknown>) {
          const w = { call, service: req.service ?? '', last: reply(req.service).status };
          call.write(reply(req.service));
          watchers.add(w);
          const off = () => watchers.delete(w);
          call.on('cancelled', off);
          call.on('close', off);
          call.on('error', off);
        },
      },
    },
    close() {
      for (const w of watchers) w.call.end();
      watchers.clear();
    },
  };
}

/** The largest request a method open to anyone reads (a chirp's value is a ClassAd of at most 1 MiB). */
export const ANONYMOUS_REQUEST_BYTES = 2 * 1024 * 1024;

/** The anonymous budget a server without `anonymousLimits` keeps (the defaults of the config knobs). */
export const ANONYMOUS_LIMITS: AnonymousLimits = {
  total: 32 * 1024 * 1024,
  perHost: 8 * 1024 * 1024,
  bodySeconds: 60,
};

export const MAX_STREAMS_PER_CONNECTION = 1000;

/** Connections one client (a local user, a remote host) may hold: MAX_CONNECTIONS_PER_CLIENT's default. */
export const CONNECTIONS_PER_CLIENT = 256;

/**
 * Requests that only select jobs (ids, owners, a constraint) are at most this long, whoever sends them: a list
 * of job ids decodes to about 40 times its size, in one turn of the daemon (16 MB of ids held 615 MB of the
 * schedd and 11 s; one request of 512 MB ran it out of memory). 4 MiB is a million ids, more than a command
 * line carries.
 */
export const SELECTION_REQUEST_BYTES = 4 * 1024 * 1024;
const SELECTIONS: ReadonlySet<string> = new Set([
  'Schedd.Act',
  'Schedd.Query',
  'Schedd.QueryJobs',
  'Schedd.QueryAutoclusters',
  'Schedd.WatchJobs',
]);

/**
 * Requests that legitimately grow large, whose elements are counted before they are decoded (requestElements):
 * the fields of each nested message named are counted too, and what to send instead.
 */
const COUNTED: ReadonlyMap<string, { nested: ReadonlySet<number>; advice: string }> = new Map([
  ...['Schedd.Submit', 'Schedd.SubmitPieces'].map(
    (m) =>
      [
        m,
        {
          nested: new Set([3]), // procs: each an Ad of attributes
          advice: 'send the procs in pieces (SubmitPieces, as dsubmit does for more than 10,000 procs)',
        },
      ] as const,
  ),
  ['Schedd.Edit', { nested: new Set<number>(), advice: 'select the jobs by a constraint or by their cluster ids' }],
]);

/** Refuse a counted request with too many elements, or one compressed (its elements cannot be counted). */
function countRequest(method: string, decoder: AdmittingDecoder, max: number): void {
  const counted = COUNTED.get(method);
  if (!counted) return;
  decoder.inspect = (message) => {
    if (message[0] !== 0)
      throw new DschedError(
        'RPC_MALFORMED',
        `${method}: a compressed request is not taken (dsched clients never compress)`,
      );
    checkRequestElements(message.subarray(5), counted.nested, counted.advice, max);
  };
}

/** The user budget a server without `userRequestLimit` keeps (USER_REQUEST_BUDGET's default): the largest request. */
export const USER_REQUEST_BYTES = 512 * 1024 * 1024;

/**
 * A request a call reads is at most `bytes` long, each message's length checked (and, for a caller without a
 * credential, charged to the anonymous budget) from its header, before its body is read: grpc-js sets one limit
 * per server, on the call's decoder, which this replaces. Undefined when grpc-js has no such decoder.
 */
function limitRequest(
  call: grpc.ServerInterceptingCallInterface,
  bytes: number | undefined,
  refuse: (e: unknown) => void,
): AdmittingDecoder | undefined {
  const c = call as unknown as { decoder?: object; maxReceiveMessageSize?: number };
  if (!c.decoder || typeof c.maxReceiveMessageSize !== 'number') return undefined;
  bytes ??= c.maxReceiveMessageSize;
  const decoder = new AdmittingDecoder(bytes, undefined, refuse);
  c.decoder = decoder;
  c.maxReceiveMessageSize = bytes;
  return decoder;
}

/**
 * Charge what an anonymous call's messages declare to `budget` (refused past it, before the body is read),
 * and end the call when a message does not arrive whole in time (`refuse`); returns what gives the charge
 * back, which the call's end runs (grpc-js tells a call's listener onCancel however it ends: answered,
 * cancelled, past its deadline, its stream reset or its connection lost).
 */
function chargeAnonymous(
  call: grpc.ServerInterceptingCallInterface,
  decoder: AdmittingDecoder,
  budget: AnonymousBudget,
  refuse: (e: unknown) => void,
): () => void {
  const host = budgetHost(call.getConnectionInfo().remoteAddress);
  let held = 0;
  let slow: NodeJS.Timeout | undefined;
  decoder.admit = (length) => {
    budget.take(host, length);
    held += length;
    const seconds = budget.limits.bodySeconds;
    clearTimeout(slow);
    slow = setTimeout(
      () =>
        refuse(
          new DschedError(
            'TIMEOUT',
            `the request's body did not arrive within ${seconds} s of its header (ANONYMOUS_REQUEST_TIMEOUT, for calls without a credential)`,
          ),
        ),
      seconds * 1000,
    ).unref();
  };
  decoder.complete = () => clearTimeout(slow);
  return () => {
    clearTimeout(slow);
    decoder.admit = () => {
      throw new DschedError('RPC_MALFORMED', 'a message after the end of the call');
    };
    budget.give(host, held);
    held = 0;
  };
}

/**
 * Charge each message of a user's call to that user's budget from its declared length (refused past it, before
 * the body is read), and give it back once the message has arrived whole; returns what gives back a message cut
 * off by the call's end, however it ends.
 */
function chargeUser(decoder: AdmittingDecoder, budget: UserRequestBudget, user: string): () => void {
  let held = 0;
  decoder.admit = (length) => {
    budget.take(user, length);
    held = length;
  };
  decoder.complete = () => {
    budget.give(user, held);
    held = 0;
  };
  return () => {
    decoder.admit = () => {
      throw new DschedError('RPC_MALFORMED', 'a message after the end of the call');
    };
    budget.give(user, held);
    held = 0;
  };
}

/**
 * The caller is identified, and checked against the table, as soon as its call's headers arrive: grpc-js reads a
 * whole request (up to the server's 512 MB limit) before a handler runs, so a caller with no credential made a
 * daemon hold that much per call, as many calls as it opened. A refused call is answered before a byte of its
 * request is read; a method open to anyone reads at most ANONYMOUS_REQUEST_BYTES, and the requests of callers
 * without a credential together at most what the anonymous budget allows. The identity found is kept
 * for the handler (`admitted`), so a token is verified once.
 */
function admitFirst(
  opts: ServerOptions,
  admitted: WeakMap<grpc.Metadata, Identity>,
  budget: AnonymousBudget,
  userBudget: UserRequestBudget,
  connections: ConnectionLimiter,
): grpc.ServerInterceptor {
  return (descriptor, call) => {
    const method = methodName(descriptor.path);
    const open = isAnonymous(method);
    const name = () => descriptor.path.slice(descriptor.path.lastIndexOf('/') + 1);
    const refuse = (e: unknown) => {
      opts.log.warn({ method: name(), peer: call.getPeer(), err: (e as Error).message }, 'refused call');
      call.sendStatus(toServiceError(e, opts.daemon) as grpc.StatusObject);
    };
    const decoder = limitRequest(
      call,
      open ? ANONYMOUS_REQUEST_BYTES : SELECTIONS.has(method) ? SELECTION_REQUEST_BYTES : undefined,
      refuse,
    );
    if (decoder) countRequest(method, decoder, opts.requestElements?.max ?? REQUEST_ELEMENTS);
    if (decoder && SELECTIONS.has(method))
      decoder.oversize = (length, max) =>
        new DschedError(
          'INPUT_TOO_LARGE',
          `the request is ${mib(length)}; one that selects jobs is at most ${mib(max)} (about a million job ids): ` +
            'select the jobs by a constraint or by their cluster ids, or name fewer at a time',
        );
    let release: (() => void) | undefined;
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, pass) {
            let identity: Identity;
            try {
              identity = authenticate({ metadata, getAuthContext: () => call.getAuthContext() }, opts, open);
              authorize(method, identity);
            } catch (e) {
              refuse(e);
              return;
            }
            if (identity.kind !== 'anonymous') {
              const info = call.getConnectionInfo();
              const remote = remoteId(info.remoteAddress, info.remotePort);
              if (identity.kind === 'daemon') connections.markDaemon(remote);
              else connections.markUser(remote, identity.name);
            }
            if (decoder && identity.kind === 'anonymous') release = chargeAnonymous(call, decoder, budget, refuse);
            else if (decoder && identity.kind === 'user') release = chargeUser(decoder, userBudget, identity.name);
            admitted.set(metadata, identity);
            pass(metadata);
          },
          onCancel() {
            release?.();
            release = undefined;
          },
        });
      },
    });
  };
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const admitted = new WeakMap<grpc.Metadata, Identity>();
  const budget = new AnonymousBudget(opts.anonymousLimits ?? { ...ANONYMOUS_LIMITS });
  const connections = new ConnectionLimiter(
    opts.connectionLimits ?? { perPeer: CONNECTIONS_PER_CLIENT, total: 0 },
    (client, why, count) => opts.log.warn({ client, why, count }, 'connections closed for newer ones'),
  );
  const server = new grpc.Server({
    ...SERVER_CHANNEL_OPTIONS,
    // HTTP/2 streams one connection may have open at once (a client past it waits for one to end): bounds
    // what one connection without a credential holds in calls, far above what a daemon or user opens
    'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION,
    interceptors: [
      admitFirst(
        opts,
        admitted,
        budget,
        new UserRequestBudget(opts.userRequestLimit ?? { bytes: USER_REQUEST_BYTES }),
        connections,
      ),
    ],
  });
  const healthDefinition = healthProto().Health.service as unknown as grpc.ServiceDefinition;
  const hs = healthService(
    opts.services.map((s) => serviceName(s.definition)).filter((n): n is string => !!n),
    opts.initialHealth ?? 'SERVING',
    opts.log,
  );
  for (const { definition, impl } of [...opts.services, { definition: healthDefinition, impl: hs.impl }]) {
    const handlers: grpc.UntypedServiceImplementation = {};
    // who the caller is, and whether the table lets them call this method at all
    const admit = (method: string, call: Parameters<typeof identify>[0]): Identity => {
      const early = admitted.get(call.metadata);
      if (early) return early;
      const identity = authenticate(call, opts, isAnonymous(method));
      authorize(method, identity);
      return identity;
    };
    // one reply to a call (unary, or a client stream): admitted, run, answered with the typed error if any
    const answer = (
      name: string,
      call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown>,
      cb: grpc.sendUnaryData<unknown>,
      run: (ctx: CallContext) => unknown,
    ) => {
      let identity: Identity;
      try {
        identity = admit(methodName(definition[name]?.path ?? name), call);
      } catch (e) {
        opts.log.warn({ method: name, peer: call.getPeer(), err: (e as Error).message }, 'refused call');
        cb(toServiceError(e, opts.daemon) as grpc.ServiceError);
        return;
      }
      const ctx: CallContext = {
        identity,
        peer: call.getPeer(),
        cancelled: () => call.cancelled,
      };
      const t0 = performance.now();
      Promise.resolve()
        .then(() => run(ctx))
        .finally(() => recordCall(name, t0))
        .then(
          (res) => cb(null, res ?? {}),
          (e) => {
            // (a client stream the caller cancelled ends in an error of its own: no fault of the handler)
            if (!(e instanceof DschedError) && !call.cancelled)
              opts.log.error({ method: name, err: e }, 'internal error in handler');
            cb(toServiceError(e, opts.daemon) as grpc.ServiceError);
          },
        );
    };
    for (const [name, fn] of Object.entries(impl.unary))
      handlers[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        answer(name, call, cb, (ctx) => (checkWellFormed(call.request), fn(call.request, ctx)));
    for (const [name, fn] of Object.entries(impl.upload ?? {}))
      handlers[name] = (call: grpc.ServerReadableStream<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        answer(name, call, cb, (ctx) =>
          fn(
            (async function* () {
              for await (const m of call) {
                checkWellFormed(m);
                yield m;
              }
            })(),
            ctx,
          ),
        );
    for (const [name, fn] of Object.entries(impl.stream ?? {})) {
      const method = methodName(definition[name]?.path ?? name);
      handlers[name] = (call: grpc.ServerWritableStream<unknown, unknown>) => {
        let identity: Identity;
        try {
          identity = admit(method, call);
        } catch (e) {
          opts.log.warn({ method: name, peer: call.getPeer(), err: (e as Error).message }, 'refused call');
          call.emit('error', toServiceError(e, opts.daemon));
          return;
        }
        const ctx: CallContext = {
          identity,
          peer: call.getPeer(),
          cancelled: () => call.cancelled,
        };
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
  // the daemon owns its listening socket and hands grpc-js each connection it keeps (connection-limit.ts)
  const injector = server.createConnectionInjector(serverCredentials(opts.tls));
  const listener = createNetServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {}); // a client that resets mid-handshake: nothing to report
    if (connections.admit(socket)) injector.injectConnection(socket);
  });
  const port = await new Promise<number>((resolve, reject) => {
    listener.once('error', (err) =>
      reject(
        new DschedError(
          'DAEMON_UNREACHABLE',
          `${opts.daemon} cannot listen on ${opts.host}:${opts.port}: ${err.message}`,
        ),
      ),
    );
    listener.listen({ host: opts.host.replace(/^\[|\]$/g, '') || undefined, port: opts.port, backlog: 511 }, () =>
      resolve((listener.address() as { port: number }).port),
    );
  });
  // an accept that fails (EMFILE) is not the end of the server
  listener.on('error', (err) => opts.log.warn({ err: err.message }, 'accepting a connection failed'));
  const address = `${advertisedHost(opts.host)}:${port}`;
  return {
    server,
    port,
    address,
    health: hs.health,
    shutdown: (timeoutMs = 3000) =>
      new Promise<void>((resolve) => {
        hs.health.set('NOT_SERVING', 'shutting down');
        hs.close();
        listener.close();
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
