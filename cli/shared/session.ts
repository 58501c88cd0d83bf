// How a CLI reaches the pool and who it is there. It trusts the pool CA (host/ca.crt or ca/ca.crt) and
// presents no certificate. A user who can read the pool's token key (its owner, root) signs its own admin
// token; anyone else proves who they are to the schedd by creating the file it names.
// The RPC clients (gRPC, the protos), TLS and the ClassAd library are imported when a client is first asked
// for, so a command's --help and its usage errors load none of them.
import { closeSync, openSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { loadConfig, type Config } from '../../lib/config/load.js';
import { addressFile } from '../../lib/config/paths.js';
import { DschedError } from '../../lib/errors.js';
import type { ClientCredentials } from '../../lib/rpc/tls.js';
import { collectorAddress, readAddressFile } from '../../lib/rpc/address-file.js';
import type { CollectorClient } from '../../lib/rpc/clients/collector.js';
import type { MasterClient } from '../../lib/rpc/clients/master.js';
import type { StartdClient } from '../../lib/rpc/clients/startd.js';
import type { NegotiatorClient } from '../../lib/rpc/clients/negotiator.js';
import type { ScheddClient } from '../../lib/rpc/clients/schedd.js';

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

/** `config`: the command's own, when it loaded it already (reading the layers again costs its start). */
export function openSession(config: Config = loadConfig()): Session {
  const user = userInfo().username;
  let token: string | undefined;
  let scheddClient: ScheddClient | undefined;
  let collectorClient: CollectorClient | undefined;
  let negotiatorClient: NegotiatorClient | undefined;
  let masterClient: MasterClient | undefined;
  const startdClients: StartdClient[] = [];
  const otherSchedds: ScheddClient[] = [];
  let tls: ClientCredentials['tls'] | undefined;
  /** The token came from this user's cache (token-cache.ts): if the pool refuses it, it is forgotten. */
  let kept: typeof import('./token-cache.js') | undefined;
  const creds = async (): Promise<ClientCredentials> => {
    tls ??= (await import('../../lib/rpc/tls.js')).cliTls(config.paths);
    return {
      tls,
      token: () => token,
      tokenRefused: () => {
        kept?.dropToken(config.paths, user);
        kept = undefined;
      },
    };
  };
  const newSchedd = async () =>
    new (await import('../../lib/rpc/clients/schedd.js')).ScheddClient(scheddAddress(), await creds());

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
      closeSync(openSync(path, 'wx', 0o600));
    } catch (e) {
      throw new DschedError(
        'UNAUTHENTICATED',
        `cannot create the authentication file ${path}: ${(e as Error).message}`,
      );
    }
    try {
      token = (await c.finishAuth(nonce)).token;
    } finally {
      rmSync(path, { force: true });
    }
    kept = undefined;
    if (!fresh) tokens.keepToken(config.paths, user, token);
  }

  return {
    config,
    user,
    async schedd() {
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
      scheddClient?.close();
      collectorClient?.close();
      negotiatorClient?.close();
    },
  };
}
