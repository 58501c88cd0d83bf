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
  const shown = sourceLine.replace(/\t/g, ' ');
  const width =
    loc.endLine === loc.line && loc.endColumn && loc.endColumn > loc.column ? loc.endColumn - loc.column : 1;
  const caret =
    ' '.repeat(Math.max(0, loc.column - 1)) + '^'.repeat(Math.min(width, Math.max(1, shown.length - loc.column + 1)));
  return `${head}\n${pad} |\n${num} | ${shown}\n${pad} | ${caret}`;
}
