// Source positions and the one place that prints `--> file:line:col` diagnostics. Every language (ClassAd,
// submit, #PBS, DAG) reports errors at a Location, and lib/errors.ts's SourceError prints them with this.

export interface Location {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  endLine?: number;
  endColumn?: number;
}

/**
 * Render a diagnostic the way rustc/HTCondor users can act on:
 *
 *   --> job.sub:12:7
 *    |
 * 12 | arguments = "unterminated
 *    |             ^
 */
export function formatDiagnostic(loc: Location, sourceLine?: string): string {
  const head = `--> ${loc.file}:${loc.line}:${loc.column}`;
  if (sourceLine === undefined) return head;
  const num = String(loc.line);
  const pad = ' '.repeat(num.length);
  // Tabs would shift the caret; show them as single spaces in both lines.
  let shown = sourceLine.replace(/\t/g, ' ');
  let column = loc.column;
  // a long line (a megabyte value of an old queue) is shown around the column only: the whole of it made
  // an error too large for a gRPC trailer, and the error was lost on its way to the user
  if (shown.length > MAX_SHOWN) {
    const from = Math.max(0, Math.min(column - 1 - MAX_SHOWN / 2, shown.length - MAX_SHOWN));
    const to = from + MAX_SHOWN;
    shown = (from > 0 ? '…' : '') + shown.slice(from, to) + (to < shown.length ? '…' : '');
    column = column - from + (from > 0 ? 1 : 0);
  }
  const width =
    loc.endLine === loc.line && loc.endColumn && loc.endColumn > loc.column ? loc.endColumn - loc.column : 1;
  const caret =
    ' '.repeat(Math.max(0, column - 1)) + '^'.repeat(Math.min(width, Math.max(1, shown.length - column + 1)));
  return `${head}\n${pad} |\n${num} | ${shown}\n${pad} | ${caret}`;
}

/** The most of a source line a diagnostic shows (characters around the column). */
const MAX_SHOWN = 160;
