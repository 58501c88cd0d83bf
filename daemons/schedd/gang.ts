// Parallel jobs on the schedd's side: a gang match (all the slots of one job, from the negotiator's gang.ts)
// is claimed whole before anything starts. Every slot is claimed without activation; only when all N claims
// are held is the first chunk (the leader) started with the list of the job's hosts. If one claim fails, the
// others are released and the job stays idle: no partial start. The other claims (the followers) are held
// for the job while it runs (their leases renewed with every other claim) and released when the leader's
// claim goes, whatever the reason.
//
// A restart of the schedd finds them all again: the queue keeps the first chunk's claim (as any job's) and
// each chunk's slot and startd (GangSlots, GangStartds); the other claims' ids are derived from the first's,
// so no secret goes into the job ad. The job goes on only if every claim is still held; else it is stopped
// and every other claim released (their ranks killed), and it runs again whole.
import { createHmac, randomBytes } from 'node:crypto';
import { hostOfName, sameHost } from '../../lib/rpc/authz.js';
import type { StartdClient } from '../../lib/rpc/clients/startd.js';
import type { ClaimRequest } from '../../lib/rpc/generated/dsched/v1/ClaimRequest.js';
import type { GangChunk__Output } from '../../lib/rpc/generated/dsched/v1/GangChunk.js';
import type { JobEvent__Output } from '../../lib/rpc/generated/dsched/v1/JobEvent.js';
import type { Logger } from '../../lib/log.js';
import { jobKey, lit, type Job, type JobQueue } from './queue.js';
import { JobStatus } from '../../lib/job-status.js';
import { leaseClock, type Claim } from './claim.js';

/** What the schedd lends the gang claims: its own steps of a start, so a gang follows the same rules. */
export interface GangSchedd {
  queue: JobQueue;
  log: Logger;
  claims: Map<string, Claim>;
  startd(address: string): StartdClient;
  /** a claim request for `job` (its ad with `extra`) on `slot` with claim id `id`, not activated */
  claimRequest(job: Job, slot: string, id: string, extra: Record<string, string>): ClaimRequest;
  beginStart(job: Job): () => void;
  recordStarting(job: Job, claim: { id: string; startd: string; slot: string } | undefined): Promise<void>;
  startMayHaveHappened(jobs: Job[], startdAddr: string, e: unknown): boolean;
  markRunning(job: Job, claim: Claim): void;
  /** the schedd's address (where the startds send their events) */
  address(): string;
  /** where a startd is now (a restarted one has a new address), then where the claim was made */
  startdAddresses(recorded: string, slot: string): Promise<string[]>;
  releaseClaim(claim: Claim, kill: boolean): Promise<void>;
  pinStartdHost(address: string, host: string): void;
  onQueueChanged(): void;
}

interface Gang {
  job: Job;
  leader: Claim;
  followers: Claim[];
  /** a rank that failed: the whole job ends with its status */
  failed?: { code: number; bySignal: boolean; signal: number; message: string };
  /** one of its claims was lost: the job was stopped to run again whole (why) */
  lost?: string;
  /** the job's cpu seconds when its claims were made (a rank's usage counts from there) */
  base: { user: number; sys: number };
  /** per follower claim: the rank's cpu seconds last reported */
  usage: Map<string, { user: number; sys: number }>;
  /** rebuilt from the queue after a restart: its claims not yet confirmed by their startds */
  restoring?: boolean;
}

/** The host names of a gang's chunks, leader first: what the job's $PBS_NODEFILE lists. */
export const GANG_HOSTS = 'GangHosts';
/** Each chunk's slot and startd address, first chunk first, kept in the queue to find the claims after a restart. */
const GANG_SLOTS = 'GangSlots';
const GANG_STARTDS = 'GangStartds';

/**
 * The claim id of chunk `node` (≥ 1) of a gang: derived from the first chunk's, which the queue keeps (as
 * for any job, never in the ad), so a restarted schedd can name every claim of the gang to its startd.
 */
export function followerClaimId(leader: string, node: number): string {
  return createHmac('sha256', leader).update(`dsched gang chunk ${node}`).digest('base64url');
}

/** A ClassAd list of strings as the queue keeps it, or [] when it is not one. */
function strings(v: unknown): string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : [];
}

/**
 * RemoteHosts and CurrentHosts of a parallel job that runs: every slot its claims recorded, first chunk first
 * (nothing for any other job). Set wherever a job becomes running, so also when the answer to the first
 * chunk's start was lost and the startd says afterwards that the job runs.
 */
export function gangHostAttrs(queue: JobQueue, job: Job): Record<string, string> {
  const slots = strings(queue.value(job, GANG_SLOTS));
  return slots.length ? { RemoteHosts: lit(slots.join(',')), CurrentHosts: String(slots.length) } : {};
}

export class GangClaims {
  /** running gangs by their leader's claim id */
  private gangs = new Map<string, Gang>();

  constructor(private s: GangSchedd) {}

  /** Claim every chunk of a gang match for the next idle job of its autocluster, then start the leader. */
  async claim(autocluster: number, chunks: GangChunk__Output[]): Promise<void> {
    const s = this.s;
    const job = s.queue.takeIdle(autocluster);
    if (!job) return;
    for (const c of chunks) if (c.host) s.pinStartdHost(c.startd, c.host);
    const started = s.beginStart(job);
    const held: Claim[] = [];
    const giveBack = async (why: string, err?: string) => {
      await Promise.all(held.map((c) => s.releaseClaim(c, false)));
      job.matching = false;
      await s.recordStarting(job, undefined);
      s.log.info({ cluster: job.cluster, proc: job.proc, chunks: chunks.length, err }, why);
      s.onQueueChanged();
    };
    try {
      const first = randomBytes(24).toString('base64url');
      const ids = chunks.map((_, i) => (i ? followerClaimId(first, i) : first));
      // recorded with the first chunk's claim, in the same commit, before any startd is asked
      s.queue.update(job, {
        [GANG_SLOTS]: `{${chunks.map((c) => lit(c.slot)).join(', ')}}`,
        [GANG_STARTDS]: `{${chunks.map((c) => lit(c.startd)).join(', ')}}`,
      });
      // what every chunk is told: the hosts (for $PBS_NODEFILE) and the key dsched-rank proves the job with
      // (sent with the claims and the first chunk's start, never written to the queue)
      const hosts = `{${chunks.map((c) => lit(c.host || hostOfName(c.slot))).join(', ')}}`;
      const key = lit(randomBytes(24).toString('base64url'));
      try {
        await s.recordStarting(job, { id: ids[0]!, startd: chunks[0]!.startd, slot: chunks[0]!.slot });
      } catch (e) {
        job.claim = undefined;
        job.matching = false;
        s.queue.update(job, {});
        throw e;
      }
      // every chunk claimed, none started: a refusal anywhere gives all of them back
      const replies = await Promise.allSettled(
        chunks.map((c, i) =>
          s
            .startd(c.startd)
            .requestClaim(
              s.claimRequest(job, c.slot, ids[i]!, { [GANG_HOSTS]: hosts, GangRankKey: key, GangNodeNum: String(i) }),
            ),
        ),
      );
      let refusal: string | undefined;
      replies.forEach((r, i) => {
        const c = chunks[i]!;
        if (r.status === 'rejected') {
          refusal ??= `${c.slot}: ${(r.reason as Error).message}`;
          // a request without an answer may still have made the claim: release it by the id we chose
          held.push({ id: ids[i]!, startd: c.startd, slot: c.slot, lastAc: 0 });
          return;
        }
        const claim: Claim = {
          id: r.value.claim,
          startd: c.startd,
          slot: r.value.slot,
          lastAc: 0,
          renewedAt: leaseClock(),
        };
        held.push(claim);
        if (!sameHost(hostOfName(r.value.slot), hostOfName(c.slot)))
          refusal ??= `${c.slot}: the startd named a slot of another host (${r.value.slot})`;
      });
      if (refusal) return await giveBack('parallel job not started: a claim was refused, all released', refusal);
      if (job.status !== JobStatus.Idle || !s.queue.jobs.has(jobKey(job.cluster, job.proc))) {
        // removed or held while its slots were claimed: give them back, as for an ordinary job
        job.matching = false;
        await Promise.all(held.map((c) => s.releaseClaim(c, false)));
        return;
      }
      const [leader, ...followers] = held as [Claim, ...Claim[]];
      const cpu = (n: string) => Number(s.queue.value(job, n)) || 0;
      const base = { user: cpu('RemoteUserCpu'), sys: cpu('RemoteSysCpu') };
      for (const c of held) s.claims.set(c.id, c);
      const ad = {
        ...s.queue.merged(job),
        [GANG_HOSTS]: hosts,
        GangRankKey: key,
        GangNodeNum: '0',
        GangStartds: `{${held.map((c) => lit(c.startd)).join(', ')}}`,
      };
      let error: string | undefined;
      try {
        const r = await s.startd(leader.startd).activateMany([{ claim: leader.id, job: ad }]);
        error = r.errors[0];
      } catch (e) {
        if (s.startMayHaveHappened([job], leader.startd, e)) {
          this.gangs.set(leader.id, { job, leader, followers, base, usage: new Map() });
          return;
        }
        error = (e as Error).message;
      }
      if (error) {
        for (const c of held) s.claims.delete(c.id);
        return await giveBack('parallel job not started: its first chunk could not start, all slots released', error);
      }
      job.matching = false;
      this.gangs.set(leader.id, { job, leader, followers, base, usage: new Map() });
      s.markRunning(job, leader);
      // the leader's claim is not reused for another job: the next gang needs all its slots again
      leader.lastAc = 0;
    } finally {
      started();
    }
  }

  /** Whether a claim is a follower of a running gang (its events are about no job of its own). */
  isFollower(claimId: string): boolean {
    return this.gangOf(claimId) !== undefined;
  }

  /** Whether a claim is a follower of a gang still being found again after a restart (its events wait). */
  isRestoring(claimId: string): boolean {
    return !!this.gangOf(claimId)?.restoring;
  }

  /**
   * After a restart: the gang of a parallel job whose first chunk's claim the queue records, rebuilt from
   * the queue before its startds are asked (settle), so its ranks' events are known meanwhile.
   */
  restore(job: Job): void {
    const s = this.s;
    if (!job.claim || this.gangs.has(job.claim.id)) return;
    const slots = strings(s.queue.value(job, GANG_SLOTS));
    const startds = strings(s.queue.value(job, GANG_STARTDS));
    // (written by claim() with the first chunk's claim; edits of them are refused: edit.ts)
    if (
      slots.length < 2 ||
      slots.length !== startds.length ||
      s.queue.value(job, 'MachineCount') !== slots.length ||
      typeof s.queue.value(job, 'GangPlacement') !== 'string'
    )
      return;
    if (!sameHost(hostOfName(slots[0]!), hostOfName(job.claim.slot))) return;
    const leader: Claim = { id: job.claim.id, startd: job.claim.startd, slot: job.claim.slot, lastAc: 0 };
    const followers = slots
      .slice(1)
      .map((slot, i): Claim => ({ id: followerClaimId(leader.id, i + 1), startd: startds[i + 1]!, slot, lastAc: 0 }));
    const cpu = (n: string) => Number(s.queue.value(job, n)) || 0;
    this.gangs.set(leader.id, {
      job,
      leader,
      followers,
      base: { user: cpu('RemoteUserCpu'), sys: cpu('RemoteSysCpu') },
      usage: new Map(),
      restoring: true,
    });
  }

  /**
   * A restored gang once its first chunk is settled (reconnected, or found gone): if the job runs, every
   * other claim is asked about at its startd and held again; one that is gone stops the job (sweep), which
   * then runs again whole. If the job does not run, every other claim is released and its rank killed.
   */
  async settle(job: Job, leaderId: string): Promise<void> {
    const s = this.s;
    const g = this.gangs.get(leaderId);
    if (!g) return;
    if (!g.restoring || g.job !== job) return this.sweep();
    if (!s.claims.has(leaderId) || job.claim?.id !== leaderId) {
      this.gangs.delete(leaderId);
      s.log.info(
        { cluster: job.cluster, proc: job.proc, chunks: g.followers.length + 1 },
        'parallel job not running after the restart: releasing its other slots',
      );
      await Promise.all(g.followers.map((c) => s.releaseClaim(c, true)));
      return;
    }
    const byStartd = new Map<string, Claim[]>();
    for (const c of g.followers) byStartd.set(c.startd, [...(byStartd.get(c.startd) ?? []), c]);
    const lost: Claim[] = [];
    await Promise.all(
      [...byStartd].map(async ([recorded, claims]) => {
        let err: unknown;
        for (const addr of await s.startdAddresses(recorded, claims[0]!.slot).catch(() => [recorded])) {
          let r;
          try {
            r = await s.startd(addr).claimStatus(
              claims.map((c) => c.id),
              s.address(),
            );
          } catch (e) {
            err = e;
            continue;
          }
          // held there (with or without a rank running); a claim whose end is being reported ("exited") is
          // gone all the same
          const state = new Map(r.claims.map((c) => [c.claim, c.state]));
          for (const c of claims) {
            const st = state.get(c.id);
            if (st === 'idle' || st === 'running') s.claims.set(c.id, { ...c, startd: addr, renewedAt: leaseClock() });
            else lost.push(c);
          }
          return;
        }
        // not reachable now: held as any claim whose startd is silent, lost once its lease has passed
        s.log.warn(
          { startd: recorded, err: (err as Error | undefined)?.message },
          'could not ask about the other slots of a parallel job',
        );
        for (const c of claims) s.claims.set(c.id, { ...c, renewedAt: leaseClock() });
      }),
    );
    g.followers = g.followers.map((c) => s.claims.get(c.id) ?? c);
    g.restoring = false;
    if (job.status === JobStatus.Running && s.queue.value(job, 'RemoteHosts') === undefined)
      s.queue.update(job, {
        RemoteHosts: lit([g.leader, ...g.followers].map((c) => c.slot).join(',')),
        CurrentHosts: String(g.followers.length + 1),
      });
    if (lost.length)
      s.log.warn(
        { cluster: job.cluster, proc: job.proc, slots: lost.map((c) => c.slot) },
        'parallel job lost some of its slots while the schedd was down',
      );
    else
      s.log.info(
        { cluster: job.cluster, proc: job.proc, chunks: g.followers.length + 1 },
        'reconnected to every chunk of the parallel job',
      );
    this.sweep();
  }

  private gangOf(followerClaim: string): Gang | undefined {
    for (const g of this.gangs.values()) if (g.followers.some((c) => c.id === followerClaim)) return g;
    return undefined;
  }

  /**
   * An event about a rank (a dsched-rank process on a follower claim): one that failed, exited non-zero or
   * was killed ends the whole job with its status (the first chunk is stopped; its exit is then recorded
   * with the rank's status, see leaderEvent).
   */
  rankEvent(ev: JobEvent__Output): void {
    const g = this.gangOf(ev.claim);
    if (!g || g.job.claim?.id !== g.leader.id) return;
    this.countUsage(g, ev);
    if (g.failed) return;
    const failed =
      ev.type === 'failed' ||
      ev.type === 'evicted' ||
      (ev.type === 'exited' && (ev.exit_by_signal || ev.exit_code !== 0));
    if (!failed) return;
    const node = g.followers.findIndex((c) => c.id === ev.claim) + 1;
    const what =
      ev.type === 'exited'
        ? ev.exit_by_signal
          ? `was killed by signal ${ev.exit_signal}`
          : `exited with ${ev.exit_code}`
        : `${ev.type === 'failed' ? 'could not start' : 'was evicted'}${ev.message ? `: ${ev.message}` : ''}`;
    const message = `rank ${node} of the parallel job ${what}`;
    g.failed = {
      code: ev.type === 'exited' ? ev.exit_code : 1,
      bySignal: ev.type === 'exited' && ev.exit_by_signal,
      signal: ev.exit_signal,
      message,
    };
    this.s.log.info(
      { cluster: g.job.cluster, proc: g.job.proc, node, type: ev.type, code: ev.exit_code, signal: ev.exit_signal },
      'a rank failed: ending the parallel job',
    );
    void this.s
      .startd(g.leader.startd)
      .deactivate(g.leader.id, true, message)
      .catch((e) =>
        this.s.log.warn({ slot: g.leader.slot, err: (e as Error).message }, 'could not stop the parallel job'),
      );
  }

  /**
   * A rank's cpu time goes to the job's GangRankUserCpu/GangRankSysCpu (RemoteUserCpu/RemoteSysCpu are the
   * first chunk's): the startd reports a rank's usage counted from the job's usage when it was claimed.
   */
  private countUsage(g: Gang, ev: JobEvent__Output): void {
    const a = ev.update?.attrs ?? {};
    const user = Number(a.RemoteUserCpu);
    const sys = Number(a.RemoteSysCpu);
    if (!Number.isFinite(user) && !Number.isFinite(sys)) return;
    const last = g.usage.get(ev.claim) ?? g.base;
    const add = (now: number, before: number, base: number) =>
      !Number.isFinite(now) ? 0 : now >= before ? now - before : Math.max(0, now - base);
    const du = add(user, last.user, g.base.user);
    const ds = add(sys, last.sys, g.base.sys);
    g.usage.set(ev.claim, {
      user: Number.isFinite(user) ? user : last.user,
      sys: Number.isFinite(sys) ? sys : last.sys,
    });
    if (ev.type === 'exited' || ev.type === 'failed' || ev.type === 'evicted') g.usage.delete(ev.claim); // the next rank starts from the base again
    if (!du && !ds) return;
    const had = (n: string) => Number(this.s.queue.value(g.job, n)) || 0;
    this.s.queue.update(g.job, {
      GangRankUserCpu: (had('GangRankUserCpu') + du).toFixed(2),
      GangRankSysCpu: (had('GangRankSysCpu') + ds).toFixed(2),
    });
  }

  /**
   * The first chunk's event, as the job's: after a rank failed, its end is the rank's exit status; after a
   * claim was lost, it is an eviction (the job runs again, whole).
   */
  leaderEvent(ev: JobEvent__Output): JobEvent__Output {
    const g = this.gangs.get(ev.claim);
    if (g?.lost && !g.failed && ev.type === 'exited') return { ...ev, type: 'evicted', message: g.lost };
    const f = g?.failed;
    if (!f || (ev.type !== 'exited' && ev.type !== 'evicted')) return ev;
    return {
      ...ev,
      type: 'exited',
      exit_code: f.code,
      exit_by_signal: f.bySignal,
      exit_signal: f.signal,
      message: f.message,
    };
  }

  /** Input for a rank: none (dsched-rank's processes run on no transferred file, as pbsdsh's tasks). */
  rankInput(claimId: string, id: { cluster: number; proc: number }): boolean {
    const g = this.gangOf(claimId);
    return !!g && g.job.cluster === id.cluster && g.job.proc === id.proc;
  }

  /**
   * Release the followers of every gang whose leader's claim is gone (the job ended, was removed, held or
   * evicted); stop the job of a gang that lost a follower (the startd forgot it), so it runs again whole.
   */
  sweep(): void {
    for (const [id, g] of this.gangs) {
      if (g.restoring) continue;
      if (!this.s.claims.has(id)) {
        this.gangs.delete(id);
        for (const c of g.followers) if (this.s.claims.has(c.id)) void this.s.releaseClaim(c, true);
        continue;
      }
      const lost = g.followers.find((c) => !this.s.claims.has(c.id));
      if (lost && g.job.claim?.id === id && !g.lost) {
        // the first chunk's claim is released (its job killed first, its end still reported): that end is
        // taken for an eviction (leaderEvent), and the other claims go with it
        g.lost = `the parallel job lost its slot ${lost.slot}`;
        this.s.log.warn(
          { cluster: g.job.cluster, proc: g.job.proc, slot: lost.slot },
          'a parallel job lost one of its slots: stopping it',
        );
        void this.s
          .startd(g.leader.startd)
          .release(g.leader.id)
          .catch((e) =>
            this.s.log.warn({ slot: g.leader.slot, err: (e as Error).message }, 'could not stop the parallel job'),
          );
      }
    }
  }
}
