// Delivers job events to schedds until each is acknowledged: a schedd that is restarting (even after
// kill -9) gets every exit it has not recorded, and an event it already recorded is harmless to resend.
import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import type { Logger } from '../../lib/log.js';
import { writeFileAtomic } from '../../lib/rpc/address-file.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import type { ClientCredentials } from '../../lib/rpc/tls.js';
import type { JobEvent } from '../../lib/rpc/generated/dsched/v1/JobEvent.js';

/**
 * An event a schedd did not take (it was unreachable, or answered without acknowledging it: its queue could
 * not be written, a start of the job is being settled) goes again after a delay that doubles per schedd, from
 * RETRY_FIRST_MS up to RETRY_MAX_MS, each drawn between half the step and the step (jitter: the startds of a
 * pool do not come back at once), and back to the first once a batch is taken whole. New events go at once.
 */
export const RETRY_FIRST_MS = 200;
export const RETRY_MAX_MS = 5000;

export class EventReporter {
  private pending = new Map<string, Map<string, JobEvent>>(); // schedd address → seq → event
  private clients = new Map<string, ScheddClient>();
  private inflight = new Set<string>();
  /** per schedd: the latest step of the retry delay */
  private backoff = new Map<string, number>();
  /**
   * events sent and not acknowledged: when each may go again, on the monotonic clock (a wall clock stepped
   * back by an hour would hold every retry, a job's exit among them, for that hour)
   */
  private retryAt = new Map<string, number>();
  private retryTimers = new Map<string, NodeJS.Timeout>();
  private seq = 0;

  constructor(
    private log: Logger,
    private creds: ClientCredentials,
    /** where exits wait, fsynced, until a schedd acknowledges them (none: kept in memory only) */
    private journalFile?: string,
  ) {
    if (journalFile) this.replay(journalFile);
  }

  // ---- the exit journal ----
  // A job's exit is written to the journal and fsynced before it is reported, and stays there until the
  // schedd acknowledges it. A startd restarted after a crash (its own, or the whole host's) redelivers
  // it and ClaimStatus says "exited": the job is recorded as finished instead of being run a second time.
  // An exit whose output waits in the sandbox is journaled with what the startd needs to serve that output
  // again (`keep`: the sandbox and its file list): a restarted startd keeps such sandboxes until the exit
  // is acknowledged.

  /** seqs in the journal not yet acknowledged */
  private journaled = new Set<string>();
  /** what the journaled events owed after a restart keep, by seq (`owed`) */
  private replayed = new Map<string, { ev: JobEvent; keep?: unknown }>();
  /** events waiting for the next journal write; not sent before it */
  private unsynced = new Map<string, string>(); // seq → journal line
  private syncScheduled = false;
  /** what to tell once an event is on disk (the spawner's entry for it is then done) */
  private onJournaled = new Map<string, () => void>();

  private static durable(ev: JobEvent): boolean {
    return ev.type === 'exited' || ev.type === 'failed';
  }

  private replay(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    const live = new Map<string, { addr: string; ev: JobEvent; keep?: unknown }>();
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as { addr?: string; ev?: JobEvent; acked?: string; keep?: unknown };
        if (r.acked) live.delete(r.acked);
        else if (r.addr && r.ev?.seq) live.set(r.ev.seq, { addr: r.addr, ev: r.ev, keep: r.keep });
      } catch {
        /* a line cut short by the crash: its event was never sent */
      }
    }
    // keep only what is still owed, written whole before anything is sent
    writeFileAtomic(file, [...live.values()].map((r) => JSON.stringify(r) + '\n').join(''), 0o600);
    for (const { addr, ev, keep } of live.values()) {
      this.journaled.add(ev.seq!);
      this.replayed.set(ev.seq!, { ev, keep });
      let m = this.pending.get(addr);
      if (!m) this.pending.set(addr, (m = new Map()));
      m.set(ev.seq!, ev);
    }
    if (live.size) this.log.info({ events: live.size }, 'redelivering job exits recorded before a restart');
    for (const addr of this.pending.keys()) setImmediate(() => void this.flush(addr));
  }

  /** Write the waiting exits to the journal with one fsync, then let them go out. */
  sync(): void {
    this.syncScheduled = false;
    if (!this.unsynced.size || !this.journalFile) return;
    const lines = [...this.unsynced.entries()];
    try {
      const fd = openSync(this.journalFile, 'a', 0o600);
      try {
        writeSync(fd, lines.map(([, l]) => l).join(''));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      for (const [seq] of lines) {
        this.journaled.add(seq);
        this.onJournaled.get(seq)?.();
      }
    } catch (e) {
      // reported all the same: a lost exit after a crash is better than none now
      this.log.error({ file: this.journalFile, err: (e as Error).message }, 'cannot journal job exits');
    }
    for (const [seq] of lines) {
      this.unsynced.delete(seq);
      this.onJournaled.delete(seq);
    }
    for (const addr of this.pending.keys()) if (!this.inflight.has(addr)) void this.flush(addr);
  }

  /** Forget the events a schedd acknowledged, noting the journaled ones in the journal with one write. */
  private forget(seqs: readonly string[]): void {
    let notes = '';
    for (const seq of seqs) {
      this.replayed.delete(seq);
      this.retryAt.delete(seq);
      if (this.journaled.delete(seq)) notes += JSON.stringify({ acked: seq }) + '\n';
    }
    if (!notes || !this.journalFile) return;
    try {
      // nothing owed any more: start the file afresh; else note the acknowledgements (no fsync needed: a
      // lost note only means one harmless redelivery)
      if (!this.journaled.size && !this.unsynced.size) writeFileSync(this.journalFile, '', { mode: 0o600 });
      else appendFileSync(this.journalFile, notes);
    } catch (e) {
      this.log.warn({ file: this.journalFile, err: (e as Error).message }, 'cannot update the job exit journal');
    }
  }

  private onAcked = new Map<string, () => void>();

  /**
   * The exits a previous run journaled and no schedd has acknowledged yet, with what each keeps; `acked`
   * is to run once the schedd records it (it is being redelivered).
   */
  owed(): Array<{ ev: JobEvent; keep?: unknown; acked: (fn: () => void) => void }> {
    return [...this.replayed].map(([seq, r]) => ({
      ...r,
      acked: (fn: () => void) => {
        if (this.journaled.has(seq)) this.onAcked.set(seq, fn);
        else fn(); // acknowledged already
      },
    }));
  }

  /** The `keep` of the events journaled and not yet acknowledged (a restarted startd's). */
  kept(): unknown[] {
    return [...this.replayed.values()].map((r) => r.keep);
  }

  /**
   * Queue an event; `acked` runs once the schedd has recorded it. An exit is journaled first, with `keep`
   * (JSON) for the startd that redelivers it after a restart; `journaled` runs once it is on disk (at once
   * for an event that is not journaled).
   */
  send(
    scheddAddress: string,
    ev: Omit<JobEvent, 'seq'>,
    acked?: () => void,
    keep?: unknown,
    journaled?: () => void,
  ): void {
    const seq = `${process.pid}-${Date.now()}-${++this.seq}`;
    if (acked) this.onAcked.set(seq, acked);
    let m = this.pending.get(scheddAddress);
    if (!m) this.pending.set(scheddAddress, (m = new Map()));
    const full = { ...ev, seq };
    m.set(seq, full);
    if (this.journalFile && EventReporter.durable(full)) {
      this.unsynced.set(seq, JSON.stringify({ addr: scheddAddress, ev: full, keep }) + '\n');
      if (journaled) this.onJournaled.set(seq, journaled);
      // while a batch is out to that schedd, its exits gather and are journaled with one fsync when it is
      // answered (flush): one write per batch rather than one per job
      if (!this.syncScheduled && !this.inflight.has(scheddAddress)) {
        this.syncScheduled = true;
        setImmediate(() => this.sync());
      }
      return;
    }
    journaled?.();
    if (!this.inflight.has(scheddAddress)) setImmediate(() => void this.flush(scheddAddress));
  }

  /**
   * The claim's schedd answers at `to` now (restarted on another port; it said so with ClaimStatus or a
   * renewal): the claim's events still waiting for its old address go there, or a job that ended while the
   * schedd was down would never be recorded. Only to another port of the same host: whoever asks cannot
   * take the events of a claim that has ended (and so has no holder to check) elsewhere.
   */
  readdress(claim: string, to: string): void {
    const host = (a: string) => a.slice(0, a.lastIndexOf(':'));
    let moved = false;
    for (const [addr, m] of this.pending) {
      if (addr === to || host(addr) !== host(to)) continue;
      for (const [seq, ev] of m) {
        if (ev.claim !== claim) continue;
        m.delete(seq);
        let dest = this.pending.get(to);
        if (!dest) this.pending.set(to, (dest = new Map()));
        dest.set(seq, ev);
        this.retryAt.delete(seq); // the schedd's new address is tried at once
        moved = true;
      }
    }
    if (moved && !this.inflight.has(to)) setImmediate(() => void this.flush(to));
  }

  /** The job of the latest end (exit, failure, eviction) not yet acknowledged on a claim (ClaimStatus says "exited"). */
  endOf(claim: string): { cluster: number; proc: number } | undefined {
    let job: { cluster: number; proc: number } | undefined;
    for (const m of this.pending.values())
      for (const e of m.values())
        if (e.claim === claim && (e.type === 'exited' || e.type === 'failed' || e.type === 'evicted'))
          job = { cluster: Number(e.id?.cluster), proc: Number(e.id?.proc) };
    return job;
  }

  client(addr: string): ScheddClient {
    let c = this.clients.get(addr);
    if (!c) this.clients.set(addr, (c = new ScheddClient(addr, this.creds)));
    return c;
  }

  /** The next retry delay for a schedd (the step doubles, bounded; the delay is jittered within it). */
  private retryDelay(addr: string): number {
    const step = Math.min(RETRY_MAX_MS, (this.backoff.get(addr) ?? RETRY_FIRST_MS / 2) * 2);
    this.backoff.set(addr, step);
    return step / 2 + Math.random() * (step / 2);
  }

  /** Whether an event may go now: on disk if it must be, and not waiting for a retry. */
  private ready(e: JobEvent, now: number): boolean {
    return !this.unsynced.has(e.seq!) && (this.retryAt.get(e.seq!) ?? 0) <= now;
  }

  /** A flush when the first event waiting for a retry may go again. */
  private armRetry(addr: string): void {
    let at = Infinity;
    for (const seq of this.pending.get(addr)?.keys() ?? []) at = Math.min(at, this.retryAt.get(seq) ?? Infinity);
    clearTimeout(this.retryTimers.get(addr));
    this.retryTimers.delete(addr);
    if (at === Infinity) return;
    const t = setTimeout(
      () => {
        this.retryTimers.delete(addr);
        void this.flush(addr);
      },
      Math.max(0, at - performance.now()),
    );
    t.unref();
    this.retryTimers.set(addr, t);
  }

  private async flush(addr: string): Promise<void> {
    const m = this.pending.get(addr);
    if (!m || m.size === 0 || this.inflight.has(addr)) return;
    if (this.unsynced.size) return this.sync(); // on disk first; sync() sends
    const now = performance.now();
    const batch = [...m.values()].filter((e) => this.ready(e, now)).slice(0, 1000);
    if (!batch.length) return this.armRetry(addr);
    this.inflight.add(addr);
    try {
      const r = await this.client(addr).jobEvents(batch);
      // only what this batch holds: an acknowledgement of anything else is ignored
      const acked = r.acked.filter((s) => m.delete(s));
      this.forget(acked);
      for (const s of acked) {
        const fn = this.onAcked.get(s);
        this.onAcked.delete(s);
        fn?.();
      }
      // what the schedd answered for without taking it waits, as after a failure; a batch taken whole
      // resets the delay
      const left = batch.filter((e) => m.has(e.seq!));
      if (left.length) {
        const d = this.retryDelay(addr);
        for (const e of left) this.retryAt.set(e.seq!, performance.now() + d);
        this.log.debug(
          { schedd: addr, events: left.length, retryMs: Math.round(d) },
          'job events not acknowledged yet',
        );
      } else this.backoff.delete(addr);
    } catch (e) {
      const d = this.retryDelay(addr);
      for (const ev of batch) if (m.has(ev.seq!)) this.retryAt.set(ev.seq!, performance.now() + d);
      this.log.warn(
        { schedd: addr, events: batch.length, retryMs: Math.round(d), err: (e as Error).message },
        'could not deliver job events; will retry',
      );
    }
    this.inflight.delete(addr);
    // the exits that ended while the batch was out: on disk with one fsync, then sent (sync flushes)
    if (this.unsynced.size) return this.sync();
    const later = performance.now();
    if ([...m.values()].some((e) => this.ready(e, later))) setImmediate(() => void this.flush(addr));
    else this.armRetry(addr);
  }

  /**
   * Whether nothing is left to wait for: every event acknowledged, or tried and not taken (its schedd
   * unreachable, or its queue not written) with nothing in flight to that schedd now. An event not tried yet
   * is waited for even when an earlier batch to its schedd failed.
   */
  settled(): boolean {
    return [...this.pending].every(
      ([addr, m]) => !this.inflight.has(addr) && [...m.keys()].every((seq) => this.retryAt.has(seq)),
    );
  }

  close() {
    for (const t of this.retryTimers.values()) clearTimeout(t);
    for (const c of this.clients.values()) c.close();
  }
}
