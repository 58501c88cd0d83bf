// The wrapper around the generated DAG parser: input limits, and peggy's SyntaxError turned into a SourceError
// (DAG_SYNTAX) that names file:line:column, says what was expected and what was found, and keeps the cause.
import { DschedError, SourceError } from '../../lib/errors.js';
import type { Location } from '../../lib/diagnostic.js';
import { SourceText } from '../source.js';
import { astBuilder, type Statement } from './ast.js';
import { parse as peggyParse, SyntaxError as PeggySyntaxError, type Expectation } from './generated/dag.js';
import { forEachStatement, forEachStatementInSlices, type ScanOptions } from './scan.js';

/** A DAG file larger than this is refused before parsing (a 100,000-node DAG is about 10 MB). */
export const MAX_DAG_FILE_BYTES = 512 * 1024 * 1024;

/** Parse one DAG file's text into statements (syntax only; graph.ts gives them meaning). */
export function parseDagText(source: SourceText): Statement[] {
  const out: Statement[] = [];
  if (scanDagStatements(source, (s) => out.push(s))) return out;
  return parseDagTextWithGrammar(source);
}

/**
 * Hand the statements of a DAG file to `emit` in order, through the fast scanner (scan.ts) with the grammar for
 * the lines it does not read. False (after emitting some statements) when the file must be parsed whole by the
 * grammar, which also reports its syntax errors: then call parseDagTextWithGrammar.
 */
export function scanDagStatements(source: SourceText, emit: (s: Statement) => void, opts?: ScanOptions): boolean {
  checkSize(source);
  return forEachStatement(source.text, emit, grammarChunk, opts);
}

/** scanDagStatements in slices (scan.ts forEachStatementInSlices): yields between them. */
export function scanDagStatementsInSlices(
  source: SourceText,
  emit: (s: Statement) => void,
  opts?: ScanOptions,
): Generator<void, boolean> {
  checkSize(source);
  return forEachStatementInSlices(source.text, emit, grammarChunk, opts);
}

function grammarChunk(chunk: string): Statement[] {
  const lines = peggyParse(chunk, { builder: astBuilder }) as Array<Statement | null>;
  return lines.filter((s): s is Statement => s !== null);
}

function checkSize(source: SourceText): void {
  if (source.text.length > MAX_DAG_FILE_BYTES) {
    throw new DschedError('INPUT_TOO_LARGE', `${source.file}: DAG file is larger than ${MAX_DAG_FILE_BYTES} bytes`);
  }
}

/** Parse with the grammar only (no fast path): what the fast path is tested against. */
export function parseDagTextWithGrammar(source: SourceText): Statement[] {
  checkSize(source);
  let lines: Array<Statement | null>;
  try {
    lines = peggyParse(source.text, { builder: astBuilder, grammarSource: source.file }) as Array<Statement | null>;
  } catch (e) {
    if (e instanceof PeggySyntaxError) throw syntaxError(source, e);
    throw e;
  }
  const out: Statement[] = [];
  for (const s of lines) if (s !== null) out.push(s);
  return out;
}

/** The location of a 0-based offset in `source`. */
export function locate(source: SourceText, offset: number, length?: number): Location {
  const p = source.position(offset);
  const loc: Location = { file: source.file, line: p.line, column: p.column };
  if (length && length > 0) {
    loc.endLine = p.line;
    loc.endColumn = p.column + length;
  }
  return loc;
}

/** A SourceError at `offset` in `source`, with the offending line quoted. */
export function dagError(
  code: 'DAG_SYNTAX' | 'DAG_CYCLE' | 'DAG_UNKNOWN_NODE',
  message: string,
  source: SourceText,
  offset: number,
  length?: number,
  hint?: string,
): SourceError {
  const loc = locate(source, offset, length);
  return new SourceError(code, message, loc, source.lineText(loc.line), hint === undefined ? {} : { hint });
}

const END_OF_LINE = 'end of line';

function syntaxError(source: SourceText, e: PeggySyntaxError): SourceError {
  const text = source.text;
  let offset = e.location.start.offset;
  // An argument's expectation is recorded where its leading blanks start: point at what follows them.
  while (offset < text.length && (text[offset] === ' ' || text[offset] === '\t')) offset++;
  const found = foundAt(text, offset);
  let message: string;
  if (e.expected === null || e.expected === undefined) {
    message = e.message; // raised by an action with error(...)
  } else {
    const expected = describeExpected(e.expected);
    message =
      expected.includes('quoted value') && text[offset] === '"'
        ? 'missing closing quote in a VARS value'
        : `expected ${joinOr(expected)} but found ${found.description}`;
  }
  const length = e.expected ? found.length : Math.max(1, e.location.end.offset - e.location.start.offset);
  const loc = locate(source, offset, length);
  return new SourceError('DAG_SYNTAX', message, loc, source.lineText(loc.line), { cause: e });
}

function foundAt(text: string, offset: number): { description: string; length: number } {
  if (offset >= text.length) {
    const lastLineEmpty = text.length === 0 || text.endsWith('\n');
    return { description: lastLineEmpty ? 'end of file' : END_OF_LINE, length: 0 };
  }
  const c = text[offset];
  if (c === '\n' || c === '\r') return { description: END_OF_LINE, length: 0 };
  let end = offset;
  while (end < text.length && !' \t\r\n'.includes(text[end]!)) end++;
  const word = text.slice(offset, end);
  return { description: `"${word.length > 40 ? word.slice(0, 40) + '…' : word}"`, length: end - offset };
}

function describeExpected(expected: readonly Expectation[]): string[] {
  const out: string[] = [];
  for (const x of expected) {
    let d: string | undefined;
    switch (x.type) {
      case 'other':
        d = x.description;
        break;
      case 'literal':
        // a `\` is only ever expected as a line continuation: not worth mentioning
        d = x.text === '\\' ? undefined : x.text === '=' || x.text === '{' ? `"${x.text}"` : x.text.toUpperCase();
        break;
      case 'end':
        d = 'end of file';
        break;
      default:
        d = undefined; // character classes say nothing useful to a user
    }
    if (d !== undefined && !out.includes(d)) out.push(d);
  }
  // "end of line" reads better last, "end of file" adds nothing next to it, and an inline `{` only confuses
  // someone who forgot an argument.
  const rest = out.filter((d) => d !== END_OF_LINE && d !== 'end of file' && d !== '"{"');
  if (out.includes(END_OF_LINE) || out.includes('end of file')) rest.push(END_OF_LINE);
  return rest.length ? rest : ['a DAG statement'];
}

function joinOr(items: string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
