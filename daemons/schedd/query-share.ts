// One answer for every reader of the same view. Fifty `dq -json` at once over the same queue each had the
// schedd walk the queue and encode every job again; now the first query of a view renders its pages (encoded
// JobQueryPage bytes) and every query of the same view made meanwhile, or later while the queue has not
// changed, is sent those same bytes. A view is what decides the bytes: who may see private attributes (the
// admins and daemons all, a user those of their own jobs: never shared across users), the private attributes
// now, the ids, owners, constraint, projection, limit, format and compression (a rendered listing is
// compressed once, for all its readers). Any committed change to the queue starts
// new answers (a reader already on an answer goes on with it, as it would with its own query).
//
// Memory stays bounded: the pages are made as the fastest reader takes them (a few pages ahead of it), an
// answer is kept whole only up to ANSWER_BYTES and all kept answers only up to KEPT_BYTES; past that an
// answer is no longer shared and keeps only the pages between its slowest and its fastest reader.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Identity } from '../../lib/rpc/auth.js';
import type { JobQuery__Output } from '../../lib/rpc/generated/dsched/v1/JobQuery.js';
import type { JobQueue } from './queue.js';
import { privateSet, runJobQuery, type Counts, type QueryOptions, type QueryPage } from './query.js';

/** Pages made ahead of the reader that drives an answer. */
const AHEAD = 16;
/** The most one answer keeps for readers to come. */
const ANSWER_BYTES = 32 * 1024 * 1024;
/** The most all kept answers hold together. */
const KEPT_BYTES = 96 * 1024 * 1024;
/** A finished answer nobody read for this long is let go. */
const IDLE_MS = 60_000;

/** Compression off the event loop (libuv's threads): a submission is not kept waiting behind it. */
const gzipped = promisify(gzip);

interface Reader {
  /** the index of the next page it takes */
  at: number;
}

class Answer {
  /** pages[i] is page number base + i */
  private pages: Buffer[] = [];
  private base = 0;
  private readers = new Set<Reader>();
  private wakeReaders: Array<() => void> = [];
  private wakeMaker?: () => void;
  /** kept whole for readers to come (until it grows past the bounds, fails or the queue changes) */
  shared = true;
  bytes = 0;
  done = false;
  error?: unknown;
  matched?: Counts;
  usedAt = Date.now();

  constructor(private readonly cache: QueryShare) {}

  get idle(): boolean {
    return this.readers.size === 0;
  }

  /** A page made: kept, and the readers waiting for it woken. */
  push(page: Buffer): Promise<void> | void {
    this.pages.push(page);
    if (this.shared) {
      this.bytes += page.length;
      this.cache.kept += page.length;
      if (this.bytes > ANSWER_BYTES || this.cache.kept > KEPT_BYTES) this.cache.unshare(this);
    }
    this.wake();
    if (this.ahead() >= AHEAD) return new Promise<void>((resolve) => (this.wakeMaker = resolve));
  }

  finish(error?: unknown) {
    this.done = true;
    this.error = error;
    if (error) this.cache.unshare(this);
    this.wake();
  }

  /** No longer kept for readers to come: pages every reader has taken are let go from now on. */
  stopSharing() {
    if (!this.shared) return;
    this.shared = false;
    this.cache.kept -= this.bytes;
    this.bytes = 0;
    this.trim();
  }

  /** How far the pages made run ahead of the reader who is furthest (of the slowest, once not shared). */
  private ahead(): number {
    const made = this.base + this.pages.length;
    let lead = this.shared ? 0 : made;
    for (const r of this.readers) lead = this.shared ? Math.max(lead, r.at) : Math.min(lead, r.at);
    return made - lead;
  }

  private trim() {
    if (this.shared) return;
    let slowest = this.base + this.pages.length;
    for (const r of this.readers) slowest = Math.min(slowest, r.at);
    while (this.base < slowest) {
      this.pages.shift();
      this.base++;
    }
  }

  private wake() {
    const w = this.wakeReaders;
    this.wakeReaders = [];
    for (const f of w) f();
  }

  /** A reader moved on or left: the maker may go on, pages nobody needs any more are let go. */
  private moved() {
    this.usedAt = Date.now();
    this.trim();
    if (this.wakeMaker && (this.readers.size === 0 || this.ahead() < AHEAD)) {
      const w = this.wakeMaker;
      this.wakeMaker = undefined;
      w();
    }
  }

  /** Hand a reader every page from the first, at its own pace. */
  async read(write: (page: Buffer) => Promise<void> | void, cancelled: () => boolean): Promise<Counts | undefined> {
    const r: Reader = { at: this.base };
    if (r.at !== 0) throw new Error('a reader joined an answer whose first pages are gone');
    this.readers.add(r);
    try {
      for (;;) {
        if (cancelled()) return undefined;
        if (r.at < this.base + this.pages.length) {
          const page = this.pages[r.at - this.base]!;
          r.at++;
          this.moved();
          const w = write(page);
          if (w) await w;
          continue;
        }
        if (this.error) throw this.error;
        if (this.done) return this.matched;
        await new Promise<void>((resolve) => this.wakeReaders.push(resolve));
      }
    } finally {
      this.readers.delete(r);
      // the last reader left before the end: its maker stops, and the rest is made for nobody
      if (this.idle && !this.done) this.cache.unshare(this);
      this.moved();
    }
  }
}

export class QueryShare {
  private answers = new Map<string, Answer>();
  /** bytes of the answers kept for readers to come */
  kept = 0;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly queue: JobQueue,
    private readonly opts: QueryOptions,
    /** a page as the wire carries it, in its gRPC frame (lib/rpc/framing.ts) */
    private readonly encode: (page: QueryPage) => Buffer,
  ) {}

  /** The queue changed: answers made so far are not given to new queries. */
  invalidate(): void {
    for (const a of this.answers.values()) a.stopSharing();
    this.answers.clear();
  }

  unshare(a: Answer): void {
    a.stopSharing();
    for (const [k, v] of this.answers) if (v === a) this.answers.delete(k);
  }

  /**
   * Answer a queue query through `write` (which may wait, for a slow reader), from the answer of its view
   * when there is one; resolves with the counts of the jobs it matched (undefined when cancelled).
   */
  async query(
    req: JobQuery__Output,
    identity: Identity,
    write: (page: Buffer) => Promise<void> | void,
    cancelled: () => boolean,
  ): Promise<Counts | undefined> {
    const key = viewKey(req, identity, privateSet(this.opts));
    const found = this.answers.get(key);
    const a = found ?? new Answer(this);
    // most recently used last: the first ones are let go first when kept bytes run out
    this.answers.delete(key);
    this.answers.set(key, a);
    // the reader is on the answer before its maker starts (the maker stops as soon as nobody reads)
    const read = a.read(write, cancelled);
    if (!found) {
      this.make(a, req, identity);
      this.sweepLater();
    }
    return read;
  }

  private make(a: Answer, req: JobQuery__Output, identity: Identity) {
    // pages are made while someone reads them; the counts of the last page go to each reader's own last page
    const send = async (page: QueryPage) => {
      if (page.last) {
        a.matched = page.matched;
        return;
      }
      if (req.gzip && page.text) page = { ...page, text: await gzipped(page.text, { level: 1 }) };
      return a.push(this.encode(page));
    };
    runJobQuery(this.queue, req, identity, this.opts, send, () => a.idle, true).then(
      () => a.finish(),
      (e) => a.finish(e),
    );
  }

  /** Finished answers nobody read for IDLE_MS are let go (memory for a queue that stays the same). */
  private sweepLater() {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const a of [...this.answers.values()])
        if (a.idle && (a.done || a.error) && now - a.usedAt > IDLE_MS) this.unshare(a);
      // and the oldest while kept bytes are over the bound (answers that stopped sharing gave theirs back)
      for (const a of [...this.answers.values()]) if (this.kept > KEPT_BYTES && a.idle) this.unshare(a);
      if (!this.answers.size) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, IDLE_MS / 4);
    this.sweeper.unref();
  }
}

/**
 * What decides an answer's bytes. Admins and daemons see every private attribute; a user sees those of
 * their own jobs only, so a user's view is theirs alone.
 */
function viewKey(req: JobQuery__Output, identity: Identity, hidden: Set<string>): string {
  const who =
    identity.kind === 'daemon' || (identity.kind === 'user' && identity.admin)
      ? '*'
      : `${identity.kind}:${identity.name}`;
  return JSON.stringify([
    who,
    [...hidden].sort(),
    req.ids.map((i) => [Number(i.cluster), Number(i.proc)]),
    req.owners,
    req.constraint,
    req.projection,
    req.limit,
    req.format,
    req.gzip,
  ]);
}
