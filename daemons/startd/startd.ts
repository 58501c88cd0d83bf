// The startd's behaviour: claims (with leases), running jobs on them, stopping them, and telling the
// schedd what happened. A job stopped by the startd itself (lease lost, shutdown) is reported as evicted,
// never as an exit, so it is run again rather than recorded as finished.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClassAd, symmetricMatch } from '../../grammar/classad/index.js';
import type { Config } from '../../lib/config/load.js';
import { DschedError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { runAsOwner } from '../../lib/users.js';
import type { ClaimRequest__Output } from '../../lib/rpc/generated/dsched/v1/ClaimRequest.js';
import type { EventReporter } from './reporter.js';
import { Machine, type DynamicSlot } from './slots.js';
import { removeSandbox, signalByName, signalGroup, type JobOutcome, type Starter } from './starter.js';

interface SlotExtra {
  evictReason?: string;
  releaseAfterExit?: boolean;
}


export class Startd {
  private extra = new Map<string, SlotExtra>();
  private seq = 0;
  /** Something changed; `claim` names the dynamic slot whose ad changed. */
  onChange: (claim?: string) => void = () => {};

  constructor(
    readonly machine: Machine,
    private config: Config,
    private log: Logger,
    private reporter: EventReporter,
    private starter: Starter,
  ) {}

  private stateFile() {
    return join(this.config.paths.run, `startd-jobs.json`);
  }

  /** Jobs left running by a startd that died (kill -9) are killed: nobody can report on them now. */
  reapOrphans(): void {
    const f = this.stateFile();
    if (!existsSync(f)) return;
    try {
      const list = JSON.parse(readFileSync(f, 'utf8')) as Array<{ pid: number; sandbox: string }>;
      for (const j of list) {
        if (signalGroup(j.pid, 'SIGKILL')) this.log.warn({ pid: j.pid }, 'killed a job left by a previous startd');
        removeSandbox(j.sandbox);
      }
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not read the previous job list');
    }
    this.saveState();
  }

  private saveScheduled = false;
  /**
   * Record the running jobs' pids (once per event-loop turn, without fsync: the list only serves to kill
   * orphans after a crash of this daemon, and a machine crash takes the jobs with it anyway).
   */
  private saveState() {
    if (this.saveScheduled) return;
    this.saveScheduled = true;
    setImmediate(() => {
      this.saveScheduled = false;
      const list = [...this.machine.dslots.values()].filter((d) => d.job).map((d) => ({ pid: d.job!.started.pid, sandbox: d.job!.started.sandbox }));
      const tmp = `${this.stateFile()}.tmp`;
      writeFileSync(tmp, JSON.stringify(list));
      renameSync(tmp, this.stateFile());
    });
  }

  /** Draining: no new claims and no new jobs on existing ones; running jobs finish. Returns how many run. */
  drain(on: boolean, reason: string): number {
    this.machine.draining = on ? reason || 'drained by an admin' : undefined;
    this.log.info({ draining: on, reason }, on ? 'draining' : 'drain cancelled');
    this.onChange();
    return [...this.machine.dslots.values()].filter((d) => d.job).length;
  }

  requestClaim(req: ClaimRequest__Output): { claim: string; slot: string; slot_ad: { attrs: Record<string, string> } } {
    if (this.machine.draining) throw new DschedError('CLAIM_REFUSED', `${this.machine.pslotName} is draining: ${this.machine.draining}`);
    if (req.slot && req.slot.toLowerCase() !== this.machine.pslotName.toLowerCase())
      throw new DschedError('CLAIM_REFUSED', `this startd has no slot ${req.slot}`);
    const job = ClassAd.fromRecord(req.job?.attrs ?? {});
    const slotAd = this.machine.slotAd();
    if (!symmetricMatch(job, slotAd)) throw new DschedError('CLAIM_REFUSED', `the job does not match ${this.machine.pslotName} (Requirements or START)`);
    const claim = req.claim || randomBytes(24).toString('base64url');
    if (this.machine.dslots.has(claim)) throw new DschedError('CLAIM_REFUSED', 'that claim id is already in use');
    const lease = req.lease > 0 ? req.lease : this.config.int('JOB_LEASE_DURATION');
    const d = this.machine.carve(this.machine.requests(job), claim, req.schedd, req.schedd_address, lease);
    this.extra.set(claim, {});
    this.log.info({ slot: d.name, schedd: req.schedd }, 'claimed');
    if (req.activate) this.activate(claim, job);
    this.onChange(claim);
    return { claim, slot: d.name, slot_ad: { attrs: this.machine.dslotAd(d) } };
  }

  private slot(claim: string): DynamicSlot {
    const d = this.machine.dslots.get(claim);
    if (!d) throw new DschedError('CLAIM_NOT_FOUND', 'no such claim on this startd');
    return d;
  }

  activate(claim: string, job: ClassAd): void {
    const d = this.slot(claim);
    if (d.job) throw new DschedError('CLAIM_REFUSED', `${d.name} is already running job ${d.job.cluster}.${d.job.proc}`);
    if (this.machine.draining) throw new DschedError('CLAIM_REFUSED', `${this.machine.pslotName} is draining: ${this.machine.draining}`);
    const cluster = Number(job.lookupJS('ClusterId'));
    const proc = Number(job.lookupJS('ProcId'));
    const owner = String(job.lookupJS('Owner') ?? '');
    const runAs = runAsOwner(owner);
    const sandbox = join(this.config.paths.execute, `dir_${process.pid}_${d.id}_${++this.seq}`);
    const extraEnv: Record<string, string> = {};
    if (job.lookupJS('IsPbsJob') === true) extraEnv.PBS_NODEFILE = '';
    const started = this.starter.start({ ad: job, sandbox, slotName: d.name.split('@')[0]!, runAs, extraEnv });
    const vacate = job.lookupJS('JobMaxVacateTime');
    const limits = job.lookupJS('ConcurrencyLimits');
    d.job = { cluster, proc, owner, started, limits: typeof limits === 'string' && limits ? limits : undefined, killSig: job.lookupJS('KillSig'), vacateSeconds: typeof vacate === 'number' ? vacate : undefined };
    d.enteredActivity = Math.floor(Date.now() / 1000);
    const ex = this.extra.get(claim) ?? {};
    ex.evictReason = undefined;
    this.extra.set(claim, ex);
    this.log.info({ cluster, proc, slot: d.name, pid: started.pid }, 'job started');
    void started.done.then((o) => this.jobDone(d, o));
    this.saveState();
    this.onChange(claim);
  }

  private jobDone(d: DynamicSlot, o: JobOutcome) {
    const job = d.job;
    if (!job) return;
    if (job.killTimer) clearTimeout(job.killTimer);
    d.job = undefined;
    d.enteredActivity = Math.floor(Date.now() / 1000);
    const ex = this.extra.get(d.claim) ?? {};
    const id = { cluster: job.cluster, proc: job.proc };
    const time = Math.floor(Date.now() / 1000);
    if (ex.evictReason || o.kind === 'lost') {
      this.reporter.send(d.scheddAddress, { claim: d.claim, id, type: 'evicted', message: ex.evictReason ?? o.message ?? 'the job was lost', time });
    } else if (o.kind === 'failed') {
      this.reporter.send(d.scheddAddress, { claim: d.claim, id, type: 'failed', exit_code: o.holdCode ?? 6, message: o.message ?? '', time });
    } else {
      this.reporter.send(d.scheddAddress, {
        claim: d.claim,
        id,
        type: 'exited',
        exit_code: o.exitCode,
        exit_by_signal: o.signal !== undefined,
        exit_signal: o.signal ?? 0,
        time,
      });
    }
    this.log.info({ cluster: job.cluster, proc: job.proc, slot: d.name, exitCode: o.exitCode, signal: o.signal, outcome: ex.evictReason ? 'evicted' : o.kind }, 'job ended');
    if (ex.releaseAfterExit) this.releaseNow(d.claim);
    this.saveState();
    this.onChange(d.claim);
  }

  /** Stop the job on a claim: its kill signal, a grace period, then SIGKILL (fast: SIGKILL at once). */
  deactivate(claim: string, fast: boolean, reason: string, evict?: string): void {
    const d = this.slot(claim);
    const job = d.job;
    if (!job) return;
    if (evict) (this.extra.get(claim) ?? this.extra.set(claim, {}).get(claim)!).evictReason = evict;
    if (fast) {
      this.starter.signal(job.started, 'SIGKILL');
      return;
    }
    if (job.softKilled) return;
    job.softKilled = true;
    const kill = signalByName(job.killSig, 'SIGTERM');
    this.starter.signal(job.started, kill);
    const grace = job.vacateSeconds ?? this.config.int('KILL_GRACE');
    job.killTimer = setTimeout(() => this.starter.signal(job.started, 'SIGKILL'), grace * 1000);
    this.log.info({ cluster: job.cluster, proc: job.proc, signal: kill, graceSec: grace, reason }, 'stopping job');
  }

  release(claim: string): void {
    const d = this.machine.dslots.get(claim);
    if (!d) return;
    if (d.job) {
      (this.extra.get(claim) ?? this.extra.set(claim, {}).get(claim)!).releaseAfterExit = true;
      this.deactivate(claim, true, 'claim released');
      return;
    }
    this.releaseNow(claim);
  }

  private releaseNow(claim: string) {
    const d = this.machine.release(claim);
    this.extra.delete(claim);
    if (d) this.log.info({ slot: d.name }, 'claim released');
    this.onChange();
  }

  renew(claims: string[], lease: number, scheddAddress: string): string[] {
    const unknown: string[] = [];
    const until = performance.now() + Math.max(5, lease) * 1000;
    for (const c of claims) {
      const d = this.machine.dslots.get(c);
      if (!d) unknown.push(c);
      else {
        d.leaseExpires = until;
        if (scheddAddress) d.scheddAddress = scheddAddress;
      }
    }
    return unknown;
  }

  claimStatus(claims: string[], scheddAddress: string): Array<{ claim: string; state: string; job?: { cluster: number; proc: number } }> {
    return claims.map((c) => {
      const d = this.machine.dslots.get(c);
      if (!d) return { claim: c, state: this.reporter.hasPending(c) ? 'exited' : 'unknown' };
      if (scheddAddress) d.scheddAddress = scheddAddress;
      d.leaseExpires = Math.max(d.leaseExpires, performance.now() + this.config.int('JOB_LEASE_DURATION') * 1000);
      if (d.job) return { claim: c, state: 'running', job: { cluster: d.job.cluster, proc: d.job.proc } };
      return { claim: c, state: this.reporter.hasPending(c) ? 'exited' : 'idle' };
    });
  }

  /** Claims whose schedd stopped renewing: the job is evicted and the resources go back. */
  checkLeases(): void {
    const t = performance.now();
    for (const d of [...this.machine.dslots.values()]) {
      if (d.leaseExpires > t) continue;
      this.log.warn({ slot: d.name, schedd: d.schedd }, 'claim lease expired');
      if (d.job) {
        (this.extra.get(d.claim) ?? this.extra.set(d.claim, {}).get(d.claim)!).releaseAfterExit = true;
        this.deactivate(d.claim, true, 'lease expired', 'the claim lease expired (the schedd stopped renewing it)');
      } else this.releaseNow(d.claim);
    }
  }

  /** On shutdown: every job is evicted (goes back to idle at its schedd), then the claims go. */
  async shutdown(graceMs: number): Promise<void> {
    const running = [...this.machine.dslots.values()].filter((d) => d.job);
    for (const d of running) this.deactivate(d.claim, false, 'startd shutting down', 'the startd was shut down');
    const until = Date.now() + graceMs;
    while (Date.now() < until && [...this.machine.dslots.values()].some((d) => d.job)) await new Promise((r) => setTimeout(r, 50));
    for (const d of this.machine.dslots.values()) if (d.job) this.starter.signal(d.job.started, 'SIGKILL');
    this.starter.stop();
  }
}
