// The `Ad` message (map<string, string> attrs = 1) written by hand: every slot ad a startd advertises,
// every change the collector sends its watchers and every job a schedd activates is one. protobufjs's
// generated code copies the map (fromObject) and makes several writer operations per attribute (a fork,
// two strings, a length), garbage for each attribute of each ad; this writes the ad's bytes into one buffer
// the message's writer copies as they are. The bytes are the same as the generated encoder's (key then
// value, both always written, in the map's key order); reading is left to the generated decoder.
import type protobuf from 'protobufjs/light.js';

interface AdMessage {
  attrs?: Record<string, unknown> | null;
}

/** The writer's operation for bytes made beforehand (protobufjs's `_push`: not in its typings). */
type PushingWriter = protobuf.Writer & {
  _push(fn: (val: Uint8Array, buf: Uint8Array, pos: number) => void, len: number, val: Uint8Array): protobuf.Writer;
};

const copyInto = (val: Uint8Array, buf: Uint8Array, pos: number) => buf.set(val, pos);

const varintLength = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n > 0x7f) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/** Strings longer than this are measured and written by Buffer's native code; shorter ones here (faster). */
const NATIVE_FROM = 64;

/** UTF-8 length, as Buffer.byteLength counts it (a lone surrogate as the 3 bytes of U+FFFD). */
function utf8Length(s: string): number {
  if (s.length > NATIVE_FROM) return Buffer.byteLength(s);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Write `s` as UTF-8 (as Buffer.write does) at `pos`; returns the position after it. */
function writeUtf8(buf: Buffer, pos: number, s: string, len: number): number {
  if (s.length > NATIVE_FROM) return pos + buf.write(s, pos, len, 'utf8');
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) buf[pos++] = c;
    else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c < 0xe000) {
        const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (c < 0xdc00 && (d & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          buf[pos++] = 0xf0 | (c >> 18);
          buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
          buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
          buf[pos++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd; // a lone surrogate
      }
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/** The bytes of the map's entries (field 1, each a key and a value), as the generated encoder writes them. */
export function encodeAttrs(attrs: Record<string, unknown>): Buffer {
  const keys = Object.keys(attrs);
  let total = 0;
  for (const k of keys) {
    const v = attrs[k];
    const kb = utf8Length(k);
    const vb = utf8Length(typeof v === 'string' ? v : String(v));
    const entry = 1 + varintLength(kb) + kb + 1 + varintLength(vb) + vb;
    total += 1 + varintLength(entry) + entry;
  }
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const k of keys) {
    const v = attrs[k];
    const s = typeof v === 'string' ? v : String(v);
    const kb = utf8Length(k);
    const vb = utf8Length(s);
    buf[pos++] = 0x0a; // field 1, length-delimited: one entry
    pos = writeVarint(buf, pos, 1 + varintLength(kb) + kb + 1 + varintLength(vb) + vb);
    buf[pos++] = 0x0a; // the entry's key
    pos = writeVarint(buf, pos, kb);
    pos = writeUtf8(buf, pos, k, kb);
    buf[pos++] = 0x12; // the entry's value
    pos = writeVarint(buf, pos, vb);
    pos = writeUtf8(buf, pos, s, vb);
  }
  return buf;
}

/**
 * Give a root's `Ad` type the hand-written encoder, and a fromObject that keeps the caller's map instead of
 * copying it (the encoder turns its values into strings as the copy did). Call once the root is resolved.
 */
export function useAdCodec(t: protobuf.Type, writer: { create(): protobuf.Writer }): void {
  t.setup(); // the generated functions first: setting up later would replace these
  const Ctor = t.ctor as unknown as new () => AdMessage;
  const fromObject = (d: AdMessage): AdMessage => {
    if ((d as object) instanceof Ctor) return d;
    const m = new Ctor();
    if (d.attrs) {
      if (typeof d.attrs !== 'object') throw TypeError(`${t.fullName}.attrs: object expected`);
      m.attrs = d.attrs;
    }
    return m;
  };
  const encode = (m: AdMessage, w?: protobuf.Writer): protobuf.Writer => {
    const out = (w ?? writer.create()) as PushingWriter;
    if (m.attrs != null && Object.hasOwn(m, 'attrs')) {
      const bytes = encodeAttrs(m.attrs);
      if (bytes.length) out._push(copyInto, bytes.length, bytes);
    }
    return out;
  };
  Object.assign(t, { fromObject, encode });
}
