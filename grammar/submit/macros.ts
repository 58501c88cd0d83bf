// Macro expansion as condor_submit does it: `$(name)`, `$(name:default)`, `$(DOLLAR)`, the function
// macros `$ENV() $INT() $REAL() $STRING() $EVAL() $RANDOM_CHOICE() $RANDOM_INTEGER() $CHOICE() $SUBSTR()
// $F[fpduwnxbqa]() $DIRNAME() $BASENAME()`, and `$$(Attr)` / `$$([expr])` kept for the startd to fill in
// from the matched machine. Values are expanded when a command is read (lazily, per proc), so a macro may
// be defined after the command that uses it and before the queue statement.
import { randomInt } from 'node:crypto';
import { isAbsolute, join, normalize } from 'node:path';
import { SourceError } from '../../lib/errors.js';
import type { Location } from '../../lib/diagnostic.js';
import { evalConstant } from './classad-bridge.js';

/** Where a value was written (for diagnostics). */
export interface Site {
  loc: Location;
  sourceLine?: string;
}

export interface MacroDef {
  /** the name as written */
  name: string;
  value: string;
  site?: Site;
  /** offsets of the value's text in its file, when it is a single line written verbatim */
  exact?: { file: string; line: number; column: number; sourceLine?: string };
  /** set when the definition came from the command line or the append list */
  fromCommandLine?: boolean;
}

export interface ExpandEnv {
  /** definitions from the file, command-line macros and -a lines: lower-cased name → definition */
  table: Map<string, MacroDef>;
  /** variables that win over the file: Cluster, ClusterId, Process, ProcId and the queue loop variables */
  live: Map<string, string>;
  /** automatic variables the file may override: Step, ItemIndex, Row, Item, ARCH, OPSYS, SUBMIT_FILE … */
  autos: Map<string, string>;
  env: Record<string, string | undefined>;
  cwd: string;
  warn(message: string, site?: Site): void;
  /** names looked up (lower-cased); lets the caller tell used macros from misspelled commands */
  used?: Set<string>;
}

/** The deepest nesting of macro references followed before giving up. */
export const MAX_MACRO_DEPTH = 64;
/** The largest expanded value, in characters. */
export const MAX_EXPANSION_CHARS = 1 << 20;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const FUNC_RE = /^\$([A-Za-z_][A-Za-z0-9_]*)\(/;

/** Index of the `)` matching the `(` at `open`, or -1. */
export function matchParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Split function-macro arguments on top-level commas. */
function splitArgs(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(body.slice(start, i));
      start = i + 1;
    }
  }
  out.push(body.slice(start));
  return out;
}

class Expander {
  private steps = 0;
  constructor(
    private readonly env: ExpandEnv,
    private readonly site: Site | undefined,
  ) {}

  /** The printf format of $INT/$REAL/$STRING; a width or precision past MAX_FORMAT_WIDTH is refused (a
   *  million-character field, expanded per proc, made a submission take minutes). */
  private format(name: string, fmt: string[]): string {
    const f = fmt.join(',').replace(/^ /, '');
    for (const m of f.matchAll(/%[-+ 0#]*(\d+)?(?:\.(\d+))?/g))
      if (Number(m[1] ?? 0) > MAX_FORMAT_WIDTH || Number(m[2] ?? 0) > MAX_FORMAT_WIDTH)
        this.fail(`$${name}(): the format '${f}' asks for a field wider than ${MAX_FORMAT_WIDTH} characters`);
    return f;
  }

  fail(message: string): never {
    const loc = this.site?.loc ?? { file: '<submit>', line: 1, column: 1 };
    throw new SourceError('SUBMIT_MACRO', message, loc, this.site?.sourceLine);
  }

  lookup(lower: string): string | undefined {
    this.env.used?.add(lower);
    const l = this.env.live.get(lower);
    if (l !== undefined) return l;
    const d = this.env.table.get(lower);
    if (d !== undefined) return d.value;
    return this.env.autos.get(lower);
  }

  /** Expand every macro in `s`; `stack` holds the names being expanded (cycle detection). */
  private depth = 0;

  expand(s: string, stack: string[]): string {
    if (s.indexOf('$') < 0) return s;
    if (stack.length > MAX_MACRO_DEPTH)
      this.fail(`macro expansion nested deeper than ${MAX_MACRO_DEPTH} levels (${stack.slice(-5).join(' → ')} …)`);
    if (this.depth > 4 * MAX_MACRO_DEPTH)
      this.fail(`macro references nested deeper than ${4 * MAX_MACRO_DEPTH} levels`);
    this.depth++;
    try {
      return this.expandFlat(s, stack);
    } finally {
      this.depth--;
    }
  }

  private expandFlat(s: string, stack: string[]): string {
    let out = '';
    let i = 0;
    for (;;) {
      if (++this.steps > 1_000_000) this.fail('macro expansion does not terminate (more than a million steps)');
      const j = s.indexOf('$', i);
      if (j < 0) {
        out += s.slice(i);
        break;
      }
      out += s.slice(i, j);
      if (s.charCodeAt(j + 1) === 36 && s.charCodeAt(j + 2) === 40) {
        // $$(Attr) or $$([expr]): kept for run time; its default part may hold submit macros? No: kept verbatim.
        const end = matchParen(s, j + 2);
        if (end < 0) this.fail(`unterminated '$$(' in '${s}'`);
        out += s.slice(j, end + 1);
        i = end + 1;
      } else if (s.charCodeAt(j + 1) === 40) {
        const end = matchParen(s, j + 1);
        if (end < 0) this.fail(`unterminated macro reference '$(' (missing ')') in '${s}'`);
        out += this.reference(s.slice(j + 2, end), stack);
        i = end + 1;
      } else {
        const m = FUNC_RE.exec(s.slice(j, j + 64));
        if (m) {
          const open = j + m[0].length - 1;
          const end = matchParen(s, open);
          if (end < 0) this.fail(`unterminated '$${m[1]}(' (missing ')') in '${s}'`);
          out += this.func(m[1]!, s.slice(open + 1, end), stack);
          i = end + 1;
        } else {
          out += '$';
          i = j + 1;
        }
      }
      if (out.length > MAX_EXPANSION_CHARS)
        this.fail(`macro expansion is larger than ${MAX_EXPANSION_CHARS} characters`);
    }
    return out;
  }

  /** `$(body)`: body is `name` or `name:default`. */
  private reference(body: string, stack: string[]): string {
    const colon = body.indexOf(':');
    const rawName = (colon < 0 ? body : body.slice(0, colon)).trim();
    let name = rawName;
    if (name.indexOf('$') >= 0) name = this.expand(name, stack).trim();
    if (!NAME_RE.test(name)) {
      this.env.warn(
        `'$(${body})' is not a macro reference (a name is letters, digits, '_' and '.'); kept as written`,
        this.site,
      );
      return '$(' + body + ')';
    }
    const lower = name.toLowerCase();
    if (lower === 'dollar') return '$';
    if (stack.includes(lower)) this.fail(`macro '${name}' refers to itself: ${[...stack, lower].join(' → ')}`);
    const v = this.lookup(lower);
    if (v === undefined) {
      if (colon >= 0) return this.expand(body.slice(colon + 1), stack);
      this.env.warn(`macro '${name}' is not defined; it expands to nothing`, this.site);
      return '';
    }
    stack.push(lower);
    try {
      return this.expand(v, stack);
    } finally {
      stack.pop();
    }
  }

  /** An argument that names a macro (`$INT(X)`) or is literal text. */
  private valueOfNameOrText(arg: string, stack: string[]): string {
    const t = arg.trim();
    if (NAME_RE.test(t)) {
      const lower = t.toLowerCase();
      if (stack.includes(lower)) this.fail(`macro '${t}' refers to itself: ${[...stack, lower].join(' → ')}`);
      const v = this.lookup(lower);
      if (v !== undefined) {
        stack.push(lower);
        try {
          return this.expand(v, stack);
        } finally {
          stack.pop();
        }
      }
    }
    return this.expand(t, stack);
  }

  private evalNumber(fn: string, arg: string, stack: string[]): number {
    const text = this.valueOfNameOrText(arg, stack);
    const v = evalConstant(text);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
    this.fail(`$${fn}(${arg}): '${text}' does not evaluate to a number`);
  }

  private func(name: string, body: string, stack: string[]): string {
    switch (name) {
      case 'ENV': {
        const b = this.expand(body, stack);
        const colon = b.indexOf(':');
        const v = this.env.env[(colon < 0 ? b : b.slice(0, colon)).trim()];
        if (v !== undefined) return v;
        if (colon >= 0) return b.slice(colon + 1);
        return '';
      }
      case 'INT': {
        const [a, ...fmt] = splitArgs(body);
        const n = Math.trunc(this.evalNumber(name, a ?? '', stack));
        return fmt.length ? sprintf(this.format(name, fmt), n) : String(n);
      }
      case 'REAL': {
        const [a, ...fmt] = splitArgs(body);
        const n = this.evalNumber(name, a ?? '', stack);
        return sprintf(fmt.length ? this.format(name, fmt) : '%.16G', n);
      }
      case 'STRING':
      case 'EVAL': {
        const [a, ...fmt] = splitArgs(body);
        const text = this.valueOfNameOrText(a ?? '', stack);
        const v = evalConstant(text);
        let s: string;
        if (typeof v === 'string') s = v;
        else if (v === null) s = 'undefined';
        else if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'error' in v) s = 'error';
        else s = typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
        return name === 'STRING' && fmt.length ? sprintf(this.format(name, fmt), s) : s;
      }
      case 'RANDOM_CHOICE': {
        const items = splitArgs(this.expand(body, stack)).map((x) => x.trim());
        return items[randomInt(items.length)] ?? '';
      }
      case 'RANDOM_INTEGER': {
        const parts = splitArgs(this.expand(body, stack)).map((x) => x.trim());
        const lo = Number(parts[0]);
        const hi = Number(parts[1]);
        const step = parts[2] === undefined || parts[2] === '' ? 1 : Number(parts[2]);
        if (!Number.isInteger(lo) || !Number.isInteger(hi) || !Number.isInteger(step) || step <= 0 || hi < lo) {
          this.fail(`$RANDOM_INTEGER(${body}): expected integers min, max[, step] with min <= max and step > 0`);
        }
        const count = Math.floor((hi - lo) / step) + 1;
        return String(lo + step * randomInt(count));
      }
      case 'CHOICE': {
        const parts = splitArgs(body);
        if (parts.length < 2) this.fail(`$CHOICE(${body}): expected an index and a list`);
        const idx = Math.trunc(this.evalNumber(name, parts[0]!, stack));
        let items: string[];
        if (
          parts.length === 2 &&
          NAME_RE.test(parts[1]!.trim()) &&
          this.lookup(parts[1]!.trim().toLowerCase()) !== undefined
        ) {
          items = this.valueOfNameOrText(parts[1]!, stack)
            .split(/[,\s]+/)
            .filter((x) => x !== '');
        } else items = parts.slice(1).map((x) => this.expand(x.trim(), stack));
        if (idx < 0 || idx >= items.length)
          this.fail(`$CHOICE(${body}): index ${idx} is outside the list of ${items.length} item(s)`);
        return items[idx]!;
      }
      case 'SUBSTR': {
        const parts = splitArgs(body);
        const s = this.valueOfNameOrText(parts[0] ?? '', stack);
        const startN = Number(this.expand((parts[1] ?? '0').trim(), stack));
        if (!Number.isInteger(startN)) this.fail(`$SUBSTR(${body}): the start index must be an integer`);
        let start = startN < 0 ? Math.max(0, s.length + startN) : Math.min(startN, s.length);
        let end = s.length;
        if (parts[2] !== undefined) {
          const len = Number(this.expand(parts[2].trim(), stack));
          if (!Number.isInteger(len)) this.fail(`$SUBSTR(${body}): the length must be an integer`);
          end = len < 0 ? s.length + len : start + len;
        }
        if (end < start) end = start;
        start = Math.max(0, start);
        return s.slice(start, end);
      }
      case 'DIRNAME':
        return fileParts('p', this.valueOfNameOrText(body, stack), this.env.cwd);
      case 'BASENAME':
        return fileParts('nx', this.valueOfNameOrText(body, stack), this.env.cwd);
      default:
        if (/^F[fpduwnxbqa]+$/.test(name))
          return fileParts(name.slice(1), this.valueOfNameOrText(body, stack), this.env.cwd);
        // not a function macro: keep the text (a lone `$` followed by a word and parens)
        return '$' + name + '(' + this.expand(body, stack) + ')';
    }
  }
}

/** $F[fpduwnxbqa](path) */
export function fileParts(opts: string, path: string, cwd: string): string {
  let p = path.trim();
  if (opts.includes('f') && !isAbsolute(p)) p = normalize(join(cwd, p));
  const slash = p.lastIndexOf('/');
  const dir = slash >= 0 ? p.slice(0, slash + 1) : '';
  const file = slash >= 0 ? p.slice(slash + 1) : p;
  const dot = file.lastIndexOf('.');
  const base = dot > 0 ? file.slice(0, dot) : file;
  const ext = dot > 0 ? file.slice(dot) : '';
  let out = '';
  const wantP = opts.includes('p');
  const wantD = opts.includes('d');
  const wantN = opts.includes('n');
  const wantX = opts.includes('x');
  const b = opts.includes('b');
  if (!wantP && !wantD && !wantN && !wantX) out = p;
  else {
    if (wantP) out += dir;
    else if (wantD) {
      const trimmed = dir.replace(/\/+$/, '');
      const last = trimmed.slice(trimmed.lastIndexOf('/') + 1);
      if (last) out += b ? last : last + '/';
    }
    if (wantN) out += base;
    if (wantX) out += b && ext ? ext.slice(1) : ext;
  }
  if (opts.includes('w')) out = out.replace(/\//g, '\\');
  if (opts.includes('u')) out = out.replace(/\\/g, '/');
  if (opts.includes('q')) out = opts.includes('a') ? `'${out}'` : `"${out}"`;
  return out;
}

/** The widest field a $INT/$REAL/$STRING format may ask for. */
export const MAX_FORMAT_WIDTH = 4096;

/** A small printf for $INT/$REAL/$STRING formats: %[flags][width][.prec](d|i|u|x|X|o|c|e|E|f|F|g|G|s) and %%. */
export function sprintf(fmt: string, v: number | string): string {
  let used = false;
  return fmt.replace(
    /%([-+ 0#]*)(\d+)?(?:\.(\d+))?([diuxXocseEfFgG%])/g,
    (_all, flags: string, width?: string, prec?: string, conv?: string) => {
      if (conv === '%') return '%';
      if (used) return '';
      used = true;
      const n = typeof v === 'number' ? v : Number(v);
      let s: string;
      switch (conv) {
        case 'd':
        case 'i':
        case 'u':
          s = String(Math.trunc(n));
          break;
        case 'x':
          s = Math.trunc(n).toString(16);
          break;
        case 'X':
          s = Math.trunc(n).toString(16).toUpperCase();
          break;
        case 'o':
          s = Math.trunc(n).toString(8);
          break;
        case 'c':
          s = String.fromCharCode(Math.trunc(n));
          break;
        case 's':
          s = typeof v === 'string' ? v : String(v);
          if (prec !== undefined) s = s.slice(0, Number(prec));
          break;
        case 'e':
        case 'E':
          s = n.toExponential(prec === undefined ? 6 : Number(prec)).replace(/e([+-])(\d)$/, 'e$10$2');
          if (conv === 'E') s = s.toUpperCase();
          break;
        case 'f':
        case 'F':
          s = n.toFixed(prec === undefined ? 6 : Number(prec));
          break;
        default: {
          // %g: shortest of %e/%f with `prec` significant digits, trailing zeros removed
          const p = prec === undefined ? 6 : Math.max(1, Number(prec));
          if (!Number.isFinite(n)) s = String(n);
          else if (n === 0) s = '0';
          else {
            const exp = Math.floor(Math.log10(Math.abs(n)));
            if (exp < -4 || exp >= p)
              s = n
                .toExponential(p - 1)
                .replace(/\.?0+e/, 'e')
                .replace(/e([+-])(\d)$/, 'e$10$2');
            else s = n.toFixed(Math.max(0, p - 1 - exp));
            if (!flags.includes('#') && s.includes('.') && !s.includes('e')) s = s.replace(/\.?0+$/, '');
          }
          if (conv === 'G') s = s.toUpperCase();
        }
      }
      if (conv !== 's' && conv !== 'c') {
        if (flags.includes('+') && n >= 0) s = '+' + s;
        else if (flags.includes(' ') && n >= 0) s = ' ' + s;
      }
      const w = width ? Number(width) : 0;
      if (s.length < w) {
        if (flags.includes('-')) s = s.padEnd(w);
        else if (flags.includes('0') && conv !== 's') {
          const sign = /^[+\- ]/.test(s) ? s[0]! : '';
          s = sign + s.slice(sign.length).padStart(w - sign.length, '0');
        } else s = s.padStart(w);
      }
      return s;
    },
  );
}

/** Expand all macros in `text`; errors are reported at `site`. */
export function expandMacros(text: string, env: ExpandEnv, site?: Site): string {
  if (text.indexOf('$') < 0) return text;
  return new Expander(env, site).expand(text, []);
}

// ---------------------------------------------------------------------------------------------
// Dependency analysis: which values change from proc to proc (so they are expanded per proc) and
// which use the cluster id (so they are expanded again once the schedd has assigned it).

export interface Dependence {
  /** varies per proc (Process, Step, Item, queue variables, $RANDOM_*) */
  perProc: boolean;
  /** uses $(Cluster)/$(ClusterId) */
  cluster: boolean;
}

const PER_PROC = new Set(['process', 'procid', 'step', 'itemindex', 'row', 'item', 'node']);

/** Names a value refers to, directly: `$(name…)`, and words inside function macros (conservative). */
export function referencedNames(text: string): { names: Set<string>; random: boolean } {
  const names = new Set<string>();
  let random = false;
  if (text.indexOf('$') < 0) return { names, random };
  const re = /\$(\$?)(?:\(([^():]*)|([A-Za-z_][A-Za-z0-9_]*)\()/g;
  let m: RegExpExecArray | null;
  // the end of the function body last scanned: a function inside it adds no word that scan did not, and
  // scanning each nested body again made $INT(N,$INT(N,… quadratic
  let covered = -1;
  while ((m = re.exec(text))) {
    if (m[1]) continue; // $$( … ) is for run time
    if (m[2] !== undefined) {
      names.add(m[2].trim().toLowerCase());
    } else if (m[3]) {
      if (m[3].startsWith('RANDOM_')) random = true;
      if (m.index < covered) continue;
      const open = m.index + m[0].length - 1;
      const end = matchParen(text, open);
      const body = end < 0 ? text.slice(open + 1) : text.slice(open + 1, end);
      covered = end < 0 ? text.length : end;
      for (const w of body.match(/[A-Za-z_][A-Za-z0-9_.]*/g) ?? []) names.add(w.toLowerCase());
    }
  }
  return { names, random };
}

/** Computes (and memoizes) Dependence for macro names and texts against one macro table. */
export class DependenceOracle {
  private readonly memo = new Map<string, Dependence>();
  constructor(
    private readonly table: Map<string, MacroDef>,
    private readonly loopVars: Set<string>,
  ) {}

  ofName(lower: string, visiting = new Set<string>()): Dependence {
    const hit = this.memo.get(lower);
    if (hit) return hit;
    let d: Dependence;
    if (lower === 'cluster' || lower === 'clusterid') d = { perProc: false, cluster: true };
    else if (this.loopVars.has(lower) || lower === 'process' || lower === 'procid')
      d = { perProc: true, cluster: false };
    else {
      const def = this.table.get(lower);
      if (def === undefined)
        d = lower === 'jobid' ? { perProc: true, cluster: true } : { perProc: PER_PROC.has(lower), cluster: false };
      else if (visiting.has(lower)) return { perProc: false, cluster: false };
      // too deep to follow: assume the worst (expanded per proc, the expander reports the depth)
      else if (visiting.size > MAX_MACRO_DEPTH) return { perProc: true, cluster: true };
      else {
        visiting.add(lower);
        d = this.ofText(def.value, visiting);
        visiting.delete(lower);
      }
    }
    this.memo.set(lower, d);
    return d;
  }

  ofText(text: string, visiting = new Set<string>()): Dependence {
    const { names, random } = referencedNames(text);
    const d: Dependence = { perProc: random, cluster: false };
    for (const n of names) {
      const x = this.ofName(n, visiting);
      if (x.perProc) d.perProc = true;
      if (x.cluster) d.cluster = true;
      if (d.perProc && d.cluster) break;
    }
    return d;
  }
}
