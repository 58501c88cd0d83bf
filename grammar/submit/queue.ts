// The queue statement: `queue [N] [vars] [in|from|matching [files|dirs]] [slice] items`, turned into the
// list of procs it makes (how many per item, and each item's variable values).
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { SourceError } from '../../lib/errors.js';
import { readSourceFile, type SourceText } from '../source.js';
import type { QueueStmt } from './ast.js';
import { evalConstant } from './classad-bridge.js';
import { expandMacros, type ExpandEnv, type Site } from './macros.js';
import { locate, parseQueueArgs } from './parse.js';

/**
 * The largest file a submit description reads (`include :`, `queue … from`): generous, yet a bound, since the
 * schedd reads DAG node submit files for every user and a device, a FIFO or a huge file must not hang it.
 */
export const MAX_SUBMIT_FILE_BYTES = 64 * 1024 * 1024;

export interface QueueItems {
  /** procs per item (queue N) */
  count: number;
  /** loop variable names as written (default Item when a foreach form has none) */
  vars: string[];
  /** one row of values (one per var) per item; null for plain `queue N` */
  rows: string[][] | null;
  /** each row's index in the list before slicing (ItemIndex, Row) */
  indexes: number[];
  /** total procs */
  total: number;
}

const VAR_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

function fail(
  src: SourceText,
  offset: number,
  message: string,
  code: 'SUBMIT_QUEUE' | 'SUBMIT_FILE' = 'SUBMIT_QUEUE',
): never {
  const loc = locate(src, offset);
  throw new SourceError(code, message, loc, src.lineText(loc.line));
}

/** Split on commas and/or whitespace. */
function splitItems(text: string): string[] {
  return text.split(/[\s,]+/).filter((x) => x !== '');
}

/** A from-row: values for each var, the last takes the rest of the line. */
export function splitRow(line: string, nvars: number): string[] {
  const out: string[] = [];
  let rest = line.trim();
  for (let k = 0; k < nvars - 1; k++) {
    const m = /^([^\s,]*)\s*,?\s*/.exec(rest)!;
    out.push(m[1]!);
    rest = rest.slice(m[0].length);
  }
  out.push(rest.trim());
  return out;
}

function applySlice<T>(
  list: T[],
  slice: { start: number | null; end: number | null; step: number | null } | null,
): { items: T[]; indexes: number[] } {
  const indexes: number[] = [];
  if (!slice) {
    for (let i = 0; i < list.length; i++) indexes.push(i);
    return { items: list, indexes };
  }
  const n = list.length;
  const step = slice.step ?? 1;
  const norm = (v: number | null, dflt: number) => (v === null ? dflt : v < 0 ? Math.max(0, n + v) : Math.min(v, n));
  const start = norm(slice.start, 0);
  const end = norm(slice.end, n);
  const items: T[] = [];
  for (let i = start; i < end; i += step) {
    items.push(list[i]!);
    indexes.push(i);
  }
  return { items, indexes };
}

// ---- globbing for `matching` ------------------------------------------------------------------

/** A file name is at most this long (NAME_MAX): a longer pattern (less its stars) matches nothing. */
const NAME_MAX = 255;

function globToRegExp(seg: string): RegExp {
  // runs of * are one *, and a word longer than any file name can match nothing: a RegExp built from a
  // huge word is too large to compile
  seg = seg.replace(/\*{2,}/g, '*');
  if (seg.replace(/\*/g, '').length > 4 * NAME_MAX) return /(?!)/;
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let cls = seg.slice(i + 1, close);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += '[' + cls.replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  try {
    return new RegExp(re + '$');
  } catch {
    throw new Error(`'${seg.slice(0, 80)}' is not a valid file name pattern`);
  }
}

const MAGIC = /[*?[]/;

/** Paths matching `pattern` (relative to `cwd` unless absolute), sorted; `kind` filters files or dirs. */
export function glob(pattern: string, cwd: string, kind: 'files' | 'dirs' | null): string[] {
  const abs = isAbsolute(pattern);
  const segs = pattern.split('/').filter((s, i) => s !== '' || (i === 0 && abs));
  let found: string[] = [abs ? '/' : ''];
  for (let k = 0; k < segs.length; k++) {
    const seg = segs[k]!;
    if (abs && k === 0 && seg === '') continue;
    const next: string[] = [];
    for (const base of found) {
      const dir = base === '' ? cwd : isAbsolute(base) ? base : join(cwd, base);
      const join2 = (name: string) => (base === '' ? name : base.endsWith('/') ? base + name : base + '/' + name);
      if (!MAGIC.test(seg)) {
        next.push(join2(seg));
        continue;
      }
      let raw: Buffer[];
      try {
        raw = readdirSync(dir, { encoding: 'buffer' });
      } catch {
        continue;
      }
      const re = globToRegExp(seg);
      const names = raw.map((b) => ({ name: b.toString('utf8'), b }));
      for (const { name, b } of names.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
        if (name.startsWith('.') && !seg.startsWith('.')) continue;
        if (!re.test(name)) continue;
        // decoded, its bytes would have become U+FFFD: the job would be given a file that does not exist
        if (!Buffer.from(name).equals(b))
          throw new Error(`'${name}' matches ${seg}, but its name is not UTF-8 (dsched takes file names as UTF-8)`);
        next.push(join2(name));
      }
    }
    found = next;
  }
  const out: string[] = [];
  for (const p of found) {
    if (p === '' || p === '/') continue;
    try {
      const st = statSync(isAbsolute(p) ? p : join(cwd, p));
      if (kind === 'files' && !st.isFile()) continue;
      if (kind === 'dirs' && !st.isDirectory()) continue;
      out.push(p);
    } catch {
      // a literal segment that does not exist
    }
  }
  return out;
}

/**
 * Read a queue statement. `env` expands macros in its text (the table as it stands at this statement).
 * `remaining` is how many procs may still be queued (maxProcs less those queued before).
 */
export function readQueue(
  stmt: QueueStmt,
  src: SourceText,
  env: ExpandEnv,
  remaining: number,
  maxProcs: number,
  warn: (m: string, s?: Site) => void,
): QueueItems {
  const argsLoc = locate(src, stmt.argsOffset);
  const site: Site = { loc: argsLoc, sourceLine: src.lineText(argsLoc.line) };
  const rawHead = stmt.args;
  const head = expandMacros(rawHead, env, site);
  const exact = head === rawHead;
  const parsed = parseQueueArgs(head);
  if ('error' in parsed)
    fail(
      src,
      exact ? stmt.argsOffset + parsed.offset : stmt.argsOffset,
      `queue: cannot read '${head.trim()}': ${parsed.error}`,
    );

  let countText = parsed.head.trim();
  let vars: string[] = [];
  const fe = parsed.foreach;
  if (fe) {
    // a trailing list of names before the keyword is the variable list: `queue 3 a, b from …`
    const m = /(?:^|[\s])((?:[A-Za-z_][A-Za-z0-9_.]*)(?:(?:\s*,\s*|\s+)[A-Za-z_][A-Za-z0-9_.]*)*)\s*$/.exec(
      ' ' + countText,
    );
    if (m && !/^[0-9]/.test(m[1]!)) {
      vars = m[1]!.split(/\s*,\s*|\s+/).map((v) => v.trim());
      countText = (' ' + countText).slice(0, m.index + 1).trim();
    }
    for (const v of vars) if (!VAR_RE.test(v)) fail(src, stmt.argsOffset, `queue: '${v}' is not a valid variable name`);
    if (vars.length === 0) vars = ['Item'];
    if (fe.mode !== 'from' && vars.length > 1)
      fail(
        src,
        stmt.argsOffset,
        `queue … ${fe.mode} sets one variable, not ${vars.length} (${vars.join(', ')}); use 'from' for several`,
      );
  } else if (countText.includes(',') && /[A-Za-z]/.test(countText)) {
    fail(
      src,
      stmt.argsOffset,
      `queue: '${countText}' is not a number of jobs; to loop over items write 'queue ${countText} in (…)', 'from …' or 'matching …'`,
    );
  }

  // count
  let count = 1;
  if (countText !== '') {
    let v: unknown;
    if (/^[+-]?\d+$/.test(countText)) v = Number(countText);
    else v = evalConstant(countText);
    if (typeof v !== 'number' || !Number.isFinite(v))
      fail(src, stmt.argsOffset, `queue: '${countText}' is not a number of jobs (an integer expression)`);
    if (!Number.isInteger(v)) fail(src, stmt.argsOffset, `queue: the number of jobs must be a whole number, not ${v}`);
    if (v < 0) fail(src, stmt.argsOffset, `queue: the number of jobs cannot be negative (${v})`);
    if (v > maxProcs)
      fail(src, stmt.argsOffset, `queue: ${v} jobs is more than the limit of ${maxProcs} per submission (maxProcs)`);
    count = v;
  }

  if (!fe) {
    if (count > remaining)
      fail(
        src,
        stmt.argsOffset,
        `queue: ${count} more jobs would pass the limit of ${maxProcs} per submission (maxProcs)`,
      );
    return { count, vars: [], rows: null, indexes: [], total: count };
  }

  // items
  let lines: Array<{ text: string }>;
  let fromInline = false;
  if (stmt.rows) {
    if (fe.items.trim() !== '')
      fail(
        src,
        stmt.argsOffset + (exact ? fe.itemsOffset : 0),
        `queue: unexpected '${fe.items.trim()}' before the '(' of the item list`,
      );
    const open = stmt.open?.text.trim() ?? '';
    lines = [...(open ? [{ text: open }] : []), ...stmt.rows];
    if (stmt.close && stmt.close.text.trim() !== '')
      warn(`queue: text after ')' is ignored: '${stmt.close.text.trim()}'`, site);
    fromInline = true;
  } else {
    const t = fe.items.trim();
    if (t.startsWith('(')) {
      if (!t.endsWith(')'))
        fail(
          src,
          stmt.argsOffset + (exact ? fe.itemsOffset : 0),
          `queue: the item list '(' is not closed with ')' on this line (a list across lines needs ')' at the start of its last line)`,
        );
      lines = [{ text: t.slice(1, -1) }];
      fromInline = true;
    } else if (fe.mode === 'from') {
      if (t === '') fail(src, stmt.argsOffset, `queue … from: expected a file name or '(' rows ')'`);
      if (t.endsWith('|'))
        fail(
          src,
          stmt.argsOffset + (exact ? fe.itemsOffset : 0),
          `queue … from a command ('${t}') is not supported; write its output to a file and queue from that`,
        );
      const path = isAbsolute(t) ? t : join(env.cwd, t);
      let content: string;
      try {
        content = readSourceFile(path, MAX_SUBMIT_FILE_BYTES, 'the file', 'SUBMIT_FILE');
      } catch (e) {
        if (e instanceof SourceError) throw e; // not UTF-8: at its own line and column
        const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
        fail(
          src,
          stmt.argsOffset + (exact ? fe.itemsOffset : 0),
          `queue … from: cannot read '${t}': ${why}`,
          'SUBMIT_FILE',
        );
      }
      lines = content.split(/\r?\n/).map((text) => ({ text }));
    } else {
      lines = [{ text: t }];
    }
  }

  let values: string[][] = [];
  if (fe.mode === 'in') {
    for (const l of lines) {
      if (fromInline && /^\s*#/.test(l.text)) continue;
      for (const it of splitItems(l.text)) values.push([it]);
    }
  } else if (fe.mode === 'from') {
    let commentLike = 0;
    for (const l of lines) {
      if (l.text.trim() === '') continue;
      if (/^\s*#/.test(l.text)) {
        // condor_submit skips # lines only in an inline ( … ) list: a file's lines are all items
        if (fromInline) continue;
        commentLike++;
      }
      values.push(splitRow(l.text, vars.length));
    }
    if (commentLike)
      warn(
        `queue … from ${fe.items.trim()}: ${commentLike} line(s) beginning with '#' are items, as condor_submit takes them (only an inline ( … ) list skips them as comments)`,
        site,
      );
  } else {
    const seen = new Set<string>();
    for (const l of lines) {
      for (const pat of splitItems(l.text)) {
        let found: string[];
        try {
          found = glob(pat, env.cwd, fe.what ?? null);
        } catch (e) {
          fail(src, stmt.argsOffset, `queue … matching: ${(e as Error).message}`);
        }
        if (found.length === 0)
          warn(`queue … matching: '${pat}' matches no ${fe.what ?? 'files or directories'}`, site);
        for (const f of found) {
          if (seen.has(f)) continue;
          seen.add(f);
          values.push([f]);
        }
      }
    }
  }

  if (fe.slice && fe.slice.step !== null && fe.slice.step <= 0)
    fail(src, stmt.argsOffset, `queue: a slice step must be positive (negative steps are not supported)`);
  const sliced = applySlice(values, fe.slice);
  values = sliced.items;
  const total = count * values.length;
  if (total > remaining)
    fail(src, stmt.argsOffset, `queue: ${total} jobs would pass the limit of ${maxProcs} per submission (maxProcs)`);
  if (values.length === 0 && fe.mode !== 'matching')
    warn(`queue … ${fe.mode}: the item list is empty, no jobs are queued by this statement`, site);
  return { count, vars, rows: values, indexes: sliced.indexes, total };
}
