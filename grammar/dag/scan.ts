// A fast path for the plain lines of the DAG language, because peggy's generated parser manages only a few MB/s
// here and a 100,000-node DAG with VARS is 10 MB. dag.peggy stays the definition of the language: this scanner
// reads a line only when it is one of the plain forms below and builds exactly the statement the grammar would
// (through the same astBuilder); any other line (with its continuation lines or inline description) is parsed by
// the grammar, and a syntax error anywhere makes the grammar parse the whole file, so errors are always the
// grammar's. test/unit/dag/scan-matches-grammar.test.ts checks, over random files, that the two agree.
//
// Plain forms: blank and `#` lines; JOB name file [DIR d] [NOOP] [DONE]; PARENT … CHILD …; VARS name [PREPEND|
// APPEND] k="v" …; SCRIPT [DEFER s t] PRE|POST|HOLD name cmd args…; RETRY, ABORT-DAG-ON, PRIORITY, CATEGORY,
// MAXJOBS, PRE_SKIP, DONE; CRLF line ends. Left to the grammar: a `\` at the end of a line, quoted names,
// inline `{` descriptions, SCRIPT DEBUG, and every other statement.
import { astBuilder as b, type IntTok, type Statement, type Tok, type VarPair } from './ast.js';

const SP = 32;
const TAB = 9;
const CR = 13;
const QUOTE = 34;
const BACKSLASH = 92;

/** A line the scanner cannot read is parsed by the grammar alone; past this many, the grammar parses the file. */
export const MAX_GRAMMAR_LINES = 2000;

/**
 * Parse a piece of a DAG file (whole lines: one statement, with its continuation lines or inline submit
 * description) with the grammar; offsets relative to the piece. Throws on a syntax error.
 */
export type ChunkParser = (chunk: string) => Statement[];

/** The statements of `text` (plain lines only), or null when the file needs the grammar. */
export function scanPlainDag(text: string, parseChunk?: ChunkParser): Statement[] | null {
  const out: Statement[] = [];
  return forEachStatement(text, (s) => out.push(s), parseChunk) ? out : null;
}

/**
 * Hand each statement of `text` to `emit`, in order. Plain lines are read here; any other statement is handed to
 * `parseChunk` (the grammar) and its offsets moved to the file's. Returns false, possibly after emitting some
 * statements, when the file is better parsed whole by the grammar: a syntax error (so the grammar reports it),
 * more than MAX_GRAMMAR_LINES other lines, or no `parseChunk`. Lets a caller keep only the statements it needs,
 * which matters for GC with 300,000 lines.
 */
export function forEachStatement(
  text: string,
  emit: (s: Statement) => void,
  parseChunk?: ChunkParser,
  opts: ScanOptions = {},
): boolean {
  return toEnd(forEachStatementInSlices(text, emit, parseChunk, opts));
}

/** Run a parse read in slices (a generator that yields between them) to its end in one go. */
export function toEnd<T>(sliced: Generator<void, T>): T {
  for (;;) {
    const r = sliced.next();
    if (r.done) return r.value;
  }
}

/** Lines forEachStatementInSlices reads between two yields. */
export const SLICE_LINES = 2000;

/**
 * forEachStatement in slices: the generator yields after every SLICE_LINES lines, so that a caller may let
 * other work run (a daemon reading a big DAG); its result is forEachStatement's.
 */
export function* forEachStatementInSlices(
  text: string,
  emit: (s: Statement) => void,
  parseChunk?: ChunkParser,
  opts: ScanOptions = {},
): Generator<void, boolean> {
  // The loop only calls `step`: with the line's work (and statements of many shapes) in the loop itself, V8
  // sometimes settled on on-stack-replaced code 30 times slower than the rest (Node 20).
  const st: ScanState = {
    text,
    emit,
    parseChunk,
    toks: [],
    grammarLines: 0,
    maxGrammarLines: opts.maxGrammarLines ?? MAX_GRAMMAR_LINES,
    only: opts.only,
    hasCR: text.indexOf('\r') >= 0,
  };
  const len = text.length;
  let pos = 0;
  let lines = 0;
  while (pos <= len) {
    pos = step(st, pos);
    if (pos < 0) return false;
    if (++lines === SLICE_LINES) {
      lines = 0;
      yield;
    }
  }
  return true;
}

export interface ScanOptions {
  /**
   * Read only the plain lines with these keywords (and every line the grammar has to parse); skip the other plain
   * lines without checking them. For a first pass that only wants the statements defining nodes.
   */
  only?: ReadonlySet<string>;
  /** past this many lines for the grammar, give up (return false); default MAX_GRAMMAR_LINES */
  maxGrammarLines?: number;
}

interface ScanState {
  text: string;
  emit: (s: Statement) => void;
  parseChunk: ChunkParser | undefined;
  toks: Tok[];
  grammarLines: number;
  maxGrammarLines: number;
  only: ReadonlySet<string> | undefined;
  hasCR: boolean;
}

/** Read the line at `pos`; the position after it (and its continuation lines), or -1 to hand the file to the grammar. */
function step(st: ScanState, pos: number): number {
  const text = st.text;
  // Not `text.indexOf('\r', pos)` per line: V8's optimizing compiler may hoist that pure call out of its `if`
  // and scan the rest of the file on every line (quadratic; seen with Node 20).
  const end = nextNewline(text, pos);
  let lineEnd = end;
  if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === CR) lineEnd--;
  if (st.only && skippable(text, pos, lineEnd, st.only) && !(st.hasCR && hasChar(text, pos, lineEnd, CR)))
    return end + 1;
  const s = st.hasCR && hasChar(text, pos, lineEnd, CR) ? NOT_PLAIN : plainLine(text, pos, lineEnd, st.toks);
  if (s === NOT_PLAIN) return grammarStep(st, pos, end);
  if (s !== null) st.emit(s);
  return end + 1;
}

/** A line the scanner does not read: the grammar parses it (with its continuation lines or inline description). */
function grammarStep(st: ScanState, pos: number, end: number): number {
  if (!st.parseChunk || ++st.grammarLines > st.maxGrammarLines) return -1;
  const chunkEnd = statementEnd(st.text, pos, end);
  let stmts: Statement[];
  try {
    // with its line break, so a \r\n ends it as in the file
    stmts = st.parseChunk(st.text.slice(pos, Math.min(chunkEnd + 1, st.text.length)));
  } catch {
    return -1;
  }
  for (const x of stmts) st.emit(shift(x, pos));
  return chunkEnd + 1;
}

const NOT_PLAIN = 0;

/**
 * A plain line whose keyword is not wanted: no need to read it in this pass. Never a line that may begin more
 * than itself (continued with `\`, or opening an inline description with `{`).
 */
function skippable(text: string, from: number, to: number, only: ReadonlySet<string>): boolean {
  let i = from;
  while (i < to && isBlank(text.charCodeAt(i))) i++;
  if (i >= to || text.charCodeAt(i) === 35) return true; // blank or comment
  if (text.charCodeAt(to - 1) === BACKSLASH) return false;
  let last = to;
  while (last > i && isBlank(text.charCodeAt(last - 1))) last--;
  if (text.charCodeAt(last - 1) === 123 /* { */) return false;
  let k = i;
  while (k < to && !isBlank(text.charCodeAt(k))) k++;
  const kw = keyword(text, i, k);
  return kw !== undefined && !only.has(kw);
}

function hasChar(text: string, from: number, to: number, c: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === c) return true;
  return false;
}

/** The statement on [from, to) (which holds no \r), null for a blank or comment line, NOT_PLAIN when it needs the grammar. */
function plainLine(text: string, from: number, to: number, toks: Tok[]): Statement | null | typeof NOT_PLAIN {
  let i = from;
  while (i < to && isBlank(text.charCodeAt(i))) i++;
  if (i >= to) return null;
  if (text.charCodeAt(i) === 35 /* # */) return null; // a comment does not continue
  if (text.charCodeAt(to - 1) === BACKSLASH) return NOT_PLAIN; // a continued line
  // The keyword decides whether the line is split into tokens (all but VARS) or read by character.
  let k = i;
  while (k < to && !isBlank(text.charCodeAt(k))) k++;
  const kw = keyword(text, i, k);
  if (kw === undefined) return NOT_PLAIN;
  let s: Statement | null;
  if (kw === 'VARS') {
    s = vars(text, i, k, to);
  } else {
    toks.length = 0;
    if (!tokenize(text, i, to, toks)) return NOT_PLAIN;
    s = statement(kw, toks);
  }
  return s === null ? NOT_PLAIN : s;
}

/**
 * Where the statement starting at `from` (its first line ending at `end`) ends: after its continuation lines
 * (a `\` ends the line) and, when its last line ends with `{`, after the line closing the inline description.
 */
function statementEnd(text: string, from: number, end: number): number {
  const len = text.length;
  let start = from;
  let e = end;
  for (;;) {
    let le = e;
    if (le > start && text.charCodeAt(le - 1) === CR) le--;
    let first = start;
    while (first < le && isBlank(text.charCodeAt(first))) first++;
    const comment = first < le && text.charCodeAt(first) === 35 && start === from;
    if (!comment && le > start && text.charCodeAt(le - 1) === BACKSLASH && e < len) {
      start = e + 1;
      e = nextNewline(text, start);
      continue;
    }
    let last = le;
    while (last > start && isBlank(text.charCodeAt(last - 1))) last--;
    if (!comment && last > start && text.charCodeAt(last - 1) === 123 /* { */) {
      // an inline submit description: up to the line whose first non-blank character is }
      while (e < len) {
        start = e + 1;
        e = nextNewline(text, start);
        let f = start;
        while (f < e && isBlank(text.charCodeAt(f))) f++;
        if (text.charCodeAt(f) === 125 /* } */) break;
      }
    }
    return e;
  }
}

/** The index of the next \n from `from`, or the text's length (a loop on purpose: see forEachStatement). */
function nextNewline(text: string, from: number): number {
  const len = text.length;
  let i = from;
  while (i < len && text.charCodeAt(i) !== 10) i++;
  return i;
}

/** Move every offset in a statement by `base` (statements from a chunk). */
function shift<T>(x: T, base: number): T {
  if (Array.isArray(x)) {
    for (const y of x) shift(y, base);
  } else if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    for (const k in o) {
      const v = o[k];
      if (k === 'offset' && typeof v === 'number') o[k] = v + base;
      else if (v !== null && typeof v === 'object') shift(v, base);
    }
  }
  return x;
}

/** The keywords of the plain DAG statements this scanner reads itself (the rest go to the grammar). */
export const KEYWORDS = [
  'JOB',
  'PARENT',
  'VARS',
  'SCRIPT',
  'RETRY',
  'ABORT-DAG-ON',
  'PRIORITY',
  'CATEGORY',
  'MAXJOBS',
  'PRE_SKIP',
  'DONE',
];
const VARS_MODES = ['PREPEND', 'APPEND'];

/** The plain keyword text[from, to) spells in any case, without making strings (a 100,000-node DAG has 300,000 lines). */
function keyword(text: string, from: number, to: number): string | undefined {
  return keywordIn(text, from, to, KEYWORDS);
}

function keywordIn(text: string, from: number, to: number, words: readonly string[]): string | undefined {
  const len = to - from;
  for (const kw of words) {
    if (kw.length !== len) continue;
    let k = 0;
    while (k < len && sameLetter(text.charCodeAt(from + k), kw.charCodeAt(k))) k++;
    if (k === len) return kw;
  }
  return undefined;
}

function isBlank(c: number): boolean {
  return c === SP || c === TAB;
}

/** Split [from, end) into blank-separated tokens; false if a token would need the grammar (quotes, braces). */
function tokenize(text: string, from: number, end: number, out: Tok[]): boolean {
  let i = from;
  while (i < end) {
    while (i < end && isBlank(text.charCodeAt(i))) i++;
    if (i >= end) break;
    const start = i;
    const c = text.charCodeAt(i);
    if (c === QUOTE || c === 123 /* { */) return false;
    while (i < end && !isBlank(text.charCodeAt(i))) i++;
    out.push(b.tok(text.slice(start, i), start));
  }
  return true;
}

const INT = /^[+-]?[0-9]+$/;

function int(t: Tok | undefined): IntTok | null {
  if (t === undefined || !INT.test(t.text)) return null;
  return b.int(t.text, t.offset);
}

function is(t: Tok | undefined, word: string): boolean {
  if (t === undefined || t.text.length !== word.length) return false;
  const x = t.text;
  for (let k = 0; k < x.length; k++) if (!sameLetter(x.charCodeAt(k), word.charCodeAt(k))) return false;
  return true;
}

/** `c` is `upper` (an upper-case keyword character) in either case. */
function sameLetter(c: number, upper: number): boolean {
  return c === upper || (upper >= 65 && upper <= 90 && c === upper + 32);
}

function statement(kw: string, t: Tok[]): Statement | null {
  const at = t[0]!.offset;
  const n = t.length;
  switch (kw) {
    case 'JOB': {
      if (n < 3) return null;
      let i = 3;
      let dir: Tok | null = null;
      let noop: true | null = null;
      let done: true | null = null;
      if (is(t[i], 'DIR')) {
        if (i + 1 >= n) return null;
        dir = t[i + 1]!;
        i += 2;
      }
      if (is(t[i], 'NOOP')) {
        noop = true;
        i++;
      }
      if (is(t[i], 'DONE')) {
        done = true;
        i++;
      }
      if (i !== n) return null;
      return b.job(at, 'JOB', t[1]!, [t[2]!, dir, noop, done]);
    }
    case 'PARENT': {
      let c = 1;
      while (c < n && !is(t[c], 'CHILD')) c++;
      if (c === 1 || c >= n - 1) return null;
      return b.parent(at, t.slice(1, c), t.slice(c + 1));
    }
    case 'SCRIPT': {
      let i = 1;
      let defer: [IntTok, IntTok] | null = null;
      if (is(t[i], 'DEFER')) {
        const s = int(t[i + 1]);
        const tm = int(t[i + 2]);
        if (!s || !tm) return null;
        defer = [s, tm];
        i += 3;
      }
      const kind = is(t[i], 'PRE') ? 'PRE' : is(t[i], 'POST') ? 'POST' : is(t[i], 'HOLD') ? 'HOLD' : undefined;
      if (kind === undefined) return null;
      if (i + 2 >= n) return null;
      return b.script(at, kind, t[i + 1]!, t[i + 2]!, t.slice(i + 3), defer, null);
    }
    case 'RETRY': {
      const count = int(t[2]);
      if (!count) return null;
      if (n === 3) return b.retry(at, t[1]!, count, null);
      const u = int(t[4]);
      return n === 5 && is(t[3], 'UNLESS-EXIT') && u ? b.retry(at, t[1]!, count, u) : null;
    }
    case 'ABORT-DAG-ON': {
      const v = int(t[2]);
      if (!v) return null;
      if (n === 3) return b.abortDagOn(at, t[1]!, v, null);
      const r = int(t[4]);
      return n === 5 && is(t[3], 'RETURN') && r ? b.abortDagOn(at, t[1]!, v, r) : null;
    }
    case 'PRIORITY': {
      const v = int(t[2]);
      return n === 3 && v ? b.priority(at, t[1]!, v) : null;
    }
    case 'CATEGORY':
      return n === 3 ? b.category(at, t[1]!, t[2]!) : null;
    case 'MAXJOBS': {
      const v = int(t[2]);
      return n === 3 && v ? b.maxJobs(at, t[1]!, v) : null;
    }
    case 'PRE_SKIP': {
      const v = int(t[2]);
      return n === 3 && v ? b.preSkip(at, t[1]!, v) : null;
    }
    case 'DONE':
      return n === 2 ? b.done(at, t[1]!) : null;
    default:
      return null;
  }
}

/** VARS name [PREPEND|APPEND] name="value" …, read by character since values hold blanks. */
function vars(text: string, kwStart: number, kwEnd: number, end: number): Statement | null {
  // No closures here: esbuild's keepNames (tsx) makes creating them per line expensive.
  let i = kwEnd;
  if (i >= end || !isBlank(text.charCodeAt(i))) return null;
  i = skipBlanks(text, i, end);
  let j = wordEnd(text, i, end);
  if (j === i || !plainStart(text.charCodeAt(i))) return null;
  const node = b.tok(text.slice(i, j), i);
  i = j;
  let mode: 'PREPEND' | 'APPEND' | null = null;
  const pairs: VarPair[] = [];
  // After the node name: an optional mode word, then at least one pair, each preceded by blanks.
  for (;;) {
    if (i >= end) break;
    if (!isBlank(text.charCodeAt(i))) return null;
    i = skipBlanks(text, i, end);
    if (i >= end) break;
    if (pairs.length === 0 && mode === null) {
      j = wordEnd(text, i, end);
      const u = keywordIn(text, i, j, VARS_MODES);
      if (u === 'PREPEND' || u === 'APPEND') {
        mode = u;
        i = j;
        continue;
      }
    }
    // name: "+"? [A-Za-z0-9_.]+
    const nameStart = i;
    if (text.charCodeAt(i) === 43 /* + */) i++;
    const first = i;
    while (i < end && isNameChar(text.charCodeAt(i))) i++;
    if (i === first) return null;
    const name = b.tok(text.slice(nameStart, i), nameStart);
    i = skipBlanks(text, i, end);
    if (text.charCodeAt(i) !== 61 /* = */) return null;
    i = skipBlanks(text, i + 1, end);
    if (i >= end || text.charCodeAt(i) !== QUOTE) return null;
    const valueStart = i;
    i++;
    let value = '';
    let run = i;
    for (;;) {
      if (i >= end) return null; // missing closing quote: the grammar says so
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        const d = text.charCodeAt(i + 1);
        if (i + 1 >= end || (d !== BACKSLASH && d !== QUOTE)) return null; // a bad escape: the grammar says so
        value += text.slice(run, i) + (d === QUOTE ? '"' : '\\');
        i += 2;
        run = i;
        continue;
      }
      i++;
    }
    value = run === valueStart + 1 ? text.slice(run, i) : value + text.slice(run, i);
    i++; // the closing quote
    pairs.push(b.varPair(name, b.tok(value, valueStart)));
  }
  if (pairs.length === 0) return null;
  return b.vars(kwStart, node, mode, pairs);
}

function skipBlanks(text: string, i: number, end: number): number {
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  return i;
}

function wordEnd(text: string, i: number, end: number): number {
  while (i < end && !isBlank(text.charCodeAt(i))) i++;
  return i;
}

/** A token that starts with a quote or a brace needs the grammar. */
function plainStart(c: number): boolean {
  return c !== QUOTE && c !== 123;
}

function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46;
}
