// The wrapper around the generated parsers: input limits, and peggy errors as SourceError.
import { SourceError } from '../../lib/errors.js';
import type { Location } from '../../lib/diagnostic.js';
import { SourceText } from '../source.js';
import type { QueueArgsAst, Statement } from './ast.js';
import * as submitGrammar from './generated/submit.js';

/** The largest submit description (or #PBS script) read, in characters. */
export const MAX_INPUT_CHARS = 16 * 1024 * 1024;

interface PeggyError {
  message: string;
  location?: { start: { offset: number; line: number; column: number } };
}

function isPeggyError(e: unknown): e is PeggyError {
  return typeof e === 'object' && e !== null && 'location' in e && (e as { name?: string }).name === 'SyntaxError';
}

export function checkSize(src: SourceText): void {
  if (src.text.length > MAX_INPUT_CHARS) {
    throw new SourceError(
      'INPUT_TOO_LARGE',
      `${src.file} is larger than ${MAX_INPUT_CHARS} characters`,
      { file: src.file, line: 1, column: 1 },
      undefined,
    );
  }
}

export function locate(src: SourceText, offset: number, length = 0): Location {
  const p = src.position(offset);
  const loc: Location = { file: src.file, line: p.line, column: p.column };
  if (length > 0) {
    const e = src.position(offset + length);
    if (e.line === p.line) {
      loc.endLine = e.line;
      loc.endColumn = e.column;
    }
  }
  return loc;
}

/** Parse the line structure of a submit description. */
export function parseSubmitText(src: SourceText): Statement[] {
  checkSize(src);
  try {
    return submitGrammar.parse(src.text, { startRule: 'File' }) as Statement[];
  } catch (e) {
    if (isPeggyError(e) && e.location) {
      const loc = locate(src, e.location.start.offset);
      throw new SourceError('SUBMIT_SYNTAX', `not a submit statement: ${e.message}`, loc, src.lineText(loc.line), {
        cause: e,
      });
    }
    throw e;
  }
}

/** Parse the (macro-expanded) arguments of a queue statement; null when they do not fit the grammar. */
export function parseQueueArgs(text: string): QueueArgsAst | { error: string; offset: number } {
  try {
    return submitGrammar.parse(text, { startRule: 'QueueArgs' }) as QueueArgsAst;
  } catch (e) {
    if (isPeggyError(e) && e.location) return { error: e.message, offset: e.location.start.offset };
    throw e;
  }
}
