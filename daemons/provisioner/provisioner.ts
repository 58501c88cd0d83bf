// One pass of the provisioner every PROVISIONER_INTERVAL: read the pool's ads (idle jobs from the Submitter
// ads, execute hosts from the Machine ads, the negotiator's cycle count), reconcile the hosts it started with
// what the provider still has, let the policy decide, and do it. Each decision is one log line with an
// `event` field (start, joined, drain, retire, gone, failed). Hosts are retired only after a drain (the
// startd takes no new claim and what runs finishes), then stopped and their certificate revoked, so a
// retired host's credential is dead.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../lib/config/load.js';
import { writeFileAtomic } from '../../lib/rpc/address-file.js';
import type { CollectorClient } from '../../lib/rpc/clients/collector.js';
import type { StartdClient } from '../../lib/rpc/clients/startd.js';
import { nowSeconds } from '../../lib/time.js';
import { Policy, type Limits, type MachineView, type Managed, type Observation } from './policy.js';
import type { HostHandle, Provider } from './provider.js';

export interface ProvisionerDeps {
  config: Config;
  log: Logger;
  provider: Provider;
  /** A collector client with an admin token (join tokens, revocation) that also reads ads. */
  collector: () => CollectorClient | undefined;
  /** A startd client with an admin token (drain). */
  startd: (address: string, host: string) => StartdClient;
  /** host:port the new hosts dial to join. */
  joinAddress: () => string;
}

/** A ClassAd value as the collector sends it (`"text"`, 3, true) as plain text. */
function plain(v: string | undefined): string {
  if (v === undefined) return '';
  if (v.startsWith('"')) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v.slice(1, -1);
    }
  }
  return v;
}

export function limitsOf(config: Config): Limits {
  return {
    min: config.int('PROVISIONER_MIN_HOSTS'),
    max: config.int('PROVISIONER_MAX_HOSTS'),
    idleTimeout: config.int('PROVISIONER_IDLE_TIMEOUT'),
    startTimeout: config.int('PROVISIONER_START_TIMEOUT'),
    jobsPerHost: config.int('PROVISIONER_JOBS_PER_HOST'),
  };
}

export class Provisioner {
  private managed: Managed[] = [];
  private readonly policy: Policy;
  private readonly stateFile: string;
  private addresses = new Map<string, string>();
  /** Hosts that never joined, in a row: starting again waits 5 s, 10 s, … up to 5 min (a broken pilot
   *  script must not flood the batch system). */
  private failures = 0;
  private holdUntil = 0;

  constructor(private d: ProvisionerDeps) {
    this.policy = new Policy(() => limitsOf(d.config));
    this.stateFile = join(d.config.paths.spool, 'provisioner.json');
    try {
      this.managed = (JSON.parse(readFileSync(this.stateFile, 'utf8')) as { hosts: Managed[] }).hosts.filter(
        (m) => m.handle.provider === d.provider.name,
      );
    } catch {
      this.managed = [];
    }
  }

  get hosts(): readonly Managed[] {
    return this.managed;
  }

  private save() {
    writeFileAtomic(this.stateFile, JSON.stringify({ hosts: this.managed }, null, 1));
  }

  private async observe(c: CollectorClient): Promise<Observation> {
    const [submitters, machines, negotiators] = await Promise.all([
      c.query('Submitter', '', ['IdleJobs']),
      c.query('Machine', 'PartitionableSlot', ['Machine', 'Cpus', 'ChildCount', 'State', 'MyAddress']),
      c.query('Negotiator', '', ['NegotiationCycles']),
    ]);
    const view = new Map<string, MachineView>();
    for (const m of machines) {
      const host = plain(m.Machine).toLowerCase();
      view.set(host, {
        freeCpus: Number(m.Cpus) || 0,
        children: Number(m.ChildCount) || 0,
        draining: plain(m.State) === 'Drained',
      });
      this.addresses.set(host, plain(m.MyAddress));
    }
    return {
      now: nowSeconds(),
      idleJobs: submitters.reduce((n, s) => n + (Number(s.IdleJobs) || 0), 0),
      cycles: negotiators.length ? Math.max(...negotiators.map((n) => Number(n.NegotiationCycles) || 0)) : -1,
      machines: view,
    };
  }

  /** One pass; errors are logged, and the next pass tries again. */
  async pass(): Promise<void> {
    const { log, provider } = this.d;
    const c = this.d.collector();
    if (!c) return;
    const obs = await this.observe(c);
    // hosts that ended on their own (a Slurm allocation's end, a host stopped by hand) are forgotten
    const have = new Set((await provider.list()).map((h) => h.id));
    for (const m of [...this.managed]) {
      if (have.has(m.handle.id)) continue;
      log.info(
        { event: 'gone', host: m.handle.host, id: m.handle.id, provider: provider.name, was: m.state },
        'provisioned host is gone',
      );
      if (m.state === 'starting') this.failed(obs.now);
      this.managed = this.managed.filter((x) => x !== m);
      await this.revoke(c, m.handle.host);
    }
    const before = new Map(this.managed.map((m) => [m.handle.host, m.state]));
    const actions = this.policy.decide(obs, this.managed);
    for (const m of this.managed) {
      if (before.get(m.handle.host) !== 'starting' || m.state !== 'up') continue;
      this.failures = 0;
      log.info(
        { event: 'joined', host: m.handle.host, provider: provider.name, waitedS: obs.now - m.handle.started },
        'provisioned host joined the pool',
      );
    }
    for (const a of actions) {
      if (a.kind === 'start') {
        if (obs.now >= this.holdUntil) await this.start(c, a.count, a.reason, obs.idleJobs);
      } else if (a.kind === 'drain') await this.drain(a.host, a.reason);
      else await this.retire(c, a.host, a.reason);
    }
    this.save();
  }

  private async start(c: CollectorClient, count: number, reason: string, idleJobs: number) {
    const { log, provider } = this.d;
    const ttl = Math.max(60, this.d.config.int('PROVISIONER_START_TIMEOUT'));
    const collector = this.d.joinAddress();
    const joins = [];
    for (let i = 0; i < count; i++) joins.push({ collector, token: (await c.createJoinToken(ttl)).token });
    let handles: HostHandle[] = [];
    try {
      handles = await provider.start(joins);
    } catch (e) {
      log.warn(
        { event: 'failed', provider: provider.name, count, err: (e as Error).message },
        'provider could not start hosts',
      );
      this.failed(nowSeconds());
    }
    for (const h of handles) {
      this.managed.push({ handle: h, state: 'starting' });
      log.info(
        { event: 'start', host: h.host, id: h.id, provider: provider.name, reason, idleJobs },
        'starting an execute host',
      );
    }
    this.save();
  }

  /** A host that never joined: wait longer before the next start. */
  private failed(now: number) {
    this.failures++;
    const wait = Math.min(300, 5 * 2 ** (this.failures - 1));
    this.holdUntil = now + wait;
    this.d.log.warn(
      { event: 'backoff', failures: this.failures, waitS: wait },
      'a provisioned host never joined: waiting before starting another',
    );
  }

  private async drain(host: string, reason: string) {
    const m = this.managed.find((x) => x.handle.host === host);
    const address = this.addresses.get(host.toLowerCase());
    if (!m || !address) return;
    const s = this.d.startd(address, host);
    try {
      const r = await s.drain(false, `retired by the provisioner: ${reason}`);
      m.state = 'draining';
      this.d.log.info(
        { event: 'drain', host, provider: this.d.provider.name, reason, running: r.running },
        'draining an idle execute host',
      );
    } catch (e) {
      this.d.log.warn({ event: 'failed', host, err: (e as Error).message }, 'could not drain an execute host');
    } finally {
      s.close();
    }
  }

  private async retire(c: CollectorClient, host: string, reason: string) {
    const m = this.managed.find((x) => x.handle.host === host);
    if (!m) return;
    try {
      await this.d.provider.stop(m.handle);
    } catch (e) {
      this.d.log.warn({ event: 'failed', host, err: (e as Error).message }, 'could not stop an execute host');
      return;
    }
    this.managed = this.managed.filter((x) => x !== m);
    this.d.log.info(
      { event: 'retire', host, id: m.handle.id, provider: this.d.provider.name, reason },
      'retired an execute host',
    );
    await this.revoke(c, host);
  }

  /** A host that left keeps no credential of the pool. */
  private async revoke(c: CollectorClient, host: string) {
    try {
      await c.revoke(host);
    } catch (e) {
      this.d.log.warn({ event: 'failed', host, err: (e as Error).message }, 'could not revoke a retired host');
    }
  }
}
