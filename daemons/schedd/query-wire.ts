// Whole job ads written straight into a JobQueryPage's wire bytes. Fifty `dq -json` over the same 10,000
// jobs each had the schedd copy every job's forty cluster attributes into a merged record and protobuf-encode
// it again: most of the schedd's time went there and into the garbage it left. A job's ad goes out instead as
// its cluster's attributes, encoded once per cluster and shared by every query, followed by the proc's own
// few; a map entry repeated later on the wire replaces the earlier one, so the reader decodes exactly the
// merged record (same keys, same order, the proc's values), and no per-job object is made.
import { Buffer } from 'node:buffer';

/** Wire type 2 (length-delimited) of field 1: JobQueryPage.ads, Ad.attrs and a map entry's key. */
const FIELD1 = 0x0a;
/** Field 2, length-delimited: a map entry's value. */
const FIELD2 = 0x12;

const varintLen = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

/** The bytes of one attribute as an Ad.attrs map entry. */
function entryLen(k: string, v: string): number {
  const kb = Buffer.byteLength(k);
  const vb = Buffer.byteLength(v);
  const e = 1 + varintLen(kb) + kb + 1 + varintLen(vb) + vb;
  return 1 + varintLen(e) + e;
}

const visible = (k: string, hidden: Set<string> | undefined) => !hidden?.size || !hidden.has(k.toLowerCase());

/** A growing buffer of one page: ads are appended until the page is full, then taken whole. */
export class WirePage {
  private buf: Buffer;
  private off = 0;
  ads = 0;

  constructor(size = 64 * 1024) {
    // never a slice of the shared pool: a cluster's kept bytes would hold a whole pool slab
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  get bytes(): number {
    return this.off;
  }

  private room(n: number) {
    if (this.off + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.off + n));
    this.buf.copy(bigger, 0, 0, this.off);
    this.buf = bigger;
  }

  private varint(n: number) {
    while (n >= 0x80) {
      this.buf[this.off++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.off++] = n;
  }

  /** A record's attributes as Ad.attrs map entries, those in `hidden` left out (room made by the caller). */
  private entries(rec: Record<string, string>, hidden: Set<string> | undefined) {
    for (const k in rec) {
      if (!visible(k, hidden)) continue;
      const v = rec[k]!;
      const kb = Buffer.byteLength(k);
      const vb = Buffer.byteLength(v);
      this.buf[this.off++] = FIELD1;
      this.varint(1 + varintLen(kb) + kb + 1 + varintLen(vb) + vb);
      this.buf[this.off++] = FIELD1;
      this.varint(kb);
      this.off += this.buf.write(k, this.off, kb, 'utf8');
      this.buf[this.off++] = FIELD2;
      this.varint(vb);
      this.off += this.buf.write(v, this.off, vb, 'utf8');
    }
  }

  /** Only the map entries of a record: a cluster's shared part. */
  static entriesOf(rec: Record<string, string>, hidden: Set<string> | undefined): Buffer {
    let n = 0;
    for (const k in rec) if (visible(k, hidden)) n += entryLen(k, rec[k]!);
    const page = new WirePage(n);
    page.entries(rec, hidden);
    return page.buf;
  }

  /** One ad: `shared` (already encoded map entries) then the proc's own attributes, those in `hidden` left out. */
  add(shared: Buffer, own: Record<string, string>, hidden: Set<string> | undefined): void {
    let ownLen = 0;
    for (const k in own) if (visible(k, hidden)) ownLen += entryLen(k, own[k]!);
    const len = shared.length + ownLen;
    this.room(1 + 5 + len);
    this.buf[this.off++] = FIELD1;
    this.varint(len);
    this.off += shared.copy(this.buf, this.off);
    this.entries(own, hidden);
    this.ads++;
  }

  /** The page's ads as JobQueryPage bytes (a copy: this buffer is reused), and the page emptied. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.off));
    this.off = 0;
    this.ads = 0;
    return out;
  }
}

/** Clusters of fewer jobs are encoded for each query: kept, their bytes could outweigh their jobs. */
const KEEP_FROM_PROCS = 8;

/**
 * A cluster's shared attributes as map entries, once per cluster and caller's view (whole, or without the
 * private attributes named now). A cluster's attributes are set when it is submitted and never changed in
 * place (a change to one job goes into that job's own attributes), so the record object is the key; the
 * bytes go with it. Kept only for clusters of several jobs, so they add at most a few hundred bytes a job.
 */
const sharedBytes = new WeakMap<Record<string, string>, { whole?: Buffer; hiddenKey?: string; hidden?: Buffer }>();
export function clusterEntries(
  cluster: { attrs: Record<string, string>; procs: number },
  hidden: Set<string> | undefined,
): Buffer {
  const rec = cluster.attrs;
  let c = sharedBytes.get(rec);
  if (!c) {
    if (cluster.procs < KEEP_FROM_PROCS) return WirePage.entriesOf(rec, hidden);
    sharedBytes.set(rec, (c = {}));
  }
  if (!hidden?.size) return (c.whole ??= WirePage.entriesOf(rec, undefined));
  const key = [...hidden].join('\n');
  if (c.hiddenKey !== key) {
    c.hiddenKey = key;
    c.hidden = WirePage.entriesOf(rec, hidden);
  }
  return c.hidden!;
}
