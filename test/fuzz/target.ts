// What a fuzz target is, and what counts as a crash.
import type fc from 'fast-check';
import { DschedError, isErrorCode } from '../../lib/errors.js';

/** One generated input: the text, and (for #PBS scripts) qsub-style command-line arguments. */
export interface FuzzInput {
  text: string;
  args?: string[];
}

export interface Target {
  name: string;
  /** the generator; inputs are replayed from (seed, index), so it must be pure */
  arbitrary(): fc.Arbitrary<FuzzInput>;
  /** Feed one input through the public entry points; throw a Finding for a wrong answer. */
  run(input: FuzzInput): void;
  /** extension of the reproducer file */
  ext: string;
}

/** Not a thrown error of the code under test, but a wrong answer it gave (e.g. two evaluators disagree). */
export class Finding extends Error {
  /** `kind` names the disagreement (crashes of one kind count as one finding); `message` shows this input's. */
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = 'Finding';
  }
}

/** The documented way to refuse an input: a DschedError (SourceError is one) with a code from the table. */
export function isTypedError(e: unknown): boolean {
  return e instanceof DschedError && typeof e.code === 'string' && isErrorCode(e.code);
}

/** What makes two crashes "the same": the error's class, its message with numbers and quotes blurred, where it was thrown. */
export function signature(e: unknown): string {
  if (e instanceof Finding) return `Finding: ${e.kind}`;
  if (!(e instanceof Error)) return `non-error ${typeof e}: ${String(e).slice(0, 80)}`;
  const msg = (e.message.split('\n')[0] ?? '')
    .replace(/'[^']*'|"[^"]*"/g, 'S')
    .replace(/\d+/g, 'N')
    .slice(0, 120);
  const frame = (e.stack ?? '')
    .split('\n')
    .slice(1)
    .find((l) => /grammar\/|lib\/|daemons\//.test(l) && !l.includes('node_modules'));
  const where = frame
    ? frame
        .trim()
        .replace(/^at /, '')
        .replace(/:\d+\)?$/, '')
        .replace(/.*\/(grammar|lib|daemons)\//, '$1/')
    : '';
  return `${e.name}: ${msg}${where ? ` @ ${where}` : ''}`;
}
