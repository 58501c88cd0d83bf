// The second half of a large removal (drm of a big cluster): its procs were removed by one committed row
// (JobQueue.markRemoved) and are shown removed; here they move to history a piece at a time in the
// background, with the event loop free between pieces, so the drm replies at once and queries never wait
// on the move. A schedd that starts resumes the removals it finds (JobQueue.removals).
//
// Each piece's abort events are written to the user log before its move is committed (as a job's exit is
// logged before it is recorded): a schedd killed in between finds those procs still queued, and the first
// piece it moves of a removal it resumed leaves out the procs whose abort event is already at the end of
// their log. Every removed job thus gets its abort event once.
import type { Owner } from '../../lib/as-user.js';
import { DschedError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { loggedAborts, type UserLogWriter } from '../../lib/user-log/index.js';
import { litValue, type Job, type JobQueue, type Removal } from './queue.js';
import type { JobFacts, MailEvent } from './notify.js';

/** Procs moved to history per transaction: a piece holds the event loop a few tens of milliseconds. */
export const MOVE_PIECE = 5_000;

/** What the mover needs of the schedd. */
export interface MoverSchedd {
  queue: JobQueue;
  log: Logger;
  userLog: UserLogWriter;
  logEvent(job: Job, e: { type: 'aborted'; reason: string }): void;
  mail(ev: MailEvent, job: Job, extra?: Partial<JobFacts>): void;
  /** Keep events and mail in `after` until a change is committed (undefined: send them at once again). */
  defer(after: Array<() => void> | undefined): void;
  /** Whose rights a job's files are opened with. */
  fileOwner(job: Job): Owner | undefined;
  onQueueChanged(): void;
}

export class RemovalMover {
  private waiting: Array<{ r: Removal; resumed: boolean }> = [];
  private running: Promise<void> | undefined;
  /** Jobs whose abort event is written and whose move is not committed yet (a failed move is tried again). */
  private logged = new Set<Job>();

  constructor(
    private s: MoverSchedd,
    private piece = MOVE_PIECE,
  ) {}

  /** Move a removal's procs to history, after those added before it; `resumed`: found when the queue opened. */
  add(r: Removal, resumed = false): void {
    this.waiting.push({ r, resumed });
    this.running ??= this.run().finally(() => (this.running = undefined));
  }

  /** Resolves once every removal added so far has moved. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    // a schedd that stops closes the queue: what is left is resumed when it starts again
    while (this.waiting.length && this.s.queue.open) {
      const w = this.waiting[0]!;
      const { r } = w;
      const next = r.jobs
        .slice(r.moved, r.moved + this.piece)
        .filter((j) => this.s.queue.jobs.at(j.cluster, j.proc) === j);
      const known = w.resumed ? this.alreadyLogged(r, next) : undefined;
      w.resumed = false;
      const why = String(litValue(r.reason) ?? '');
      const after: Array<() => void> = [];
      this.s.defer(after);
      try {
        for (const j of next) {
          if (this.logged.has(j) || known?.has(j.proc)) continue;
          this.s.logEvent(j, { type: 'aborted', reason: why });
          this.s.mail('abort', j, { removeReason: why });
          this.logged.add(j);
        }
      } finally {
        this.s.defer(undefined);
      }
      for (const f of after) f();
      this.s.userLog.flush();
      let moved: Job[];
      try {
        moved = this.s.queue.moveRemoved(r, this.piece);
      } catch (e) {
        if (!(e instanceof DschedError)) {
          // not the store's error (the queue closed as the schedd stops): the next start resumes the move
          this.s.log.error({ cluster: r.cluster, err: (e as Error).message }, 'moving removed jobs to history stopped');
          this.waiting = [];
          return;
        }
        // the disk is full, say: the jobs stay removed and queued; tried again in a second
        this.s.log.warn({ cluster: r.cluster, err: e.message }, 'cannot move removed jobs to history yet');
        await new Promise((res) => setTimeout(res, 1000).unref());
        continue;
      }
      for (const j of moved) this.logged.delete(j);
      if (r.moved >= r.jobs.length) {
        this.waiting.shift();
        this.s.log.info({ cluster: r.cluster, procs: r.jobs.length }, 'removed jobs moved to history');
        this.s.onQueueChanged();
      }
      await new Promise((res) => setImmediate(res));
    }
  }

  /** The procs of this piece of a resumed removal whose abort event a previous run of the schedd wrote. */
  private alreadyLogged(r: Removal, piece: Job[]): Set<number> {
    const out = new Set<number>();
    const seen = new Set<string>();
    for (const j of piece) {
      const path = this.s.queue.value(j, 'UserLog');
      if (typeof path !== 'string' || !path) continue;
      const owner = this.s.fileOwner(j);
      const key = `${owner?.uid ?? ''}:${path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // an abort event is a few hundred bytes: the tail holds a whole piece of them
      for (const p of loggedAborts(path, r.cluster, owner, Math.max(1 << 20, this.piece * 1024))) out.add(p);
    }
    return out;
  }
}
