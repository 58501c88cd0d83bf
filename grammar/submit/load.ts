// Reading a submit description: the statements in order (with include, if/elif/else/endif, error/warning),
// building the macro table as it stands at each queue statement, and reading each queue statement's items.
// Nothing here depends on the cluster id; to-job-ads.ts turns the result into job ads.
import { isAbsolute, join } from 'node:path';
import { SourceError } from '../../lib/errors.js';
import type { Location } from '../../lib/diagnostic.js';
import { readSourceFile, SourceText } from '../source.js';
import type { AssignStmt, QueueStmt, Statement } from './ast.js';
import { evalConstant } from './classad-bridge.js';
import { closestCommand, isSubmitCommand } from './commands.js';
import { expandMacros, referencedNames, type ExpandEnv, type MacroDef, type Site } from './macros.js';
import { locate, parseSubmitText } from './parse.js';
import { MAX_SUBMIT_FILE_BYTES, readQueue, type QueueItems } from './queue.js';
import type { SubmitInput, SubmitWarning } from './types.js';

export interface QueueGroup {
  /** the macro table as it stands at this queue statement */
  table: Map<string, MacroDef>;
  items: QueueItems;
  site: Site;
}

export interface LoadedSubmit {
  groups: QueueGroup[];
  warnings: SubmitWarning[];
  autos: Map<string, string>;
  total: number;
}

/** The HTCondor version `if version >= x.y` compares with (the language level dsched follows). */
export const SUBMIT_LANGUAGE_VERSION = [24, 0, 0];
const MAX_INCLUDE_DEPTH = 16;
/** Longest value a definition in terms of itself may grow to (X = $(X)$(X) on every line doubles it). */
export const MAX_MACRO_VALUE_CHARS = 1 << 20;

interface CondFrame {
  /** statements in this branch are applied */
  active: boolean;
  /** some branch of this if has been taken */
  taken: boolean;
  /** the enclosing frames are active */
  parentActive: boolean;
  sawElse: boolean;
  site: Site;
}

/** Join a value's pieces; returns the text and, for one-piece values, where it starts. */
function joinValue(stmt: AssignStmt): { text: string; lead: number } {
  if (stmt.tag !== undefined) {
    const text = stmt.segments
      .map((s) => s.text)
      .join('')
      .replace(/\n$/, '');
    return { text, lead: 0 };
  }
  const raw = stmt.segments.map((s) => s.text).join('');
  const lead = raw.length - raw.trimStart().length;
  return { text: raw.trim(), lead };
}

export class SubmitLoader {
  private readonly table = new Map<string, MacroDef>();
  private readonly warnings: SubmitWarning[] = [];
  private readonly warned = new Set<string>();
  private readonly groups: QueueGroup[] = [];
  private total = 0;
  private readonly maxProcs: number;
  private readonly autos = new Map<string, string>();
  /** names referenced anywhere (lower-cased), to tell user macros from misspelt commands */
  private readonly referenced = new Set<string>();
  /** the first definition of each key in a file: for 'is not a submit command' warnings */
  private readonly firstDefs = new Map<string, { name: string; site: Site }>();
  private appendAssigns: Array<{ stmt: AssignStmt; src: SourceText }> = [];
  private inAppend = false;

  constructor(
    private readonly input: SubmitInput,
    autos: Map<string, string>,
  ) {
    this.maxProcs = input.maxProcs ?? 1_000_000;
    for (const [k, v] of autos) this.autos.set(k, v);
    for (const [name, value] of Object.entries(input.macros ?? {})) {
      this.table.set(name.toLowerCase(), { name, value, fromCommandLine: true });
    }
  }

  warn(message: string, site?: Site): void {
    const key = message + '@' + (site ? `${site.loc.file}:${site.loc.line}:${site.loc.column}` : '');
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warnings.push(site ? { message, location: site.loc } : { message });
  }

  private env(): ExpandEnv {
    return {
      table: this.table,
      live: new Map(),
      autos: this.autos,
      env: this.input.env,
      cwd: this.input.cwd,
      warn: (m, s) => this.warn(m, s),
    };
  }

  private site(src: SourceText, offset: number, length = 0): Site {
    const loc = locate(src, offset, length);
    return { loc, sourceLine: src.lineText(loc.line) };
  }

  private fail(
    code: 'SUBMIT_SYNTAX' | 'SUBMIT_QUEUE' | 'SUBMIT_FILE' | 'SUBMIT_INVALID',
    src: SourceText,
    offset: number,
    message: string,
    length = 0,
  ): never {
    const s = this.site(src, offset, length);
    throw new SourceError(code, message, s.loc, s.sourceLine);
  }

  load(): LoadedSubmit {
    const main = new SourceText(this.input.file, this.input.text);
    const stmts = parseSubmitText(main);

    const appendQueues: Array<{ stmt: QueueStmt; src: SourceText }> = [];
    if (this.input.append && this.input.append.length) {
      const asrc = new SourceText('<-a>', this.input.append.join('\n'));
      for (const s of parseSubmitText(asrc)) {
        if (s.kind === 'assign') this.appendAssigns.push({ stmt: s, src: asrc });
        else if (s.kind === 'queue') appendQueues.push({ stmt: s, src: asrc });
        else if (s.kind === 'bad')
          this.fail(
            'SUBMIT_SYNTAX',
            asrc,
            s.offset,
            `-a '${s.text ?? ''}': expected 'name = value' or a queue statement`,
          );
        else
          this.fail(
            'SUBMIT_SYNTAX',
            asrc,
            s.offset,
            `-a accepts 'name = value' lines and a queue statement, not '${s.kind}'`,
          );
      }
    }

    const before = this.groups.length;
    this.run(stmts, main, 0);
    const fileQueued = this.groups.length > before || this.sawQueue;
    if (appendQueues.length) {
      if (fileQueued) {
        const q = appendQueues[0]!;
        this.fail(
          'SUBMIT_QUEUE',
          q.src,
          q.stmt.offset,
          `a queue statement given with -a or -queue cannot be used: ${this.input.file} has its own queue statement`,
        );
      }
      this.inAppend = true;
      // the -a commands come just before the queue statement, also when -a gives that statement
      for (const a of this.appendAssigns) this.assign(a.stmt, a.src);
      for (const q of appendQueues) this.queue(q.stmt, q.src);
    }
    if (!this.sawQueue) {
      const lines = main.text.split('\n').length;
      const loc: Location = { file: main.file, line: Math.max(1, lines), column: 1 };
      throw new SourceError(
        'SUBMIT_QUEUE',
        `${main.file} has no queue statement, so no jobs would be submitted (add 'queue' at the end)`,
        loc,
        main.lineText(loc.line),
      );
    }

    // Lines that set something which is neither a submit command nor a macro used anywhere.
    for (const [lower, d] of this.firstDefs) {
      if (this.referenced.has(lower) || isSubmitCommand(lower)) continue;
      const hint = closestCommand(lower);
      this.warn(
        `line ${d.site.loc.line}: '${d.name}' is not a submit command${hint ? `; did you mean '${hint}'?` : ' (nor a macro used by one)'}`,
        d.site,
      );
    }
    return { groups: this.groups, warnings: this.warnings, autos: this.autos, total: this.total };
  }

  private sawQueue = false;

  private run(stmts: Statement[], src: SourceText, depth: number): void {
    const conds: CondFrame[] = [];
    const active = () => conds.length === 0 || conds[conds.length - 1]!.active;
    for (const s of stmts) {
      switch (s.kind) {
        case 'if': {
          const parentActive = active();
          const site = this.site(src, s.offset, 2);
          const v = parentActive ? this.condition(s.cond, src, s.condOffset) : false;
          conds.push({ active: parentActive && v, taken: v, parentActive, sawElse: false, site });
          break;
        }
        case 'elif': {
          const f = conds[conds.length - 1];
          if (!f) this.fail('SUBMIT_SYNTAX', src, s.offset, "'elif' without a matching 'if'", 4);
          if (f.sawElse) this.fail('SUBMIT_SYNTAX', src, s.offset, "'elif' after 'else'", 4);
          if (f.parentActive && !f.taken) {
            const v = this.condition(s.cond, src, s.condOffset);
            f.active = v;
            f.taken = v;
          } else f.active = false;
          break;
        }
        case 'else': {
          const f = conds[conds.length - 1];
          if (!f) this.fail('SUBMIT_SYNTAX', src, s.offset, "'else' without a matching 'if'", 4);
          if (f.sawElse) this.fail('SUBMIT_SYNTAX', src, s.offset, "a second 'else' for the same 'if'", 4);
          f.sawElse = true;
          f.active = f.parentActive && !f.taken;
          f.taken = true;
          if (s.tail.trim() !== '')
            this.fail(
              'SUBMIT_SYNTAX',
              src,
              s.tailOffset,
              `unexpected '${s.tail.trim()}' after 'else' (write 'elif <condition>')`,
            );
          break;
        }
        case 'endif': {
          if (!conds.length) this.fail('SUBMIT_SYNTAX', src, s.offset, "'endif' without a matching 'if'", 5);
          conds.pop();
          if (s.tail.trim() !== '')
            this.fail('SUBMIT_SYNTAX', src, s.tailOffset, `unexpected '${s.tail.trim()}' after 'endif'`);
          break;
        }
        case 'bad':
          if (!active()) break;
          if (s.reason === 'unclosed-list') {
            this.fail(
              'SUBMIT_QUEUE',
              src,
              s.listOffset ?? s.offset,
              "queue: the item list opened with '(' is never closed: end it with a line that begins with ')'",
            );
          }
          this.fail(
            'SUBMIT_SYNTAX',
            src,
            s.offset,
            `expected 'name = value', '+Attr = value', 'queue …', 'include : file' or 'if/else/endif', but found '${(s.text ?? '').slice(0, 60)}'`,
            Math.min((s.text ?? '').trimEnd().length, 200),
          );
          break; // not reached: fail() throws
        case 'directive':
          if (!active()) break;
          {
            const msg = expandMacros(s.message, this.env(), this.site(src, s.offset));
            if (s.level === 'error')
              this.fail('SUBMIT_INVALID', src, s.offset, msg.trim() || 'error statement in submit file');
            this.warn(msg.trim(), this.site(src, s.offset));
          }
          break;
        case 'include':
          if (!active()) break;
          this.include(s.options, s.path, s.pathOffset, src, depth);
          break;
        case 'assign':
          if (!active()) break;
          this.assign(s, src);
          break;
        case 'queue':
          if (!active()) break;
          for (const a of this.appendAssigns) this.assign(a.stmt, a.src);
          this.queue(s, src);
          break;
      }
    }
    if (conds.length) {
      const f = conds[conds.length - 1]!;
      throw new SourceError('SUBMIT_SYNTAX', "'if' without a matching 'endif'", f.site.loc, f.site.sourceLine);
    }
  }

  /** `if` conditions: [!]defined name, version op x.y[.z], true/false/yes/no/number, or a ClassAd expression. */
  private condition(raw: string, src: SourceText, offset: number): boolean {
    for (const n of referencedNames(raw).names) this.referenced.add(n);
    const site = this.site(src, offset);
    let text = raw.trim();
    let negate = false;
    const defined = /^(!\s*)?defined\s+([A-Za-z_][A-Za-z0-9_.]*)\s*$/i.exec(text);
    if (defined) {
      const name = defined[2]!.toLowerCase();
      this.referenced.add(name);
      const has = this.table.has(name) || this.autos.has(name);
      return defined[1] ? !has : has;
    }
    const version = /^(!\s*)?version\s*(==|>=|<=|>|<|!=)\s*([0-9]+(?:\.[0-9]+){0,2})\s*$/i.exec(text);
    if (version) {
      const want = version[3]!.split('.').map(Number);
      const have = SUBMIT_LANGUAGE_VERSION.slice(0, want.length);
      let cmp = 0;
      for (let i = 0; i < want.length && cmp === 0; i++) cmp = Math.sign(have[i]! - want[i]!);
      const op = version[2]!;
      const r =
        op === '=='
          ? cmp === 0
          : op === '!='
            ? cmp !== 0
            : op === '>='
              ? cmp >= 0
              : op === '<='
                ? cmp <= 0
                : op === '>'
                  ? cmp > 0
                  : cmp < 0;
      return version[1] ? !r : r;
    }
    text = expandMacros(text, this.env(), site).trim();
    if (text.startsWith('!') && !text.startsWith('!=')) {
      negate = true;
      text = text.slice(1).trim();
    }
    const lower = text.toLowerCase();
    let v: boolean | undefined;
    if (lower === '') v = false;
    else if (/^(true|yes|t|y)$/.test(lower)) v = true;
    else if (/^(false|no|f|n)$/.test(lower)) v = false;
    else if (/^[+-]?\d+(\.\d*)?$/.test(lower)) v = Number(lower) !== 0;
    else {
      const r = evalConstant(text);
      if (typeof r === 'boolean') v = r;
      else if (typeof r === 'number') v = r !== 0;
    }
    if (v === undefined) {
      throw new SourceError(
        'SUBMIT_SYNTAX',
        `if: '${raw.trim()}' is not a condition (expected true/false, a number, defined NAME, version >= X.Y, or a boolean expression)`,
        site.loc,
        site.sourceLine,
      );
    }
    return negate ? !v : v;
  }

  private include(options: string, rawPath: string, pathOffset: number, src: SourceText, depth: number): void {
    const site = this.site(src, pathOffset);
    const opts = options.toLowerCase().split(/\s+/).filter(Boolean);
    for (const o of opts) {
      if (o === 'command' || o === 'into')
        this.fail(
          'SUBMIT_SYNTAX',
          src,
          pathOffset,
          `include ${o}: running a command from a submit file is not supported; include a file instead`,
        );
      if (o !== 'ifexist')
        this.fail(
          'SUBMIT_SYNTAX',
          src,
          pathOffset,
          `include: unknown option '${o}' (expected 'include [ifexist] : file')`,
        );
    }
    const path = expandMacros(rawPath, this.env(), site).trim();
    if (path === '') this.fail('SUBMIT_SYNTAX', src, pathOffset, "include: expected a file name after ':'");
    if (path.endsWith('|'))
      this.fail(
        'SUBMIT_SYNTAX',
        src,
        pathOffset,
        `include: running a command ('${path}') is not supported; include a file instead`,
      );
    if (depth >= MAX_INCLUDE_DEPTH)
      this.fail(
        'SUBMIT_FILE',
        src,
        pathOffset,
        `include: nested more than ${MAX_INCLUDE_DEPTH} levels deep (does '${path}' include itself?)`,
      );
    const full = isAbsolute(path) ? path : join(this.input.cwd, path);
    let text: string;
    try {
      text = readSourceFile(full, MAX_SUBMIT_FILE_BYTES, 'the file', 'SUBMIT_FILE');
    } catch (e) {
      if (e instanceof SourceError) throw e; // not UTF-8: at its own line and column
      // ifexist skips only a file that is not there (HTCondor's "if the file exists"): a FIFO, a device or a
      // folder named there is a mistake worth saying, not a file to pass over
      const code = (e as NodeJS.ErrnoException).code;
      if (opts.includes('ifexist') && (code === 'ENOENT' || code === 'ENOTDIR')) return;
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      this.fail('SUBMIT_FILE', src, pathOffset, `include: cannot read '${path}': ${why}`, rawPath.trimEnd().length);
    }
    const isrc = new SourceText(full, text);
    this.run(parseSubmitText(isrc), isrc, depth + 1);
  }

  private assign(s: AssignStmt, src: SourceText): void {
    if (s.tag !== undefined && s.closed === false) {
      this.fail(
        'SUBMIT_SYNTAX',
        src,
        s.offset,
        `'${s.key} @=${s.tag}': the value is never closed with '@${s.tag}'`,
        s.key.length,
      );
    }
    let name = s.key;
    let lower = name.toLowerCase();
    if (lower.startsWith('+')) {
      name = name.slice(1);
      lower = 'my.' + name.toLowerCase();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        this.fail('SUBMIT_SYNTAX', src, s.keyOffset, `'+${name}' is not a valid attribute name`, s.key.length);
    } else if (lower.startsWith('my.')) {
      name = name.slice(3);
      lower = 'my.' + name.toLowerCase();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        this.fail('SUBMIT_SYNTAX', src, s.keyOffset, `'${s.key}' is not a valid attribute name`, s.key.length);
    }
    const { text, lead } = joinValue(s);
    let value = text;
    for (const n of referencedNames(value).names) if (n !== lower) this.referenced.add(n);
    // A definition in terms of itself uses the previous value: foo = $(foo) more
    let exact = true;
    if (value.indexOf('$(') >= 0) {
      const replaced = replaceSelfReferences(value, lower, () => this.table.get(lower)?.value ?? '');
      if (replaced === null) {
        this.fail(
          'SUBMIT_INVALID',
          src,
          s.keyOffset,
          `'${s.key.slice(0, 60)}' grows past ${MAX_MACRO_VALUE_CHARS} characters by referring to itself`,
          s.key.length,
        );
      }
      if (replaced !== undefined) {
        value = replaced;
        exact = false;
      }
    }
    const first = s.segments[0];
    const valueOffset = first ? first.offset + lead : s.offset;
    const site = this.site(src, valueOffset);
    const def: MacroDef = { name, value, site };
    if (exact && s.segments.length === 1 && s.tag === undefined) {
      def.exact = { file: site.loc.file, line: site.loc.line, column: site.loc.column, sourceLine: site.sourceLine };
    }
    this.table.set(lower, def);
    if (!this.firstDefs.has(lower) && !this.inAppend)
      this.firstDefs.set(lower, { name: s.key, site: this.site(src, s.keyOffset, s.key.length) });
  }

  private queue(s: QueueStmt, src: SourceText): void {
    this.sawQueue = true;
    for (const n of referencedNames(s.args).names) this.referenced.add(n);
    const items = readQueue(s, src, this.env(), this.maxProcs - this.total, this.maxProcs, (m, site) =>
      this.warn(m, site),
    );
    // loop variables are used by name in values; they are not misspelt commands
    for (const v of items.vars) this.referenced.add(v.toLowerCase());
    this.total += items.total;
    const site = this.site(src, s.offset, 5);
    this.groups.push({ table: new Map(this.table), items, site });
  }
}

/**
 * `$(name)` and `$(name:default)` in `value` (name compared without case) replaced by `prev()`; undefined
 * when there are none, null when the result would be longer than MAX_MACRO_VALUE_CHARS. A scan rather than a RegExp built from the name: keys are the user's text, and a key
 * with '(' or '[' in it, or one of 30,000 characters, made that pattern invalid and the submission crash.
 */
function replaceSelfReferences(value: string, lower: string, prev: () => string): string | undefined | null {
  let out = '';
  let from = 0;
  let found = false;
  for (let at = value.indexOf('$(', 0); at >= 0; at = value.indexOf('$(', at + 2)) {
    if (at < from) continue;
    const after = at + 2 + lower.length;
    if (value.slice(at + 2, after).toLowerCase() !== lower) continue;
    let end = -1;
    if (value[after] === ')') end = after;
    else if (value[after] === ':') end = value.indexOf(')', after);
    if (end < 0) continue;
    out += value.slice(from, at) + prev();
    if (out.length > MAX_MACRO_VALUE_CHARS) return null;
    from = end + 1;
    found = true;
  }
  return found ? out + value.slice(from) : undefined;
}
