// The collector's soft state: ads by (type, name), each with an expiry on the collector's own monotonic
// clock, so a remote host's wrong clock can never keep an ad alive or kill it early.
import { ClassAd, compile, isTrue, parseExpr } from '../../grammar/classad/index.js';
import { DschedError } from '../../lib/errors.js';
import { nowSeconds } from '../../lib/time.js';
import { LOAD_AVERAGES } from '../../lib/load-averages.js';

interface StoredAd {
  type: string;
  name: string;
  instance: string;
  /** as last sent whole, stamped */
  attrs: Record<string, string>;
  /**
   * What renewals set since (LastHeardFrom, MyCurrentTime, load averages), over `attrs`: a few texts rather
   * than a copy of the whole ad at each renewal, which every slot gets at every update on a loaded host (its
   * load averages move): 86 bytes a renewal instead of 426, each kept until the next (bench/ad-versions.ts).
   */
  renewed?: Record<string, string>;
  expiresAt: number;
  /** The sender's version of these attributes (renewals name it), or ''. */
  version: string;
  /** for constraint queries, for a while (AdStore.parsedFor) */
  parsed?: ClassAd;
}

/** An ad's attributes as they are now: as sent whole, with what renewals set since. */
function attrsOf(ad: StoredAd): Record<string, string> {
  if (!ad.renewed) return ad.attrs;
  // a copy: those told of it, and a query's reply, keep it as it is now
  const out = { ...ad.attrs };
  for (const k in ad.renewed) out[k] = ad.renewed[k]!;
  return out;
}

/** `renewed`: a renewal moved the ad's load averages; `attrs` then holds only the texts renewals set over it. */
export type ChangeKind = 'added' | 'updated' | 'renewed' | 'removed';
export type ChangeListener = (type: string, name: string, kind: ChangeKind, attrs: Record<string, string>) => void;

const now = () => performance.now();
/** A load average as a renewal may carry it: a plain decimal number. */
const NUMBER = /^\d{1,9}(\.\d{1,6})?$/;

/** Whether an ad as sent has the attributes of one stored (which has LastHeardFrom besides). */
function sameAd(stored: StoredAd, sent: Record<string, string>): boolean {
  const { attrs, renewed } = stored;
  let n = 0;
  for (const k of Object.keys(sent)) {
    if (k === 'LastHeardFrom') continue;
    // the sender's clock at each send (MyCurrentTime) changes every time and is no news
    if (k !== 'MyCurrentTime' && (renewed && Object.hasOwn(renewed, k) ? renewed[k] : attrs[k]) !== sent[k])
      return false;
    n++;
  }
  let added = 0;
  for (const k in renewed) if (!Object.hasOwn(attrs, k)) added++;
  return Object.keys(attrs).length + added === n + 1;
}

/** Ads parsed for constraint queries are kept for the queries that follow, this long after the last one… */
const PARSED_KEEP_MS = 10_000;
/** …and so many at most: a parsed slot ad is several times its texts. */
const MAX_PARSED = 1000;

/** Milliseconds of constraint evaluation a query takes before the collector serves others (a turn of its loop). */
const QUERY_SLICE_MS = 10;

/** This process's CPU time so far, in milliseconds. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export class AdStore {
  private byType = new Map<string, Map<string, StoredAd>>();
  private listeners = new Set<ChangeListener>();
  /** the ads that hold a parsed copy, dropped PARSED_KEEP_MS after the last constraint query */
  private parsedAds = new Set<StoredAd>();
  private parsedTimer: NodeJS.Timeout | undefined;

  onChange(l: ChangeListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(type: string, name: string, kind: ChangeKind, attrs: Record<string, string> = {}) {
    for (const l of this.listeners) l(type, name, kind, attrs);
  }

  private table(type: string): Map<string, StoredAd> {
    const key = type.toLowerCase();
    let t = this.byType.get(key);
    if (!t) this.byType.set(key, (t = new Map()));
    return t;
  }

  /** Store an ad. A live ad of the same name from another daemon instance is refused: names are unique. */
  update(
    type: string,
    name: string,
    instance: string,
    attrs: Record<string, string>,
    lifetimeSec: number,
    version = '',
  ): void {
    if (!name) throw new DschedError('USAGE', `a ${type} ad needs a Name`);
    const t = this.table(type);
    const key = name.toLowerCase();
    const old = t.get(key);
    const at = now();
    if (old && old.expiresAt > at && old.instance && instance && old.instance !== instance) {
      throw new DschedError(
        'NAME_IN_USE',
        `a ${type} named "${name}" is already in the pool (from another daemon); refusing the duplicate`,
      );
    }
    const stamped = { ...attrs, LastHeardFrom: String(nowSeconds()) };
    const live = !!old && old.expiresAt > at;
    t.set(key, { type, name, instance, attrs: stamped, expiresAt: at + lifetimeSec * 1000, version });
    // an ad sent again as it was (a periodic update keeping it alive) is no news to those watching
    if (live && sameAd(old, attrs)) return;
    this.emit(type, name, live ? 'updated' : 'added', stamped);
  }

  /**
   * Keep a live ad alive for `lifetimeSec` more without its attributes: only when it is the `version` the same
   * daemon instance sent whole. False when it cannot (none held, expired, another version or instance). Of
   * `loads`, the load averages given as numbers replace those held; nothing else of it is taken (a renewal
   * passes none of the checks an ad's attributes pass).
   */
  renew(
    type: string,
    name: string,
    instance: string,
    version: string,
    lifetimeSec: number,
    loads: Record<string, string> = {},
  ): boolean {
    const ad = this.byType.get(type.toLowerCase())?.get(name.toLowerCase());
    const at = now();
    if (!ad || !version || ad.version !== version || ad.instance !== instance || ad.expiresAt <= at) return false;
    ad.expiresAt = at + lifetimeSec * 1000;
    // LastHeardFrom says when the collector last heard from the daemon, as HTCondor's does (an admin reads
    // it to find hosts gone quiet). With the sender's MyCurrentTime it tells how far that host's clock is from
    // ours (lib/time.ts): the sender's clock moved as ours did since the ad came whole, so both move alike.
    // Queries see the new pair; watchers, who are not told of a renewal, keep the old one, as consistent.
    // A load average that moved is news, though: the negotiator matches on it (START = LoadAvg < 0.3)
    // and the dashboard shows it, so watchers are told then, of the texts renewals set (a copy: they go on
    // changing here), which over the ad as last sent whole make it as it is now.
    const heard = nowSeconds();
    // only these names are set on it: LastHeardFrom, MyCurrentTime, LOAD_AVERAGES
    const renewed = (ad.renewed ??= {});
    const held = (k: string) => renewed[k] ?? ad.attrs[k];
    const sent = Number(held('MyCurrentTime'));
    const was = Number(held('LastHeardFrom'));
    renewed.LastHeardFrom = String(heard);
    if (Number.isFinite(sent) && Number.isFinite(was)) renewed.MyCurrentTime = String(sent + (heard - was));
    let moved = false;
    for (const k of LOAD_AVERAGES) {
      const v = loads[k];
      if (v === undefined || !NUMBER.test(v)) continue;
      moved ||= Number(v) !== Number(held(k));
      renewed[k] = v;
    }
    ad.parsed = undefined;
    if (moved) this.emit(type, ad.name, 'renewed', { ...renewed });
    return true;
  }

  /** The attributes stored under a name (live or expired), as they are now: as sent whole, renewals' texts over. */
  stored(type: string, name: string): Record<string, string> | undefined {
    const ad = this.byType.get(type.toLowerCase())?.get(name.toLowerCase());
    return ad && attrsOf(ad);
  }

  invalidate(type: string, names: string[], instance: string): void {
    const t = this.table(type);
    for (const n of names) {
      const old = t.get(n.toLowerCase());
      if (!old || (instance && old.instance && old.instance !== instance)) continue;
      t.delete(n.toLowerCase());
      this.emit(type, old.name, 'removed');
    }
  }

  /** Drop every ad of a host (its Machine attribute, or a Name `…@host`, or the Name itself); returns how many. */
  removeHost(host: string): number {
    const h = host.toLowerCase();
    let n = 0;
    for (const [type, t] of this.byType) {
      for (const [key, ad] of t) {
        const machine = ClassAd.fromRecord(ad.attrs).lookupJS('Machine');
        const named = key === h || key.endsWith(`@${h}`);
        if (named || (typeof machine === 'string' && machine.toLowerCase() === h)) {
          t.delete(key);
          n++;
          this.emit(type, ad.name, 'removed');
        }
      }
    }
    return n;
  }

  /** Drop expired ads; returns how many went. */
  expire(): number {
    const at = now();
    let n = 0;
    for (const [type, t] of this.byType) {
      for (const [key, ad] of t) {
        if (ad.expiresAt <= at) {
          t.delete(key);
          n++;
          this.emit(type, ad.name, 'removed');
        }
      }
    }
    return n;
  }

  /** Every live ad, with the type it was stored under (as first advertised). */
  *current(): Generator<{ type: string; name: string; attrs: Record<string, string> }> {
    const at = now();
    for (const t of this.byType.values())
      for (const ad of t.values()) if (ad.expiresAt > at) yield { type: ad.type, name: ad.name, attrs: attrsOf(ad) };
  }

  /**
   * The live ads of `type` (every type when empty) that pass `constraint`, with the attributes of `projection`.
   * A constraint is any user's, and each ad's evaluation may take up to the ClassAd bounds (a tenth of a second
   * and more): the ads are evaluated a slice at a time, advertisements and other calls served between, and past
   * `cpuLimitSec` of the collector's time the query ends with QUERY_TOO_EXPENSIVE. All of it in one turn made a
   * user's query hold the collector for as long as the pool had ads, and queries sent side by side for longer.
   */
  async query(
    type: string,
    constraint: string,
    projection: string[],
    cpuLimitSec = Infinity,
  ): Promise<Array<Record<string, string>>> {
    const pred = constraint.trim()
      ? compile(parseExpr(constraint, { file: '<constraint>', line: 1, column: 1 }))
      : undefined;
    if (pred) this.keepParsed();
    const types = type ? [type.toLowerCase()] : [...this.byType.keys()];
    const out: Array<Record<string, string>> = [];
    const proj = projection.length ? new Set(projection.map((p) => p.toLowerCase())) : undefined;
    // the ads as they are now: advertisements between slices change the maps, not this list
    const ads = types.flatMap((ty) => [...(this.byType.get(ty)?.values() ?? [])]);
    let spent = 0;
    for (let i = 0; i < ads.length;) {
      const [t0, c0] = [performance.now(), cpuMs()];
      const at = now();
      for (; i < ads.length && performance.now() - t0 < QUERY_SLICE_MS; i++) {
        const ad = ads[i]!;
        if (ad.expiresAt <= at) continue;
        const attrs = attrsOf(ad);
        if (pred && !isTrue(pred(this.parsedFor(ad, attrs)))) continue;
        if (!proj) out.push(attrs);
        else {
          const r: Record<string, string> = {};
          for (const [k, v] of Object.entries(attrs)) if (proj.has(k.toLowerCase())) r[k] = v;
          out.push(r);
        }
      }
      spent += cpuMs() - c0;
      if (spent > cpuLimitSec * 1000) {
        const c = constraint.length > 200 ? constraint.slice(0, 200) + '…' : constraint;
        throw new DschedError(
          'QUERY_TOO_EXPENSIVE',
          `the query with constraint ${c} used more than ${cpuLimitSec} s of the collector's time and was stopped`,
        );
      }
      if (i < ads.length) await new Promise((resolve) => setImmediate(resolve));
    }
    return out;
  }

  /**
   * The ad parsed, for a constraint. Kept for the queries that follow (a dashboard's, `dstatus -constraint`
   * in a loop) until PARSED_KEEP_MS after the last, MAX_PARSED ads at most: kept for as long as the ad was,
   * it held the parsed copies of every slot for good after a single query.
   */
  private parsedFor(ad: StoredAd, attrs: Record<string, string>): ClassAd {
    if (ad.parsed) return ad.parsed;
    const parsed = ClassAd.fromRecord(attrs);
    if (this.parsedAds.size < MAX_PARSED) {
      ad.parsed = parsed;
      this.parsedAds.add(ad);
    }
    return parsed;
  }

  /** Drop the parsed ads PARSED_KEEP_MS from now, unless another constraint query comes first. */
  private keepParsed(): void {
    clearTimeout(this.parsedTimer);
    this.parsedTimer = setTimeout(() => {
      for (const a of this.parsedAds) a.parsed = undefined;
      this.parsedAds.clear();
    }, PARSED_KEEP_MS);
    this.parsedTimer.unref();
  }
}
