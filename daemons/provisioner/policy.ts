// The provisioner's decisions, apart from any I/O so they can be tested on their own: from what the pool's
// ads say (idle jobs, each execute host's partitionable slot, the negotiator's cycle count) and the hosts
// this provisioner started, decide which to start, drain and stop.
import type { HostHandle } from './provider.js';

export interface Limits {
  min: number;
  max: number;
  /** Seconds a host with no claim stays before it is drained and stopped. */
  idleTimeout: number;
  /** Seconds a started host may take to show its slot before it is given up on. */
  startTimeout: number;
  /** Idle jobs one new host is expected to take (its cpus, for one-cpu jobs). */
  jobsPerHost: number;
}

/** A host's partitionable slot as its ad shows it. */
export interface MachineView {
  freeCpus: number;
  /** Dynamic slots (claims) it holds: 0 = nothing runs and nothing is claimed. */
  children: number;
  draining: boolean;
}

export interface Observation {
  now: number;
  idleJobs: number;
  /** NegotiationCycles from the negotiator's ad (-1 when there is none). */
  cycles: number;
  /** By host name (`Machine`). */
  machines: Map<string, MachineView>;
}

export type HostState = 'starting' | 'up' | 'draining';

export interface Managed {
  handle: HostHandle;
  state: HostState;
  /** Epoch seconds since when the host has held no claim. */
  idleSince?: number;
  /** Epoch seconds its slot ad was last seen. */
  lastSeen?: number;
}

export type Action =
  | { kind: 'start'; count: number; reason: string }
  | { kind: 'drain'; host: string; reason: string }
  | { kind: 'stop'; host: string; reason: string };

export class Policy {
  /** The negotiator's cycle count when idle jobs were first seen with a free slot somewhere. */
  private demandCycles: number | undefined;

  constructor(private limits: () => Limits) {}

  /** Update `managed` in place (states, idle times) and return what to do now. */
  decide(obs: Observation, managed: Managed[]): Action[] {
    const lim = this.limits();
    const actions: Action[] = [];
    for (const m of managed) {
      const ad = obs.machines.get(m.handle.host.toLowerCase());
      if (m.state === 'starting') {
        if (ad) {
          m.state = 'up';
          m.idleSince = obs.now;
          m.lastSeen = obs.now;
        } else if (obs.now - m.handle.started >= lim.startTimeout) {
          actions.push({
            kind: 'stop',
            host: m.handle.host,
            reason: `its slot did not show within ${lim.startTimeout} s`,
          });
        }
        continue;
      }
      if (m.state === 'draining') {
        if (!ad || ad.children === 0)
          actions.push({
            kind: 'stop',
            host: m.handle.host,
            reason: ad ? 'drained: nothing runs there' : 'its slot is gone',
          });
        continue;
      }
      // up
      if (!ad) {
        // its ad expired or it left (a Slurm allocation that ended): the provider's list says whether it is
        // gone; one the provider still has but whose slot stays away (a crashed startd) is stopped
        const away = obs.now - (m.lastSeen ?? obs.now);
        if (away >= lim.startTimeout)
          actions.push({ kind: 'stop', host: m.handle.host, reason: `its slot has been gone for ${away} s` });
        continue;
      }
      m.lastSeen = obs.now;
      if (ad.children > 0) m.idleSince = undefined;
      else m.idleSince ??= obs.now;
    }

    const stopping = new Set(actions.map((a) => (a.kind === 'start' ? '' : a.host)));
    const active = managed.filter((m) => !stopping.has(m.handle.host) && m.state !== 'draining');
    const starting = active.filter((m) => m.state === 'starting').length;

    // retire idle hosts beyond the minimum, oldest idle first
    const idle = active
      .filter((m) => m.state === 'up' && m.idleSince !== undefined && obs.now - m.idleSince >= lim.idleTimeout)
      .sort((a, b) => a.idleSince! - b.idleSince!);
    let keep = active.length;
    for (const m of idle) {
      if (keep <= lim.min || obs.idleJobs > 0) break;
      actions.push({
        kind: 'drain',
        host: m.handle.host,
        reason: `no claim for ${obs.now - m.idleSince!} s (timeout ${lim.idleTimeout} s)`,
      });
      keep--;
    }

    // start hosts for idle jobs nothing can take: none of the pool's (undrained) slots has a free cpu, or
    // the negotiator has run two cycles since the jobs were seen idle beside free cpus and they still are
    const unmet = this.unmet(obs);
    let want = 0;
    let reason = '';
    if (unmet > 0) {
      want = Math.ceil(unmet / Math.max(1, lim.jobsPerHost)) - starting;
      reason = `${unmet} idle job(s) match no slot`;
    }
    if (keep + Math.max(0, want) < lim.min) {
      want = lim.min - keep;
      reason = `below the minimum of ${lim.min} host(s)`;
    }
    want = Math.min(want, lim.max - managed.length + actions.filter((a) => a.kind === 'stop').length);
    if (want > 0) actions.push({ kind: 'start', count: want, reason });
    return actions;
  }

  private unmet(obs: Observation): number {
    if (obs.idleJobs <= 0) {
      this.demandCycles = undefined;
      return 0;
    }
    const free = [...obs.machines.values()].some((m) => !m.draining && m.freeCpus > 0);
    if (!free) {
      this.demandCycles = undefined;
      return obs.idleJobs;
    }
    this.demandCycles ??= obs.cycles;
    return obs.cycles >= 0 && obs.cycles - this.demandCycles >= 2 ? obs.idleJobs : 0;
  }
}
