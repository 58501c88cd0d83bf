// How the web daemon reaches the pool. It is a gRPC client of the schedd, collector and negotiator, and
// every request is made *as the HTTP caller*: the caller's bearer token is forwarded on a channel that
// presents no certificate, so the schedd authorizes that user exactly as it would the CLIs (ownership,
// private attributes, admins) and never the web daemon's host. A request without a token reads (only reads)
// with a token the web daemon signs for `(anonymous)`, a user who owns no job and is no admin, so it sees what
// any local user's dq shows and nothing private. Only the two watch streams the daemon keeps for everyone
// (job-mirror.ts) use the host certificate, with a projection of public attributes.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ClassAd } from '../../grammar/classad/index.js';
import type { Config } from '../../lib/config/load.js';
import { addressFile } from '../../lib/config/paths.js';
import { collectorAddress, type DaemonContext } from '../../lib/daemon.js';
import { DschedError } from '../../lib/errors.js';
import { readAddressFile } from '../../lib/rpc/address-file.js';
import { loadTokenKey, signToken } from '../../lib/rpc/auth.js';
import { CollectorClient } from '../../lib/rpc/clients/collector.js';
import { NegotiatorClient } from '../../lib/rpc/clients/negotiator.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { cliTls, type ClientCredentials } from '../../lib/rpc/tls.js';

/** Who an HTTP request is. `token` is the caller's own, forwarded as it came. */
export type Caller = { kind: 'user'; name: string; admin: boolean; token: string } | { kind: 'anonymous' };

/** The user anonymous readers read as: not a Unix name (parentheses), so no job can be theirs. */
export const ANONYMOUS_READER = '(anonymous)';

/** Seconds of RPC calls the web daemon made, by method (for /metrics). */
export type RpcObserver = (method: string, seconds: number, ok: boolean) => void;

export class PoolLink {
  private readonly tokenOfCall = new AsyncLocalStorage<string>();
  private readonly userCreds: ClientCredentials;
  private scheddClient?: ScheddClient;
  private collectorClient?: CollectorClient;
  private daemonCollectorClient?: CollectorClient;
  private negotiatorClient?: NegotiatorClient;
  private anonymous?: { token: string; renewAt: number };
  observe: RpcObserver = () => {};

  constructor(
    private readonly ctx: DaemonContext,
    private readonly config: Config,
  ) {
    // the pool CA only: the servers see no certificate, so the token decides who is calling
    this.userCreds = { tls: cliTls(config.paths), token: () => this.tokenOfCall.getStore() };
  }

  /** Whether requests without a token may read (WEB_ANONYMOUS_READ, on a loopback address only). */
  anonymousReads(bound: string): boolean {
    return this.config.bool('WEB_ANONYMOUS_READ') && isLoopback(bound);
  }

  /** Run `fn` with the caller's identity on every RPC it makes. Writes need a user: never anonymous. */
  as<T>(caller: Caller, fn: () => Promise<T>, opts: { write?: boolean } = {}): Promise<T> {
    if (caller.kind === 'user') return this.tokenOfCall.run(caller.token, fn);
    if (opts.write)
      throw new DschedError(
        'UNAUTHENTICATED',
        'this needs a user token (Authorization: Bearer …): anonymous requests only read',
        { hint: 'make one with: dsched token create' },
      );
    return this.tokenOfCall.run(this.anonymousToken(), fn);
  }

  private anonymousToken(): string {
    const now = Date.now();
    if (this.anonymous && now < this.anonymous.renewAt) return this.anonymous.token;
    let key;
    try {
      key = loadTokenKey(this.config.paths.ca.tokenKey);
    } catch {
      throw new DschedError(
        'UNAUTHENTICATED',
        'this web daemon cannot serve readers without a token (it is not on the pool CA host): send a user token',
        {
          hint: 'make one with: dsched token create',
        },
      );
    }
    const token = signToken(key, { user: ANONYMOUS_READER, ttl: 3600 });
    this.anonymous = { token, renewAt: now + 1800_000 };
    return token;
  }

  schedd(): ScheddClient {
    const addr = readAddressFile(addressFile(this.config.paths, 'schedd'))?.address;
    if (!addr) throw new DschedError('SCHEDD_UNREACHABLE', `no schedd is running for ${this.config.paths.home}`);
    if (this.scheddClient?.rpc.address !== addr) {
      this.scheddClient?.close();
      this.scheddClient = this.timed(new ScheddClient(addr, this.userCreds));
    }
    return this.scheddClient;
  }

  collector(): CollectorClient {
    const addr = collectorAddress(this.config);
    if (!addr) throw new DschedError('COLLECTOR_UNREACHABLE', `no collector is running for ${this.config.paths.home}`);
    if (this.collectorClient?.rpc.address !== addr) {
      this.collectorClient?.close();
      this.collectorClient = this.timed(new CollectorClient(addr, this.userCreds));
    }
    return this.collectorClient;
  }

  /** The negotiator at the address of its ad (as the caller). */
  async negotiator(): Promise<NegotiatorClient> {
    const ads = await this.collector().query('Negotiator', '', ['MyAddress']);
    const addr = ads
      .map((a) => ClassAd.fromRecord(a).lookupJS('MyAddress'))
      .find((v): v is string => typeof v === 'string' && v !== '');
    if (!addr) throw new DschedError('DAEMON_UNREACHABLE', 'no negotiator is advertised in the collector');
    if (this.negotiatorClient?.rpc.address !== addr) {
      this.negotiatorClient?.close();
      this.negotiatorClient = this.timed(new NegotiatorClient(addr, this.userCreds));
    }
    return this.negotiatorClient;
  }

  /** The daemon's own clients (host certificate) for the shared watch streams. */
  daemonSchedd(): ScheddClient | undefined {
    const addr = readAddressFile(addressFile(this.config.paths, 'schedd'))?.address;
    return addr ? new ScheddClient(addr, this.ctx.creds) : undefined;
  }
  daemonCollector(): CollectorClient | undefined {
    const addr = collectorAddress(this.config);
    return addr ? new CollectorClient(addr, this.ctx.creds) : undefined;
  }
  /**
   * The daemon's own collector client for its periodic calls (the utilisation samples), kept while the
   * collector's address stays: a new one each time would be a TLS handshake every 10 s on an idle pool.
   */
  sharedDaemonCollector(): CollectorClient | undefined {
    const addr = collectorAddress(this.config);
    if (!addr) return undefined;
    if (this.daemonCollectorClient?.rpc.address !== addr) {
      this.daemonCollectorClient?.close();
      this.daemonCollectorClient = new CollectorClient(addr, this.ctx.creds);
    }
    return this.daemonCollectorClient;
  }

  /** Unary calls timed for /metrics (streams are timed where they are read). */
  private timed<T extends { rpc: { unary: (...args: never[]) => unknown } }>(client: T): T {
    const rpc = client.rpc as unknown as { unary: (m: string, ...rest: unknown[]) => Promise<unknown> };
    const unary = rpc.unary.bind(rpc);
    rpc.unary = (method: string, ...rest: unknown[]) => {
      const t0 = performance.now();
      return unary(method, ...rest).then(
        (r) => (this.observe(method, (performance.now() - t0) / 1000, true), r),
        (e) => {
          this.observe(method, (performance.now() - t0) / 1000, false);
          throw e;
        },
      );
    };
    return client;
  }

  close(): void {
    this.scheddClient?.close();
    this.collectorClient?.close();
    this.negotiatorClient?.close();
    this.daemonCollectorClient?.close();
  }
}

export function isLoopback(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '');
  return a === 'localhost' || a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a);
}
