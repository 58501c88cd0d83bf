// Parallel jobs on the schedd's side: a gang match (all the slots of one job, from the negotiator's gang.ts)
// is claimed whole before anything starts. Every slot is claimed without activation; only when all N claims
// are held is the first chunk (the leader) started with the list of the job's hosts. If one claim fails, the
// others are released and the job stays idle: no partial start. The other claims (the followers) are held
// for the job while it runs (their leases renewed with every other claim) and released when the leader's
// claim goes, whatever the reason.
import { randomBytes } from 'node:crypto';
import { hostOfName, sameHost } from '../../lib/rpc/authz.js';
import type { StartdClient } from '../../lib/rpc/clients/startd.js';
import type { ClaimRequest } from '../../lib/rpc/generated/dsched/v1/ClaimRequest.js';
import type { GangChunk__Output } from '../../lib/rpc/generated/dsched/v1/GangChunk.js';
import type { Logger } from '../../lib/log.js';
import { JobStatus, jobKey, lit, type Job, type JobQueue } from './queue.js';
import type { Claim } from './schedd.js';

/** What the schedd lends the gang claims: its own steps of a start, so a gang follows the same rules. */
export interface GangSchedd {
  queue: JobQueue;
  log: Logger;
  claims: Map<string, Claim>;
  startd(address: string): StartdClient;
  /** a claim request for `job` on `slot` with claim id `id`, not activated */
  claimRequest(job: Job, slot: string, id: string): ClaimRequest;
  beginStart(job: Job): () => void;
  recordStarting(job: Job, claim: { id: string; startd: string; slot: string } | undefined): Promise<void>;
  startMayHaveHappened(jobs: Job[], startdAddr: string, e: unknown): boolean;
  markRunning(job: Job, claim: Claim): void;
  releaseClaim(claim: Claim, kill: boolean): Promise<void>;
  pinStartdHost(address: string, host: string): void;
  onQueueChanged(): void;
}

interface Gang {
  job: Job;
  leader: Claim;
  followers: Claim[];
}

/** The host names of a gang's chunks, leader first: what the job's $PBS_NODEFILE lists. */
export const GANG_HOSTS = 'GangHosts';

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
      const ids = chunks.map(() => randomBytes(24).toString('base64url'));
      try {
        await s.recordStarting(job, { id: ids[0]!, startd: chunks[0]!.startd, slot: chunks[0]!.slot });
      } catch (e) {
        job.claim = undefined;
        job.matching = false;
        s.queue.update(job, {});
        throw e;
      }
      // every chunk claimed, none started: a refusal anywhere gives all of them back
      const replies = await Promise.allSettled(chunks.map((c, i) => s.startd(c.startd).requestClaim(s.claimRequest(job, c.slot, ids[i]!))));
      let refusal: string | undefined;
      replies.forEach((r, i) => {
        const c = chunks[i]!;
        if (r.status === 'rejected') {
          refusal ??= `${c.slot}: ${(r.reason as Error).message}`;
          // a request without an answer may still have made the claim: release it by the id we chose
          held.push({ id: ids[i]!, startd: c.startd, slot: c.slot, lastAc: 0 });
          return;
        }
        const claim: Claim = { id: r.value.claim, startd: c.startd, slot: r.value.slot, lastAc: 0, renewedAt: Date.now() };
        held.push(claim);
        if (!sameHost(hostOfName(r.value.slot), hostOfName(c.slot))) refusal ??= `${c.slot}: the startd named a slot of another host (${r.value.slot})`;
      });
      if (refusal) return await giveBack('parallel job not started: a claim was refused, all released', refusal);
      if (job.status !== JobStatus.Idle || !s.queue.jobs.has(jobKey(job.cluster, job.proc))) return await giveBack('parallel job left the queue while its slots were claimed');
      const [leader, ...followers] = held as [Claim, ...Claim[]];
      for (const c of held) s.claims.set(c.id, c);
      const ad = { ...s.queue.merged(job), [GANG_HOSTS]: `{${chunks.map((c) => lit(c.host || hostOfName(c.slot))).join(', ')}}` };
      let error: string | undefined;
      try {
        const r = await s.startd(leader.startd).activateMany([{ claim: leader.id, job: ad }]);
        error = r.errors[0];
      } catch (e) {
        if (s.startMayHaveHappened([job], leader.startd, e)) {
          this.gangs.set(leader.id, { job, leader, followers });
          return;
        }
        error = (e as Error).message;
      }
      if (error) {
        for (const c of held) s.claims.delete(c.id);
        return await giveBack('parallel job not started: its first chunk could not start, all slots released', error);
      }
      job.matching = false;
      this.gangs.set(leader.id, { job, leader, followers });
      s.markRunning(job, leader);
      // the leader's claim is not reused for another job: the next gang needs all its slots again
      leader.lastAc = 0;
      s.queue.update(job, { RemoteHosts: lit(held.map((c) => c.slot).join(',')), CurrentHosts: String(held.length) });
    } finally {
      started();
    }
  }

  /** Whether a claim is a follower of a running gang (its events are about no job of its own). */
  isFollower(claimId: string): boolean {
    for (const g of this.gangs.values()) if (g.followers.some((c) => c.id === claimId)) return true;
    return false;
  }

  /**
   * Release the followers of every gang whose leader's claim is gone (the job ended, was removed, held or
   * evicted); stop the job of a gang that lost a follower (the startd forgot it), so it runs again whole.
   */
  sweep(): void {
    for (const [id, g] of this.gangs) {
      if (!this.s.claims.has(id)) {
        this.gangs.delete(id);
        for (const c of g.followers) if (this.s.claims.has(c.id)) void this.s.releaseClaim(c, true);
        continue;
      }
      const lost = g.followers.find((c) => !this.s.claims.has(c.id));
      if (lost && g.job.claim?.id === id) {
        this.s.log.warn({ cluster: g.job.cluster, proc: g.job.proc, slot: lost.slot }, 'a parallel job lost one of its slots: stopping it');
        void this.s
          .startd(g.leader.startd)
          .deactivate(g.leader.id, true, `the parallel job lost its slot ${lost.slot}`)
          .catch((e) => this.s.log.warn({ slot: g.leader.slot, err: (e as Error).message }, 'could not stop the parallel job'));
      }
    }
  }
}
