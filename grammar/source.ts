// A source file's text, kept so diagnostics (lib/diagnostic.ts) can quote the offending line. Every language
// (ClassAd, submit, #PBS, DAG) reads its input through this.

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
