// How a CLI reaches the pool and who it is there. It trusts the pool CA (host/ca.crt or ca/ca.crt) and
// presents no certificate. A user who can read the pool's token key (its owner, root) signs its own admin
// token; anyone else proves who they are to the schedd by creating the file it names.
// The RPC clients (gRPC, the protos), TLS and the ClassAd library are imported when a client is first asked
// for, so a command's --help and its usage errors load none of them.
import { mkdirSync, rmSync } from 'node:fs';
import { loadConfig, type Config } from '../../lib/config/load.js';
import { addressFile } from '../../lib/config/paths.js';
import { DschedError } from '../../lib/errors.js';
import { ownAccount } from '../../lib/users.js';
import type { ClientCredentials } from '../../lib/rpc/tls.js';
import { collectorAddress, readAddressFile } from '../../lib/rpc/address-file.js';
import type { CollectorClient } from '../../lib/rpc/clients/collector.js';
import type { MasterClient } from '../../lib/rpc/clients/master.js';
import type { StartdClient } from '../../lib/rpc/clients/startd.js';
import type { NegotiatorClient } from '../../lib/rpc/clients/negotiator.js';
import type { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { io } from './io.js';

export interface Session {
  config: Config;
  user: string;
  schedd(): Promise<ScheddClient>;
  collector(): Promise<CollectorClient>;
  /** The negotiator, found through its ad in the collector. */
  negotiator(): Promise<NegotiatorClient>;
  /** This home's master (stop, reconfig, status). */
  master(): Promise<MasterClient>;
  /** Another schedd of the pool, at the address of its Scheduler ad (dq -name, -global); closed with the session. */
  scheddAt(address: string): Promise<ScheddClient>;
  /** A startd at an address from its Machine ad (drain); closed with the session. */
  startd(address: string): Promise<StartdClient>;
  /** This user's bearer token (`dsched token create`, for the HTTP API). */
  token(): Promise<string>;
  close(): void;
}

/**
 * A schedd client kept by the command agent between commands (keepSessionsWarm): its channel stays connected
 * and its token is used again for a short while. Only the agent keeps any: it serves one user, one build and
 * one configuration (the socket's name says which).
 */
interface Warm {
  client?: Promise<ScheddClient>;
  token?: string;
  tokenAt: number;
  /** Sessions using it now. */
  users: number;
  dropped: boolean;
}
let warm: Map<string, Warm> | undefined;
/** The warm clients each running command used (by its io()), for dropWarmOf. */
const usedBy = new WeakMap<object, Set<Warm>>();
/** How long a kept token is sent again without asking for it anew (ms): what the pool decides stays fresh. */
const WARM_TOKEN_MS = 60_000;

/** Keep schedd clients and tokens between commands (the command agent calls this once). */
export function keepSessionsWarm(): void {
  warm ??= new Map();
}

function release(w: Warm): void {
  w.users--;
  if (w.dropped && w.users <= 0)
    void w.client?.then(
      (c) => c.close(),
      () => undefined,
    );
}

/** Forget the warm clients the command with this io() used (it failed: the next command connects afresh). */
export function dropWarmOf(ctx: object): void {
  for (const w of usedBy.get(ctx) ?? []) {
    if (w.dropped) continue;
    w.dropped = true;
    for (const [k, v] of warm ?? []) if (v === w) warm!.delete(k);
    w.users++;
    release(w);
  }
}

/** Why a command refuses HTCondor's -pool: a session opens the pool its DSCHED_HOME names. */
export const ONE_POOL_ONLY =
  "dsched commands talk to the pool their DSCHED_HOME names: run it with DSCHED_HOME set to that pool's home for another";

/** `config`: the command's own, when it loaded it already (reading the layers again costs its start). */
export function openSession(config: Config = loadConfig({ env: io().env })): Session {
  const user = ownAccount();
  let token: string | undefined;
  let scheddClient: ScheddClient | undefined;
  let collectorClient: CollectorClient | undefined;
  let negotiatorClient: NegotiatorClient | undefined;
  let masterClient: MasterClient | undefined;
  const startdClients: StartdClient[] = [];
  const otherSchedds: ScheddClient[] = [];
  let tls: ClientCredentials['tls'] | undefined;
  let borrowed: Warm | undefined;
  /** The token came from this user's cache (token-cache.ts): if the pool refuses it, it is forgotten. */
  let kept: typeof import('./token-cache.js') | undefined;
  /** `w`: a warm client's, which sends the token kept with it (the session that made it may be long gone). */
  const creds = async (w?: Warm): Promise<ClientCredentials> => {
    tls ??= (await import('../../lib/rpc/tls.js')).cliTls(config.paths);
    return {
      tls,
      token: () => (w ? w.token : token),
      tokenRefused: () => {
        if (w) w.token = undefined;
        kept?.dropToken(config.paths, user);
        kept = undefined;
      },
    };
  };
  const newSchedd = async (w?: Warm) =>
    new (await import('../../lib/rpc/clients/schedd.js')).ScheddClient(scheddAddress(), await creds(w));

  /** The agent's warm client for this schedd and user, made when missing; its token fresh enough to send. */
  async function warmSchedd(pool: Map<string, Warm>): Promise<ScheddClient> {
    const key = `${config.paths.home}\0${scheddAddress()}\0${user}`;
    let w = pool.get(key);
    if (!w) {
      w = { tokenAt: 0, users: 0, dropped: false };
      pool.set(key, w);
    }
    w.users++;
    borrowed = w;
    const ctx = io();
    usedBy.set(ctx, (usedBy.get(ctx) ?? new Set()).add(w));
    w.client ??= newSchedd(w);
    const client = await w.client;
    if (w.token && Date.now() - w.tokenAt < WARM_TOKEN_MS) token = w.token;
    else {
      await ensureToken(client);
      [w.token, w.tokenAt] = [token, Date.now()];
    }
    return client;
  }

  const scheddAddress = () => {
    const a = readAddressFile(addressFile(config.paths, 'schedd'))?.address;
    if (!a) throw new DschedError('SCHEDD_UNREACHABLE', `no schedd is running for ${config.paths.home}`);
    return a;
  };

  /** `fresh`: a token of its own (`dsched token create`), never the kept one. */
  async function ensureToken(client: ScheddClient | undefined, fresh = false): Promise<void> {
    if (token && !fresh) return;
    const [{ loadTokenKey, signToken }, tokens] = await Promise.all([
      import('../../lib/rpc/auth.js'),
      import('./token-cache.js'),
    ]);
    let key;
    try {
      key = loadTokenKey(config.paths.ca.tokenKey);
    } catch {
      key = undefined;
    }
    if (key) {
      // whoever can read the pool's token key (its owner, root) is an admin of the pool anyway
      token = signToken(key, { user, ttl: 3600, admin: true });
      return;
    }
    const k = fresh ? undefined : tokens.keptToken(config.paths, user);
    if (k) {
      [token, kept] = [k, tokens];
      return;
    }
    const c = client ?? (await newSchedd());
    const { path, nonce } = await c.beginAuth(user);
    try {
      // a directory only its owner may move (daemons/schedd/fs-auth.ts says why)
      mkdirSync(path, 0o700);
    } catch (e) {
      throw new DschedError(
        'UNAUTHENTICATED',
        `cannot create the authentication directory ${path}: ${(e as Error).message}`,
      );
    }
    try {
      token = (await c.finishAuth(nonce)).token;
    } finally {
      rmSync(path, { recursive: true, force: true });
    }
    kept = undefined;
    if (!fresh) tokens.keepToken(config.paths, user, token);
  }

  return {
    config,
    user,
    async schedd() {
      if (!scheddClient && warm) scheddClient = await warmSchedd(warm);
      if (!scheddClient) {
        scheddClient = await newSchedd();
        await ensureToken(scheddClient);
      }
      return scheddClient;
    },
    async collector() {
      if (!collectorClient) {
        const addr = collectorAddress(config);
        if (!addr) throw new DschedError('COLLECTOR_UNREACHABLE', `no collector is running for ${config.paths.home}`);
        if (!token) await ensureToken(undefined);
        collectorClient = new (await import('../../lib/rpc/clients/collector.js')).CollectorClient(addr, await creds());
      }
      return collectorClient;
    },
    async negotiator() {
      if (!negotiatorClient) {
        const ads = await (await this.collector()).query('Negotiator');
        const { ClassAd } = await import('../../grammar/classad/index.js');
        const addr = ads
          .map((a) => ClassAd.fromRecord(a).lookupJS('MyAddress'))
          .find((v): v is string => typeof v === 'string' && v !== '');
        if (!addr) throw new DschedError('DAEMON_UNREACHABLE', 'no negotiator is advertised in the collector');
        negotiatorClient = new (await import('../../lib/rpc/clients/negotiator.js')).NegotiatorClient(
          addr,
          await creds(),
        );
      }
      return negotiatorClient;
    },
    async master() {
      if (!masterClient) {
        const addr = readAddressFile(addressFile(config.paths, 'master'))?.address;
        if (!addr) throw new DschedError('POOL_NOT_RUNNING', `no pool is running for ${config.paths.home}`);
        if (!token) await ensureToken(undefined);
        masterClient = new (await import('../../lib/rpc/clients/master.js')).MasterClient(addr, await creds());
      }
      return masterClient;
    },
    async scheddAt(address: string) {
      if (!token) await ensureToken(undefined);
      const c = new (await import('../../lib/rpc/clients/schedd.js')).ScheddClient(address, await creds());
      otherSchedds.push(c);
      return c;
    },
    async startd(address: string) {
      if (!token) await ensureToken(undefined);
      const c = new (await import('../../lib/rpc/clients/startd.js')).StartdClient(address, await creds());
      startdClients.push(c);
      return c;
    },
    async token() {
      await ensureToken(undefined, true);
      return token!;
    },
    close() {
      masterClient?.close();
      for (const c of startdClients) c.close();
      for (const c of otherSchedds) c.close();
      if (borrowed) release(borrowed);
      else scheddClient?.close();
      borrowed = undefined;
      collectorClient?.close();
      negotiatorClient?.close();
    },
  };
}
