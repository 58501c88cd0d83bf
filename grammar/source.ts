// A source file's text, kept so diagnostics (lib/diagnostic.ts) can quote the offending line. Every language
// (ClassAd, submit, #PBS, DAG) reads its input through this.
import { readBoundedBytes } from '../lib/bounded-read.js';
import { SourceError, type ErrorCode } from '../lib/errors.js';

/** A file's text with cheap line lookup, kept so diagnostics can quote the offending line. */
export class SourceText {
  private lineStarts: number[] | undefined;
  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  private starts(): number[] {
    if (!this.lineStarts) {
      const s = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) s.push(i + 1);
      this.lineStarts = s;
    }
    return this.lineStarts;
  }

  /** The text of 1-based line `n` without its newline ('' when out of range). */
  lineText(n: number): string {
    const s = this.starts();
    if (n < 1 || n > s.length) return '';
    const start = s[n - 1]!;
    const end = n < s.length ? s[n]! - 1 : this.text.length;
    return this.text.slice(start, end).replace(/\r$/, '');
  }

  /** 1-based line/column of a 0-based offset. */
  position(offset: number): { line: number; column: number } {
    const s = this.starts();
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - s[lo]! + 1 };
  }
}

/** Length of the well-formed UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (!n || i + n > b.length) return 0;
  // the second byte's range excludes overlong forms, surrogates and code points past U+10FFFF
  const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
  const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
  if (b[i + 1]! < lo || b[i + 1]! > hi) return 0;
  for (let k = 2; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  return n;
}

/**
 * A file's bytes as text. A byte that is not UTF-8 is an error at its line and column: decoded anyway, it
 * would turn into U+FFFD, and a job would run with arguments, file names or a script it was not given.
 */
export function utf8Source(bytes: Uint8Array, file: string, code: ErrorCode): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    let i = 0;
    let lineStart = 0;
    let line = 1;
    for (let n; (n = utf8SequenceLength(bytes, i)); i += n)
      if (bytes[i] === 10) {
        line++;
        lineStart = i + 1;
      }
    const before = new TextDecoder().decode(bytes.subarray(lineStart, i));
    let end = bytes.indexOf(10, i);
    if (end < 0) end = bytes.length;
    const hex = bytes[i]!.toString(16).toUpperCase().padStart(2, '0');
    throw new SourceError(
      code,
      `${file} is not UTF-8 text (byte 0x${hex})`,
      { file, line, column: before.length + 1 },
      new TextDecoder().decode(bytes.subarray(lineStart, end)).replace(/\r$/, ''),
      {
        hint: `dsched reads files as UTF-8: convert it (iconv -f LATIN1 -t UTF-8${file.startsWith('<') ? '' : ` ${file}`})`,
      },
    );
  }
}

/** A user's source file (a DAG, an included or node submit file, a queue's item file) read with a size bound
 *  (lib/bounded-read.ts), as UTF-8 text: any other byte is an error at its line and column (utf8Source). */
export function readSourceFile(path: string, maxBytes: number, what: string, code: ErrorCode, own = false): string {
  return utf8Source(readBoundedBytes(path, maxBytes, what, code, own), path, code);
}
