// JobQueryPage read straight from its wire bytes into the plain objects the generic codec makes (protobufjs
// decode, then toObject with longs as Number, enums as String, defaults and oneofs: proto.ts), without its
// message objects, its copy of every ad's attributes, or the decoder and converter it generates at run time
// (a query's first page paid for compiling them in every command). A page of a large queue is a thousand ads
// of map entries: this is where dq -af and the queue table spent their time once the schedd had answered.
import type { JobQueryPage__Output } from './generated/dsched/v1/JobQueryPage.js';
import type { JobCounts__Output } from './generated/dsched/v1/JobCounts.js';
import type { UnreadableAttr__Output } from './generated/dsched/v1/UnreadableAttr.js';

/** A reader over one message's bytes. */
class Wire {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  private fail(): never {
    throw new RangeError(`index out of range: ${this.pos} + 1 > ${this.end}`);
  }

  /** A varint of at most 32 bits' use (tags, lengths), as protobufjs reads uint32. */
  uint32(): number {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) this.fail();
      const b = this.buf[this.pos++]!;
      if (shift < 32) v |= (b & 0x7f) << shift;
      if (b < 0x80) return v >>> 0;
    }
    // the rest of a ten-byte varint
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) this.fail();
      if (this.buf[this.pos++]! < 0x80) return v >>> 0;
    }
    throw new Error('invalid varint encoding');
  }

  /** An int64 varint as a Number, as protobufjs's Long → Number conversion gives it. */
  int64(): number {
    let lo = 0;
    let i = 0;
    for (; i < 4; i++) {
      if (this.pos >= this.end) this.fail();
      const b = this.buf[this.pos++]!;
      lo = (lo | ((b & 0x7f) << (i * 7))) >>> 0;
      if (b < 0x80) return lo;
    }
    if (this.pos >= this.end) this.fail();
    let b = this.buf[this.pos++]!;
    lo = (lo | ((b & 0x7f) << 28)) >>> 0;
    let hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      for (i = 0; i < 5; i++) {
        if (this.pos >= this.end) this.fail();
        b = this.buf[this.pos++]!;
        hi = (hi | ((b & 0x7f) << (i * 7 + 3))) >>> 0;
        if (b < 0x80) break;
      }
      if (b >= 0x80) throw new Error('invalid varint encoding');
    }
    if (hi >>> 31) {
      // negative: two's complement, as LongBits.toNumber(false)
      const l = (~lo + 1) >>> 0;
      let h = ~hi >>> 0;
      if (!l) h = (h + 1) >>> 0;
      return -(l + h * 4294967296);
    }
    return lo + hi * 4294967296;
  }

  /** The end of a length-delimited field that starts here. */
  span(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.end) throw new RangeError(`index out of range: ${this.pos} + ${len} > ${this.end}`);
    return end;
  }

  string(): string {
    const end = this.span();
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return s;
  }

  /** Skip a field of this wire type, as protobufjs's skipType. */
  skip(type: number): void {
    switch (type) {
      case 0:
        this.uint32();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.span();
        return;
      case 3:
        for (let t; (t = this.uint32() & 7) !== 4;) this.skip(t);
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Error(`invalid wire type ${type} at offset ${this.pos}`);
    }
    if (this.pos > this.end) this.fail();
  }
}

function attrs(w: Wire, end: number, out: Record<string, string>): void {
  while (w.pos < end) {
    const tag = w.uint32();
    if (tag !== 0x0a) {
      w.skip(tag & 7);
      continue;
    }
    const entryEnd = w.span();
    let k = '';
    let v = '';
    while (w.pos < entryEnd) {
      const t = w.uint32();
      if (t === 0x0a) k = w.string();
      else if (t === 0x12) v = w.string();
      else w.skip(t & 7);
    }
    // `__proto__` is a name an ad may hold: an own property, as the generic codec makes it, never the prototype
    if (k === '__proto__')
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
}

const COUNT_FIELDS = ['total', 'completed', 'removed', 'idle', 'running', 'held', 'suspended'] as const;

function counts(w: Wire, end: number): JobCounts__Output {
  const c: JobCounts__Output = { total: 0, completed: 0, removed: 0, idle: 0, running: 0, held: 0, suspended: 0 };
  while (w.pos < end) {
    const tag = w.uint32();
    const f = tag >>> 3;
    if ((tag & 7) === 0 && f >= 1 && f <= 7) c[COUNT_FIELDS[f - 1]!] = w.int64();
    else w.skip(tag & 7);
  }
  return c;
}

function unreadableAttr(w: Wire, end: number): UnreadableAttr__Output {
  const u: UnreadableAttr__Output = { id: null, name: '', code: '', error: '' };
  while (w.pos < end) {
    const tag = w.uint32();
    if (tag === 0x0a) {
      const idEnd = w.span();
      const id = { cluster: 0, proc: 0 };
      while (w.pos < idEnd) {
        const t = w.uint32();
        if (t === 0x08) id.cluster = w.int64();
        else if (t === 0x10) id.proc = w.int64();
        else w.skip(t & 7);
      }
      u.id = id;
    } else if (tag === 0x12) u.name = w.string();
    else if (tag === 0x1a) u.code = w.string();
    else if (tag === 0x22) u.error = w.string();
    else w.skip(tag & 7);
  }
  return u;
}

/** A JobQueryPage's bytes as the generic codec would give it. */
export function decodeJobQueryPage(bytes: Buffer): JobQueryPage__Output {
  const w = new Wire(bytes, 0, bytes.length);
  const page: JobQueryPage__Output = {
    ads: [],
    last: false,
    matched: null,
    mine: null,
    all: null,
    text: Buffer.alloc(0),
    completions: [],
    unreadable: [],
  };
  while (w.pos < w.end) {
    const tag = w.uint32();
    switch (tag) {
      case 0x0a: {
        const end = w.span();
        const ad: Record<string, string> = {};
        attrs(w, end, ad);
        page.ads.push({ attrs: ad });
        break;
      }
      case 0x10:
        page.last = w.uint32() !== 0;
        break;
      case 0x1a:
      case 0x22:
      case 0x2a: {
        const end = w.span();
        const c = counts(w, end);
        if (tag === 0x1a) page.matched = c;
        else if (tag === 0x22) page.mine = c;
        else page.all = c;
        break;
      }
      case 0x32: {
        const end = w.span();
        page.text = bytes.subarray(w.pos, end);
        w.pos = end;
        break;
      }
      case 0x42: {
        const end = w.span();
        page.unreadable.push(unreadableAttr(w, end));
        break;
      }
      case 0x38: // completions, one varint (unpacked)
        page.completions.push(w.int64());
        break;
      case 0x3a: {
        // completions, packed
        const end = w.span();
        while (w.pos < end) page.completions.push(w.int64());
        break;
      }
      default:
        w.skip(tag & 7);
    }
  }
  return page;
}
