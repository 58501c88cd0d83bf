// Submit commands → job ad attributes, as condor_submit writes them (HTCondor's attribute names).
//
// Each command (or small group of commands that decide together, like the request_* commands and the
// default Requirements) is a handler. A handler whose commands do not change from proc to proc runs once
// per queue statement; the others run once per proc. Only attributes that differ between procs end up in
// JobSet.procs, the rest in JobSet.cluster.
import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import os from 'node:os';
import { dirname, isAbsolute, normalize, resolve } from 'node:path';
import { SourceError, type ErrorCode } from '../../lib/errors.js';
import { HoldCode, JobStatus, UNIVERSES, Universe } from '../../lib/job-status.js';
import { condorArch, condorOpSys } from '../../lib/platform.js';
import { splitFileList } from '../../lib/file-list.js';
import { NICE_USER_GROUP } from '../../lib/job-attrs.js';
import {
  ArgSyntaxError,
  CANONICAL_V2,
  isV2Quoted,
  joinV1Env,
  joinV2Env,
  joinV2Raw,
  normalizeV1Args,
  parseV1Env,
  parseV2Env,
  splitV2Raw,
  v2QuotedToRaw,
} from './args-env.js';
import { isPlainLiteral } from '../classad/index.js';
import { checkExpr, quoteString, type CheckedExpr, type Origin } from './classad-bridge.js';
import { SIMPLE_COMMANDS, closestCommand, type SimpleType } from './commands.js';
import type { LoadedSubmit, QueueGroup } from './load.js';
import {
  DependenceOracle,
  expandMacros,
  matchParen,
  MAX_MACRO_DEPTH,
  type ExpandEnv,
  type MacroDef,
  type Site,
} from './macros.js';
import type { SubmitInput, SubmitWarning } from './types.js';

type Attrs = Record<string, string>;

const UNSUPPORTED_UNIVERSES = ['standard', 'grid', 'java', 'vm', 'docker', 'globus', 'mpi', 'pvm'];

/** A job that runs in a container: it names an image (HTCondor: container_image implies universe = container). */
function isContainerJob(g: GroupExpander): boolean {
  return !!g.get('container_image')?.value || (g.get('universe')?.value ?? '').toLowerCase() === 'container';
}

/**
 * RequestMemory when request_memory is not given, in MB (HTCondor's JOB_DEFAULT_REQUESTMEMORY, 128 there).
 * The startd holds a job to its request, and a Python interpreter with numpy loaded is past 128 MB, so an
 * ordinary first job was held; 1 GB per job is what a batch system's users expect (docs/submit.md).
 */
export const DEFAULT_REQUEST_MEMORY_MB = 1024;
/** The hold reason of `hold = true` (HoldReasonCode 15: submitted on hold). */
export const SUBMITTED_ON_HOLD_REASON = "submitted on hold at user's request";

// ---- value helpers ---------------------------------------------------------------------------

export function parseBool(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === 'yes' || t === 't' || t === 'y' || t === 'on' || t === '1') return true;
  if (t === 'false' || t === 'no' || t === 'f' || t === 'n' || t === 'off' || t === '0') return false;
  return undefined;
}

const UNIT_RE = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([KMGTP]?)(?:i?B)?$/i;
const POW: Record<string, number> = { '': 0, K: 1, M: 2, G: 3, T: 4, P: 5 };

/**
 * A quantity with an optional unit suffix (K/KB, M/MB, G/GB, T/TB, case-insensitive, powers of 1024)
 * in `base` units (1 = KiB, 2 = MiB), rounded up. `defaultPow` is the unit of a bare number.
 * Returns undefined when `text` is not a number with a unit (then it is a ClassAd expression).
 */
export function parseQuantity(text: string, base: number, defaultPow: number): number | undefined {
  const m = UNIT_RE.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2]!.toUpperCase();
  const pow = unit === '' ? defaultPow : POW[unit]!;
  return Math.ceil(n * 1024 ** (pow - base) - 1e-9);
}

// ---- per queue statement -----------------------------------------------------------------------

interface Cmd {
  def: MacroDef;
  value: string;
  site: Site;
}

interface Handler {
  reads: string[];
  run(g: GroupExpander, out: Attrs): void;
}

type Render = () => string;

const NO_ATTRS: CheckedExpr = { attrs: { my: new Set(), target: new Set(), unscoped: new Set() } };

const LIVE_NAMES = new Set(['process', 'procid', 'cluster', 'clusterid']);

class GroupExpander {
  readonly env: ExpandEnv;
  readonly live = new Map<string, string>();
  readonly autos: Map<string, string>;
  private readonly renders = new Map<MacroDef, Render>();
  private readonly oracle: DependenceOracle;
  private readonly loopVars: Set<string>;
  constructor(
    readonly input: SubmitInput,
    readonly group: QueueGroup,
    autos: Map<string, string>,
    readonly stats: Map<string, Stats | null>,
    warn: (m: string, s?: Site) => void,
  ) {
    this.autos = new Map(autos);
    this.env = { table: group.table, live: this.live, autos: this.autos, env: input.env, cwd: input.cwd, warn };
    this.loopVars = new Set(group.items.vars.map((v) => v.toLowerCase()));
    this.oracle = new DependenceOracle(group.table, this.loopVars);
  }

  has(name: string): boolean {
    return this.group.table.has(name);
  }

  /** The expanded, trimmed value of a command (undefined when not given). */
  get(name: string): Cmd | undefined {
    const def = this.group.table.get(name);
    if (!def) return undefined;
    let r = this.renders.get(def);
    if (!r) {
      r = this.compile(def);
      this.renders.set(def, r);
    }
    return { def, value: r(), site: def.site ?? this.group.site };
  }

  /**
   * How to get a definition's expanded value. Values that do not change from proc to proc are expanded
   * once; values made of plain `$(name)` references are compiled into a list of parts (the common
   * `out.$(Cluster).$(Process)`), so a proc costs a few string concatenations; the rest use the
   * full expander every time.
   */
  /** Forget compiled values (the cluster id changed). */
  resetRenders(): void {
    this.renders.clear();
  }

  private compile(def: MacroDef): Render {
    const text = def.value;
    if (text.indexOf('$') < 0) return () => text;
    const site = def.site ?? this.group.site;
    const full: Render = () => trimEnds(expandMacros(text, this.env, site));
    if (!this.oracle.ofText(text).perProc) {
      let cached: string | undefined;
      return () => (cached ??= full());
    }
    const t = this.template(text, [], site);
    if (!t) return full;
    return () => trimEnds(t());
  }

  private template(text: string, stack: string[], site: Site): Render | null {
    if (stack.length > MAX_MACRO_DEPTH) return null;
    const parts: Array<string | Render> = [];
    let i = 0;
    for (;;) {
      const j = text.indexOf('$', i);
      if (j < 0) {
        if (i < text.length) parts.push(text.slice(i));
        break;
      }
      if (j > i) parts.push(text.slice(i, j));
      const c1 = text.charCodeAt(j + 1);
      if (c1 === 36 && text.charCodeAt(j + 2) === 40) {
        const end = matchParen(text, j + 2);
        if (end < 0) return null;
        parts.push(text.slice(j, end + 1));
        i = end + 1;
        continue;
      }
      if (c1 !== 40) {
        if (/^\$[A-Za-z_][A-Za-z0-9_]*\(/.test(text.slice(j, j + 64))) return null; // function macros: full expander
        parts.push('$');
        i = j + 1;
        continue;
      }
      const end = matchParen(text, j + 1);
      if (end < 0) return null;
      const body = text.slice(j + 2, end);
      i = end + 1;
      const colon = body.indexOf(':');
      const name = (colon < 0 ? body : body.slice(0, colon)).trim();
      if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) return null;
      const lower = name.toLowerCase();
      if (lower === 'dollar') {
        parts.push('$');
        continue;
      }
      if (stack.includes(lower)) return null;
      if (this.loopVars.has(lower) || LIVE_NAMES.has(lower)) {
        const live = this.live;
        parts.push(() => live.get(lower) ?? '');
        continue;
      }
      const d = this.group.table.get(lower);
      if (d) {
        if (!this.oracle.ofName(lower).perProc) {
          let cached: string | undefined;
          const dsite = d.site ?? site;
          parts.push(() => (cached ??= expandMacros(d.value, this.env, dsite)));
          continue;
        }
        if (d.value.indexOf('$') < 0) {
          parts.push(d.value);
          continue;
        }
        const sub = this.template(d.value, [...stack, lower], d.site ?? site);
        if (!sub) return null;
        parts.push(sub);
        continue;
      }
      if (this.autos.has(lower)) {
        const autos = this.autos;
        parts.push(() => autos.get(lower) ?? '');
        continue;
      }
      if (colon >= 0) {
        const sub = this.template(body.slice(colon + 1), stack, site);
        if (!sub) return null;
        parts.push(sub);
        continue;
      }
      this.env.warn(`macro '${name}' is not defined; it expands to nothing`, site);
    }
    if (parts.length === 1) {
      const p = parts[0]!;
      return typeof p === 'string' ? () => p : p;
    }
    return () => {
      let s = '';
      for (let k = 0; k < parts.length; k++) {
        const p = parts[k]!;
        s += typeof p === 'string' ? p : p();
      }
      return s;
    };
  }

  /** Just the expanded value (the per-proc hot path: no Cmd object). */
  value(name: string): string | undefined {
    const def = this.group.table.get(name);
    if (!def) return undefined;
    let r = this.renders.get(def);
    if (!r) {
      r = this.compile(def);
      this.renders.set(def, r);
    }
    return r();
  }

  /** The first of several alias names that is given. */
  getAny(...names: string[]): Cmd | undefined {
    for (const n of names) {
      const c = this.get(n);
      if (c) return c;
    }
    return undefined;
  }

  fail(site: Site, message: string, code: ErrorCode = 'SUBMIT_INVALID'): never {
    throw new SourceError(code, message, site.loc, site.sourceLine);
  }

  warn(message: string, site?: Site): void {
    this.env.warn(message, site);
  }

  /**
   * Whether a script's `#!` line ends with a carriage return (a file saved with DOS line ends): the kernel
   * would look for an interpreter named `/bin/sh\r`, and the job fail with 'No such file or directory'.
   * Read once per path (its first 256 bytes).
   */
  crlfScript(path: string): boolean {
    let crlf = this.crlf.get(path);
    if (crlf === undefined) {
      crlf = false;
      try {
        const fd = openSync(path, 'r');
        try {
          const head = Buffer.alloc(256);
          const n = readSync(fd, head, 0, head.length, 0);
          const text = head.subarray(0, n).toString('latin1');
          const eol = text.indexOf('\n');
          crlf = text.startsWith('#!') && eol > 0 && text[eol - 1] === '\r';
        } finally {
          closeSync(fd);
        }
      } catch {
        /* unreadable here: the job's start says why */
      }
      this.crlf.set(path, crlf);
    }
    return crlf;
  }
  private readonly crlf = new Map<string, boolean>();

  stat(path: string): Stats | null {
    let s = this.stats.get(path);
    if (s === undefined) {
      try {
        s = statSync(path);
      } catch {
        s = null;
      }
      this.stats.set(path, s);
    }
    return s;
  }

  /** Where an expression written in the file starts, when its expanded text is exactly what the file says. */
  origin(c: Cmd): Origin | undefined {
    if (!c.def.exact || c.value !== c.def.value) return undefined;
    return c.def.exact;
  }

  expr(c: Cmd, what: string): CheckedExpr {
    if (c.value === '') this.fail(c.site, `${what}: expected an expression, found nothing`);
    // literals (the usual per-proc values: +Index = $(Process), +Name = "$(Item)") need no parser
    if (isPlainLiteral(c.value)) return NO_ATTRS;
    const hit = this.exprCache.get(c.value);
    if (hit) return hit;
    const r = checkExpr(c.value, this.origin(c), c.site.loc, c.site.sourceLine, what);
    if (this.exprCache.size < 10_000) this.exprCache.set(c.value, r);
    return r;
  }
  private readonly exprCache = new Map<string, CheckedExpr>();

  /** Initial working directory: initialdir resolved against the submit directory. */
  iwd(): string {
    const c = this.getAny('initialdir', 'initial_dir');
    if (!c || c.value === '') return this.input.cwd;
    return resolve(this.input.cwd, c.value);
  }

  /** A syntax error at a character inside a command's value (exact when the value was not expanded). */
  failAt(c: Cmd, offsetInValue: number, message: string, code: ErrorCode = 'SUBMIT_SYNTAX'): never {
    const o = this.origin(c);
    if (o) {
      const loc = { file: o.file, line: o.line, column: o.column + offsetInValue };
      throw new SourceError(code, message, loc, o.sourceLine);
    }
    this.fail(c.site, `${message} in '${c.value}'`, code);
  }
}

function trimEnds(s: string): string {
  const n = s.length;
  if (n === 0) return s;
  const a = s.charCodeAt(0);
  const b = s.charCodeAt(n - 1);
  return a <= 32 || b <= 32 ? s.trim() : s;
}

function mentions(attrs: CheckedExpr['attrs'] | undefined, name: string): boolean {
  if (!attrs) return false;
  const n = name.toLowerCase();
  return attrs.target.has(n) || attrs.unscoped.has(n);
}

/** Whether a request_disk (base 1, KiB) or request_memory (base 2, MiB) command is a size no larger than `limit`. */
function requestAtMost(c: Cmd | undefined, base: number, limit: number): boolean {
  if (!c || c.value === '') return false;
  const q = parseQuantity(c.value, base, base);
  return q !== undefined && q <= limit;
}

function diskUsageKB(g: GroupExpander): number {
  const e = g.get('executable');
  if (!e || e.value === '' || e.value.includes('$$(')) return 1;
  const st = g.stat(isAbsolute(e.value) ? normalize(e.value) : resolve(g.input.cwd, e.value));
  return Math.max(1, Math.ceil((st?.size ?? 0) / 1024));
}

// ---- the handlers ------------------------------------------------------------------------------

const universeHandler: Handler = {
  reads: ['universe', 'my.dagmandagfile', 'machine_count', 'container_image', 'docker_image'],
  run(g: GroupExpander, out: Attrs) {
    const u = g.get('universe');
    const image = g.get('container_image');
    if (image?.value && u?.value && u.value.toLowerCase() !== 'container')
      g.fail(image.site, `container_image needs universe = container (or no universe), not universe = ${u.value}`);
    if (u?.value.toLowerCase() === 'container' && !image?.value)
      g.fail(u.site, 'universe = container needs container_image = IMAGE (the image the job runs in)');
    const name = image?.value ? 'container' : (u?.value || 'vanilla').toLowerCase();
    const n = UNIVERSES[name];
    if (n === undefined) {
      // HTCondor's docker universe is its container universe with a docker:// image
      if (name === 'docker')
        g.fail(
          u!.site,
          `universe 'docker' is not supported by dsched: write universe = container and container_image = docker://${g.get('docker_image')?.value || 'IMAGE'} (HTCondor's container universe), which runs the job in that image`,
        );
      if (UNSUPPORTED_UNIVERSES.includes(name))
        g.fail(
          u!.site,
          `universe '${u!.value}' is not supported by dsched (use vanilla, container, parallel, local or scheduler)`,
        );
      g.fail(
        u!.site,
        `universe: unknown universe '${u!.value}' (expected vanilla, container, parallel, scheduler or local)`,
      );
    }
    // the schedd runs a scheduler-universe job only as a DAG; any other would stay idle for ever
    if (n === Universe.Scheduler && !g.get('my.dagmandagfile'))
      g.fail(
        u!.site,
        'universe = scheduler runs DAGs only, and this file names no DAG (+DAGManDagFile): submit a DAG with dsubmit-dag, or use universe = vanilla',
      );
    out.JobUniverse = String(n);
    // a parallel job's machines, all at once (docs/parallel.md); several may be on one host, as in HTCondor
    if (n === Universe.Parallel) {
      const mc = g.get('machine_count');
      if (!mc || !/^\s*[1-9]\d*\s*$/.test(mc.value))
        g.fail(mc?.site ?? u!.site, 'universe = parallel needs machine_count = N (how many machines the job runs on)');
      out.GangPlacement = '"free"';
    }
  },
};

const executableHandler: Handler = {
  reads: ['executable', 'transfer_executable', 'image_size', 'container_image', 'universe'],
  run(g: GroupExpander, out: Attrs) {
    const e = g.get('executable');
    if (!e || e.value === '') {
      g.fail(
        e?.site ?? g.group.site,
        e
          ? 'executable: expected a program path, found nothing'
          : "no executable given: add 'executable = /path/to/program' before the queue statement",
      );
    }
    const path = e.value;
    const te = g.get('transfer_executable');
    // a container job's absolute executable is the image's program, not one of this host's
    const inImage = isContainerJob(g) && isAbsolute(path) && !te;
    const transfer = te ? parseBool(te.value) : !inImage;
    if (inImage) out.TransferExecutable = 'false';
    if (path.includes('$$(')) {
      out.Cmd = quoteString(path);
    } else {
      const abs = isAbsolute(path) ? normalize(path) : resolve(g.input.cwd, path);
      out.Cmd = quoteString(abs);
      if (transfer !== false) {
        const st = g.stat(abs);
        if (!st)
          g.fail(
            e.site,
            `executable '${path}' does not exist${isAbsolute(path) ? '' : ` (looked for ${abs})`}`,
            'SUBMIT_FILE',
          );
        if (st.isDirectory()) g.fail(e.site, `executable '${path}' is a directory`, 'SUBMIT_FILE');
        if ((st.mode & 0o111) === 0) g.warn(`executable '${path}' is not marked executable (chmod +x ${path})`, e.site);
        if (st.isFile() && g.crlfScript(abs)) {
          // as condor_submit: refused, or with -allow-crlf-script only told
          const why = `executable '${path}' is a script whose #! line ends in a DOS/Windows line end (\\r\\n): Linux would look for an interpreter whose name ends in \\r and the job would fail to start; convert it (dos2unix ${path}, or sed -i 's/\\r$//' ${path})`;
          if (g.input.allowCrlfScript) g.warn(why, e.site);
          else g.fail(e.site, why, 'SUBMIT_FILE');
        }
      }
    }
    const kb = diskUsageKB(g);
    out.DiskUsage = String(kb);
    const is = g.get('image_size');
    if (is && is.value !== '') {
      const q = parseQuantity(is.value, 1, 1);
      if (q === undefined)
        g.fail(is.site, `image_size: '${is.value}' is not a size (a number of KiB, or with a unit: 28 MB)`);
      out.ImageSize = String(q);
    } else out.ImageSize = String(kb);
  },
};

const argumentsHandler: Handler = {
  reads: ['arguments'],
  run(g: GroupExpander, out: Attrs) {
    const v = g.value('arguments');
    if (!v) return;
    // the common case first: "words without quotes"
    if (v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34 && v.length >= 2) {
      const inner = v.slice(1, -1);
      if (CANONICAL_V2.test(inner)) {
        out.Arguments = quoteString(inner);
        return;
      }
    }
    const a = g.get('arguments')!;
    if (isV2Quoted(a.value)) {
      try {
        const { raw, rawOffset } = v2QuotedToRaw(a.value);
        if (CANONICAL_V2.test(raw)) {
          out.Arguments = quoteString(raw);
          return;
        }
        let words: string[];
        try {
          words = splitV2Raw(raw);
        } catch (e) {
          if (e instanceof ArgSyntaxError) {
            g.failAt(
              a,
              rawToQuotedOffset(raw, rawOffset, e.offset),
              `arguments: ${e.message} (inside single quotes, write '' for a literal ')`,
            );
          }
          throw e;
        }
        out.Arguments = quoteString(joinV2Raw(words));
      } catch (e) {
        if (e instanceof ArgSyntaxError) g.failAt(a, e.offset, `arguments: ${e.message}`);
        throw e;
      }
    } else {
      // old syntax: a double quote must be written \" (condor_submit refuses a bare one)
      const bare = /(?<!\\)"/.exec(a.value);
      if (bare) {
        g.failAt(
          a,
          bare.index,
          `arguments: a double quote in the old syntax must be written \\" (or put the whole value in double quotes for the new syntax, where '' groups words)`,
        );
      }
      out.Args = quoteString(normalizeV1Args(a.value));
    }
  },
};

/** An offset in a V2 raw string → the offset in the quoted submit value ("" is two characters there). */
function rawToQuotedOffset(raw: string, rawOffset: number, offset: number): number {
  let q = rawOffset;
  for (let i = 0; i < offset; i++) q += raw[i] === '"' ? 2 : 1;
  return q;
}

/** getenv = true | false | a list of names with * wildcards (a leading ! or - excludes). */
function getenvFilter(text: string): ((name: string) => boolean) | null {
  const b = parseBool(text);
  if (b === true) return () => true;
  if (b === false || text.trim() === '') return null;
  const include: string[] = [];
  const exclude: string[] = [];
  for (const w of text.split(/[\s,]+/).filter(Boolean)) {
    const neg = w.startsWith('!') || w.startsWith('-');
    (neg ? exclude : include).push((neg ? w.slice(1) : w).toLowerCase());
  }
  const hit = (pats: string[], name: string) => pats.some((p) => globMatch(p, name.toLowerCase()));
  return (name) => (include.length === 0 || hit(include, name)) && !hit(exclude, name);
}

/**
 * Whether `name` matches the glob `pat` (* any run, ? one character). Matched directly rather than through a
 * RegExp built from the word: a long word made a RegExp too large to compile. Greedy with one backtrack point
 * per *, so the time is at most the product of the two lengths.
 */
export function globMatch(pat: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pat.length && (pat[p] === '?' || pat[p] === name[n])) {
      p++;
      n++;
    } else if (p < pat.length && pat[p] === '*') {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else return false;
  }
  while (p < pat.length && pat[p] === '*') p++;
  return p === pat.length;
}

const environmentHandler: Handler = {
  reads: ['environment', 'env', 'getenv'],
  run(g: GroupExpander, out: Attrs) {
    const e = g.getAny('environment', 'env');
    const ge = g.get('getenv');
    const filter = ge ? getenvFilter(ge.value) : null;
    let explicit: Array<[string, string]> = [];
    let v2 = false;
    if (e && e.value !== '') {
      try {
        if (isV2Quoted(e.value)) {
          v2 = true;
          const { raw, rawOffset } = v2QuotedToRaw(e.value);
          let p: ReturnType<typeof parseV2Env>;
          try {
            p = parseV2Env(raw);
          } catch (err) {
            if (err instanceof ArgSyntaxError)
              g.failAt(
                e,
                rawToQuotedOffset(raw, rawOffset, err.offset),
                `environment: ${err.message} (inside single quotes, write '' for a literal ')`,
              );
            throw err;
          }
          if (p.bad.length) g.fail(e.site, `environment: '${p.bad[0]}' is not NAME=value`);
          explicit = p.entries;
        } else {
          const p = parseV1Env(e.value);
          if (p.bad.length)
            g.fail(
              e.site,
              `environment: '${p.bad[0]!.trim()}' is not NAME=value (old syntax: NAME=value;NAME2=value2, new syntax: "NAME=value NAME2=value2")`,
            );
          explicit = p.entries;
        }
      } catch (err) {
        if (err instanceof ArgSyntaxError) g.failAt(e, err.offset, `environment: ${err.message}`);
        throw err;
      }
    }
    if (filter) {
      const merged = new Map<string, string>();
      for (const [k, v] of Object.entries(g.input.env))
        if (v !== undefined && k !== '' && !k.includes('=') && filter(k)) merged.set(k, v);
      for (const [k, v] of explicit) merged.set(k, v);
      out.Environment = quoteString(joinV2Env(merged));
    } else if (e && e.value !== '') {
      if (v2) out.Environment = quoteString(joinV2Env(explicit));
      else out.Env = quoteString(joinV1Env(explicit));
    }
  },
};

function stdioHandler(cmd: 'input' | 'output' | 'error', attr: 'In' | 'Out' | 'Err'): Handler {
  const write: (out: Attrs, v: string) => void =
    attr === 'In'
      ? (out, v) => void (out.In = v)
      : attr === 'Out'
        ? (out, v) => void (out.Out = v)
        : (out, v) => void (out.Err = v);
  return {
    reads: [cmd, 'initialdir', 'initial_dir', 'skip_filechecks'],
    run(g: GroupExpander, out: Attrs) {
      const v = g.value(cmd);
      write(out, v ? quoteString(v) : '"/dev/null"');
      if (cmd !== 'input') checkFolderExists(g, g.get(cmd), cmd);
      if (cmd === 'input' && v && !v.includes('$$(')) {
        const c = g.get(cmd)!;
        const skip = g.get('skip_filechecks');
        if (!skip || parseBool(skip.value) !== true) {
          const p = resolve(g.iwd(), c.value);
          const st = g.stat(p);
          if (!st) g.fail(c.site, `input '${c.value}' does not exist (looked for ${p})`, 'SUBMIT_FILE');
          if (st.isDirectory()) g.fail(c.site, `input '${c.value}' is a directory`, 'SUBMIT_FILE');
        }
      }
    },
  };
}

/**
 * As condor_submit checks that it can create the output, error and log files: the folder each goes into
 * must exist (skip_filechecks turns this off). Otherwise the job would run and its output be lost.
 */
function checkFolderExists(g: GroupExpander, c: Cmd | undefined, what: string): void {
  if (!c || c.value === '' || c.value.includes('$$(') || c.value === '/dev/null') return;
  const skip = g.get('skip_filechecks');
  if (skip && parseBool(skip.value) === true) return;
  const dir = dirname(resolve(g.iwd(), c.value));
  const st = g.stat(dir);
  if (!st) g.fail(c.site, `${what} '${c.value}': the folder ${dir} does not exist`, 'SUBMIT_FILE');
  if (!st.isDirectory()) g.fail(c.site, `${what} '${c.value}': ${dir} is not a folder`, 'SUBMIT_FILE');
}

const logHandler: Handler = {
  reads: ['log', 'initialdir', 'initial_dir', 'log_xml', 'skip_filechecks'],
  run(g: GroupExpander, out: Attrs) {
    const l = g.get('log');
    checkFolderExists(g, l, 'log');
    if (l && l.value !== '') out.UserLog = quoteString(resolve(g.iwd(), l.value));
    const x = g.get('log_xml');
    if (x && x.value !== '') {
      const b = parseBool(x.value);
      if (b === undefined) g.fail(x.site, `log_xml: expected true or false, found '${x.value}'`);
      // a script that parses the log as XML would fail on what it finds: said at submit, not at its first read
      if (b && l && l.value !== '')
        g.warn(
          'log_xml: the job event log is written in the text format only (dsched writes no XML log); dwait, condor_wait and dq -userlog read it',
          x.site,
        );
      out.UserLogUseXML = String(b);
    }
  },
};

const iwdHandler: Handler = {
  reads: ['initialdir', 'initial_dir'],
  run(g: GroupExpander, out: Attrs) {
    const c = g.getAny('initialdir', 'initial_dir');
    const iwd = g.iwd();
    if (c && c.value !== '') {
      const st = g.stat(iwd);
      if (!st) g.fail(c.site, `initialdir '${c.value}' does not exist`, 'SUBMIT_FILE');
      if (!st.isDirectory()) g.fail(c.site, `initialdir '${c.value}' is not a directory`, 'SUBMIT_FILE');
    }
    out.Iwd = quoteString(iwd);
  },
};

function requestNames(table: Map<string, MacroDef>): string[] {
  const out: string[] = [];
  for (const k of table.keys()) if (k.startsWith('request_') && k.length > 8) out.push(k);
  return out;
}

function integerOrExpr(g: GroupExpander, c: Cmd, what: string): string {
  const t = c.value.trim();
  if (/^[+-]?\d+$/.test(t)) {
    const n = Number(t);
    if (n < 0) g.fail(c.site, `${what}: cannot be negative (${t})`);
    return String(n);
  }
  g.expr(c, what);
  return t;
}

const STANDARD_REQUESTS = ['request_cpus', 'request_memory', 'request_disk', 'request_gpus', 'request_gpu_memory'];

function requestsHandler(table: Map<string, MacroDef>): Handler {
  const custom = requestNames(table).filter((k) => !STANDARD_REQUESTS.includes(k));
  return {
    reads: ['request_cpus', 'request_memory', 'request_disk', 'request_gpus', 'executable', ...custom],
    run(g: GroupExpander, out: Attrs) {
      const cpus = g.get('request_cpus');
      out.RequestCpus = cpus && cpus.value !== '' ? integerOrExpr(g, cpus, 'request_cpus') : '1';
      const mem = g.get('request_memory');
      if (mem && mem.value !== '') {
        const q = parseQuantity(mem.value, 2, 2);
        if (q !== undefined) out.RequestMemory = String(q);
        else {
          if (/^-/.test(mem.value.trim())) g.fail(mem.site, `request_memory: cannot be negative (${mem.value})`);
          g.expr(mem, 'request_memory');
          out.RequestMemory = mem.value;
        }
      } else out.RequestMemory = String(DEFAULT_REQUEST_MEMORY_MB);
      const disk = g.get('request_disk');
      if (disk && disk.value !== '') {
        const q = parseQuantity(disk.value, 1, 1);
        if (q !== undefined) out.RequestDisk = String(q);
        else {
          if (/^-/.test(disk.value.trim())) g.fail(disk.site, `request_disk: cannot be negative (${disk.value})`);
          g.expr(disk, 'request_disk');
          out.RequestDisk = disk.value;
        }
      } else out.RequestDisk = String(diskUsageKB(g));
      const gpus = g.get('request_gpus');
      if (gpus && gpus.value !== '') out.RequestGPUs = integerOrExpr(g, gpus, 'request_gpus');
      for (const k of custom) {
        const c = g.get(k)!;
        if (c.value === '') continue;
        const name = c.def.name.slice('request_'.length);
        // request_memroy asks for a machine resource 'memroy' no slot has: the job would wait for ever
        const meant = closestCommand(k);
        if (meant && STANDARD_REQUESTS.includes(meant)) {
          const typo = `'${c.def.name}' asks for a machine resource named ${name}; did you mean '${meant}'?`;
          if (!/^[+-]?\d+$/.test(c.value.trim())) g.fail(c.site, typo);
          g.env.warn(`line ${c.site.loc.line}: ${typo} (slots without ${name} never match the job)`, c.site);
        }
        out['Request' + name] = integerOrExpr(g, c, c.def.name);
      }
    },
  };
}

/** The clauses condor_submit adds to Requirements, each left out when the user's expression names it. */
function requirementsHandler(table: Map<string, MacroDef>): Handler {
  const custom = requestNames(table).filter((k) => !STANDARD_REQUESTS.includes(k));
  return {
    reads: [
      'requirements',
      'request_cpus',
      'request_memory',
      'request_disk',
      'request_gpus',
      'should_transfer_files',
      'universe',
      'container_image',
      ...custom,
    ],
    run(g: GroupExpander, out: Attrs) {
      const r = g.get('requirements');
      let attrs: CheckedExpr['attrs'] | undefined;
      const clauses: string[] = [];
      if (r && r.value !== '') {
        attrs = g.expr(r, 'requirements').attrs;
        clauses.push(`(${r.value})`);
      }
      const u = (g.get('universe')?.value || 'vanilla').toLowerCase();
      if (u === 'local' || u === 'scheduler') {
        out.Requirements = clauses.length ? clauses.join(' && ') : 'true';
        return;
      }
      if (!mentions(attrs, 'Arch')) clauses.push(`(TARGET.Arch == ${quoteString(condorArch())})`);
      if (!mentions(attrs, 'OpSys')) clauses.push(`(TARGET.OpSys == ${quoteString(condorOpSys())})`);
      // condor_submit adds the Disk and Memory clauses even when the user's expression names Disk or
      // Memory; it leaves them out only for a literal request of 0 disk or at most 1 MB of memory
      if (!requestAtMost(g.get('request_disk'), 1, 0)) clauses.push('(TARGET.Disk >= RequestDisk)');
      if (!requestAtMost(g.get('request_memory'), 2, 1)) clauses.push('(TARGET.Memory >= RequestMemory)');
      const cpus = g.get('request_cpus');
      if (cpus && cpus.value !== '' && !mentions(attrs, 'Cpus')) {
        const n = Number(cpus.value);
        if (!(Number.isFinite(n) && n <= 1)) clauses.push('(TARGET.Cpus >= RequestCpus)');
      }
      const gpus = g.get('request_gpus');
      if (gpus && gpus.value !== '' && Number(gpus.value) !== 0 && !mentions(attrs, 'GPUs'))
        clauses.push('(TARGET.GPUs >= RequestGPUs)');
      for (const k of custom) {
        const c = g.get(k)!;
        if (c.value === '' || Number(c.value) === 0) continue;
        const name = c.def.name.slice('request_'.length);
        if (!mentions(attrs, name)) clauses.push(`(TARGET.${name} >= Request${name})`);
      }
      // a container job needs a host that runs containers (and pulls from registries, for docker://)
      const image = g.get('container_image')?.value;
      if (image && !mentions(attrs, 'HasContainer')) clauses.push('(TARGET.HasContainer)');
      if (image?.startsWith('docker://') && !mentions(attrs, 'HasDockerURL')) clauses.push('(TARGET.HasDockerURL)');
      const stf = (g.get('should_transfer_files')?.value || (image ? 'YES' : 'IF_NEEDED')).toUpperCase();
      if (!mentions(attrs, 'HasFileTransfer') && !mentions(attrs, 'FileSystemDomain')) {
        if (stf === 'YES') clauses.push('(TARGET.HasFileTransfer)');
        else if (stf === 'NO') clauses.push('(TARGET.FileSystemDomain == MY.FileSystemDomain)');
        else clauses.push('((TARGET.FileSystemDomain == MY.FileSystemDomain) || (TARGET.HasFileTransfer))');
      }
      out.Requirements = clauses.join(' && ');
    },
  };
}

const rankHandler: Handler = {
  reads: ['rank'],
  run(g: GroupExpander, out: Attrs) {
    const r = g.get('rank');
    if (r && r.value !== '') {
      g.expr(r, 'rank');
      out.Rank = r.value;
    } else out.Rank = '0.0';
  },
};

const priorityHandler: Handler = {
  reads: ['priority'],
  run(g: GroupExpander, out: Attrs) {
    const p = g.get('priority');
    if (!p || p.value === '') {
      out.JobPrio = '0';
      return;
    }
    if (!/^[+-]?\d+$/.test(p.value)) g.fail(p.site, `priority: expected an integer, found '${p.value}'`);
    out.JobPrio = String(Number(p.value));
  },
};

const holdHandler: Handler = {
  reads: ['hold'],
  run(g: GroupExpander, out: Attrs) {
    const h = g.get('hold');
    const b = h && h.value !== '' ? parseBool(h.value) : false;
    if (b === undefined) g.fail(h!.site, `hold: expected true or false, found '${h!.value}'`);
    if (b) {
      out.JobStatus = String(JobStatus.Held);
      out.HoldReason = quoteString(SUBMITTED_ON_HOLD_REASON);
      out.HoldReasonCode = String(HoldCode.SubmittedOnHold);
      out.HoldReasonSubCode = '0';
    } else out.JobStatus = String(JobStatus.Idle);
  },
};

const NOTIFICATION: Record<string, number> = { never: 0, always: 1, complete: 2, error: 3 };

const notificationHandler: Handler = {
  reads: ['notification'],
  run(g: GroupExpander, out: Attrs) {
    const n = g.get('notification');
    if (!n || n.value === '') {
      out.JobNotification = '0';
      return;
    }
    const v = NOTIFICATION[n.value.toLowerCase()];
    if (v === undefined) g.fail(n.site, `notification: expected Always, Complete, Error or Never, found '${n.value}'`);
    out.JobNotification = String(v);
  },
};

const transferHandler: Handler = {
  reads: ['should_transfer_files', 'when_to_transfer_output', 'transfer_executable', 'container_image', 'universe'],
  run(g: GroupExpander, out: Attrs) {
    const s = g.get('should_transfer_files');
    // only its sandbox is mounted into a container: a container job runs on transferred files
    const container = isContainerJob(g);
    let stf = container ? 'YES' : 'IF_NEEDED';
    if (s && s.value !== '') {
      const v = s.value.toUpperCase();
      const b = parseBool(s.value);
      stf = v === 'IF_NEEDED' ? 'IF_NEEDED' : b === true ? 'YES' : b === false ? 'NO' : '';
      if (!stf) g.fail(s.site, `should_transfer_files: expected YES, NO or IF_NEEDED, found '${s.value}'`);
      if (container && stf !== 'YES')
        g.fail(s.site, 'a container job runs on transferred files: should_transfer_files must be YES (or left out)');
    }
    out.ShouldTransferFiles = quoteString(stf);
    const w = g.get('when_to_transfer_output');
    if (w && w.value !== '') {
      const v = w.value.toUpperCase();
      if (!['ON_EXIT', 'ON_EXIT_OR_EVICT', 'ON_SUCCESS'].includes(v))
        g.fail(w.site, `when_to_transfer_output: expected ON_EXIT, ON_EXIT_OR_EVICT or ON_SUCCESS, found '${w.value}'`);
      if (stf === 'NO') g.fail(w.site, 'when_to_transfer_output cannot be used with should_transfer_files = NO');
      out.WhenToTransferOutput = quoteString(v);
    } else if (stf !== 'NO') out.WhenToTransferOutput = quoteString('ON_EXIT');
    const te = g.get('transfer_executable');
    if (te && te.value !== '') {
      const b = parseBool(te.value);
      if (b === undefined) g.fail(te.site, `transfer_executable: expected true or false, found '${te.value}'`);
      out.TransferExecutable = String(b);
    }
  },
};

/**
 * A comma-separated file list as condor_submit stores it: items trimmed, joined by ','; `""` is the empty list.
 * Commas inside a `$$([expr])` reference belong to it (lib/file-list.ts).
 */
function fileList(value: string): string[] {
  if (value.trim() === '""') return [];
  return splitFileList(value, ',');
}

/**
 * transfer_input_files. A file that does not exist is refused here, as condor_submit refuses it, rather than
 * holding the job later; URLs, $$() references and names the submitter may not look at (the schedd reads
 * them with the owner's rights, and holds the job with code 13 if it cannot) are left to the transfer.
 */
const inputFilesHandler: Handler = {
  reads: ['transfer_input_files', 'initialdir', 'initial_dir', 'skip_filechecks'],
  run(g: GroupExpander, out: Attrs) {
    const files = g.get('transfer_input_files');
    if (!files || files.value === '') return;
    const items = fileList(files.value);
    const skip = g.get('skip_filechecks');
    if (!skip || parseBool(skip.value) !== true) {
      for (const item of items) {
        if (/^[A-Za-z][\w+.-]*:\/\//.test(item) || item.includes('$$(')) continue;
        const p = resolve(g.iwd(), item);
        let missing = false;
        try {
          missing = statSync(p, { throwIfNoEntry: false }) === undefined;
        } catch {
          /* EACCES, ENOTDIR…: the transfer decides with the owner's rights */
        }
        if (missing)
          g.fail(files.site, `transfer_input_files: '${item}' does not exist (looked for ${p})`, 'SUBMIT_FILE');
      }
    }
    if (items.length) out.TransferInput = quoteString(items.join(','));
  },
};

/**
 * transfer_output_files and transfer_output_remaps. Output names are where the job writes inside its
 * sandbox, so an absolute name or one that climbs out with '..' is refused here (the startd refuses it
 * again with a hold reason, for ads that did not come through this translator).
 */
const outputFilesHandler: Handler = {
  reads: ['transfer_output_files', 'transfer_output_remaps'],
  run(g: GroupExpander, out: Attrs) {
    const files = g.get('transfer_output_files');
    if (files && files.value !== '') {
      const items = fileList(files.value);
      for (const item of items) {
        const parts = item.split('/');
        if (item.startsWith('/') || parts.includes('..'))
          g.fail(
            files.site,
            `transfer_output_files: '${item}' is outside the job's sandbox (output names are relative to the job's working directory and may not use '..'); use transfer_output_remaps to choose where it lands`,
          );
      }
      // transfer_output_files = "" is an empty list: nothing is transferred back
      out.TransferOutput = quoteString(items.join(','));
    }
    const remaps = g.get('transfer_output_remaps');
    if (remaps && remaps.value !== '') {
      // written in quotes in the submit file ("a = b; c = d"); the quotes are not part of the names
      const m = /^"(.*)"$/s.exec(remaps.value.trim());
      const text = m ? m[1]! : remaps.value;
      for (const part of text.split(/(?<!\\);/).filter((p) => p.trim())) {
        if (!part.includes('='))
          g.fail(remaps.site, `transfer_output_remaps: '${part.trim()}' is not of the form name = new_name`);
      }
      out.TransferOutputRemaps = quoteString(text);
    }
  },
};

/** on_exit_remove with the retry commands folded in, as condor_submit does. */
const policyHandler: Handler = {
  reads: ['on_exit_remove', 'max_retries', 'retry_until', 'success_exit_code'],
  run(g: GroupExpander, out: Attrs) {
    const oer = g.get('on_exit_remove');
    const mr = g.get('max_retries');
    const ru = g.get('retry_until');
    const sec = g.get('success_exit_code');
    let base: string | undefined;
    if (oer && oer.value !== '') {
      g.expr(oer, 'on_exit_remove');
      base = oer.value;
    }
    const retries = (mr && mr.value !== '') || (ru && ru.value !== '') || (sec && sec.value !== '');
    if (!retries) {
      out.OnExitRemove = base ?? 'true';
      return;
    }
    let max = 2; // DEFAULT_JOB_MAX_RETRIES
    if (mr && mr.value !== '') {
      if (!/^\d+$/.test(mr.value)) g.fail(mr.site, `max_retries: expected a non-negative integer, found '${mr.value}'`);
      max = Number(mr.value);
    }
    let code = 0;
    if (sec && sec.value !== '') {
      if (!/^[+-]?\d+$/.test(sec.value))
        g.fail(sec.site, `success_exit_code: expected an integer, found '${sec.value}'`);
      code = Number(sec.value);
    }
    // as condor_submit: the shadow counts NumJobCompletions before the policy is evaluated, so a job runs
    // at most 1 + max_retries times; a job killed by a signal has no ExitCode and is retried
    out.JobMaxRetries = String(max);
    out.SuccessExitCode = String(code);
    const parts = [`NumJobCompletions > JobMaxRetries`, `ExitCode is ${code}`];
    if (ru && ru.value !== '') {
      if (/^[+-]?\d+$/.test(ru.value)) parts.push(`ExitCode is ${Number(ru.value)}`);
      else {
        g.expr(ru, 'retry_until');
        parts.push(`(${ru.value})`);
      }
    }
    out.OnExitRemove = (base !== undefined ? `(${base}) || ` : '') + parts.join(' || ');
  },
};

const SIMPLE_DEFAULTS: Record<string, string> = {
  on_exit_hold: 'false',
  periodic_hold: 'false',
  periodic_release: 'false',
  periodic_remove: 'false',
  leave_in_queue: 'false',
};

function simpleHandler(cmd: string, attr: string, type: SimpleType): Handler {
  return {
    reads: [cmd],
    run(g: GroupExpander, out: Attrs) {
      const c = g.get(cmd);
      if (!c || c.value === '') {
        const d = SIMPLE_DEFAULTS[cmd];
        if (d !== undefined) out[attr] = d;
        return;
      }
      switch (type) {
        case 'string':
          out[attr] = quoteString(c.value);
          break;
        case 'bool': {
          const b = parseBool(c.value);
          if (b !== undefined) out[attr] = String(b);
          else {
            g.expr(c, cmd);
            out[attr] = c.value;
          }
          break;
        }
        case 'int':
          out[attr] = integerOrExpr(g, c, cmd);
          break;
        case 'count':
          // an expression here (max_idle = lots) would be undefined, and no limit at all
          if (!/^\s*[1-9]\d*\s*$/.test(c.value))
            g.fail(c.site, `${cmd}: '${c.value.trim()}' is not a number of jobs (a whole number, 1 or more)`);
          out[attr] = String(Number(c.value));
          break;
        default:
          g.expr(c, cmd);
          out[attr] = c.value;
      }
    },
  };
}

/**
 * kill_sig, remove_kill_sig, hold_kill_sig: as condor_submit, a signal number becomes its name and a name
 * (SIGTERM, any case) is checked and upper-cased; anything else is refused.
 */
function killSigHandler(cmd: string, attr: string): Handler {
  return {
    reads: [cmd],
    run(g: GroupExpander, out: Attrs) {
      const c = g.get(cmd);
      if (!c || c.value === '') return;
      const v = c.value.trim();
      const signals = os.constants.signals as Record<string, number>;
      let name: string | undefined;
      if (/^[0-9]+$/.test(v))
        name = Object.keys(signals).find((k) => signals[k] === Number(v) && k !== 'SIGIOT' && k !== 'SIGPOLL');
      else if (/^SIG[A-Z0-9]+$/i.test(v) && v.toUpperCase() in signals) name = v.toUpperCase();
      if (!name)
        g.fail(c.site, `${cmd}: '${v}' is not a signal (a name such as SIGTERM or SIGUSR1, or a signal number)`);
      out[attr] = quoteString(name);
    },
  };
}

/** concurrency_limits as condor_submit stores it: names lower-cased, each checked, sorted, joined by ','. */
const concurrencyHandler: Handler = {
  reads: ['concurrency_limits', 'concurrency_limits_expr'],
  run(g: GroupExpander, out: Attrs) {
    const c = g.get('concurrency_limits');
    if (!c || c.value === '') return;
    const e = g.get('concurrency_limits_expr');
    if (e && e.value !== '') g.fail(e.site, 'concurrency_limits and concurrency_limits_expr cannot be used together');
    const limits = c.value
      .toLowerCase()
      .split(/[\s,]+/)
      .filter(Boolean);
    for (const l of limits) {
      if (!/^[a-z_][a-z0-9_.]*(?::[0-9]*\.?[0-9]+)?$/.test(l))
        g.fail(c.site, `concurrency_limits: '${l}' is not a limit (name or name:increment, e.g. licence_a:2)`);
    }
    out.ConcurrencyLimits = quoteString(limits.sort().join(','));
  },
};

const accountingHandler: Handler = {
  reads: ['accounting_group', 'accounting_group_user', 'nice_user'],
  run(g: GroupExpander, out: Attrs) {
    const nice = g.get('nice_user');
    // as HTCondor: a nice job is accounted to the group nice-user, whose submitters the negotiator serves
    // last (their priority factor is NICE_USER_PRIO_FACTOR's); it takes the place of accounting_group
    const grp =
      nice && parseBool(nice.value) === true ? { ...nice, value: NICE_USER_GROUP } : g.get('accounting_group');
    const gu = g.get('accounting_group_user');
    const hasGroup = grp !== undefined && grp.value !== '';
    if (!hasGroup && (!gu || gu.value === '')) return;
    if (hasGroup && /\s/.test(grp.value)) g.fail(grp.site, `accounting_group: '${grp.value}' contains white space`);
    if (gu && /\s/.test(gu.value)) g.fail(gu.site, `accounting_group_user: '${gu.value}' contains white space`);
    const user = gu?.value || g.input.owner;
    out.AcctGroupUser = quoteString(user);
    // without a group, accounting_group_user alone is an alias the submitter is accounted as
    if (!hasGroup) {
      out.AccountingGroup = quoteString(user);
      return;
    }
    out.AcctGroup = quoteString(grp.value);
    out.AccountingGroup = quoteString(`${grp.value}.${user}`);
  },
};

const batchNameHandler: Handler = {
  reads: ['batch_name', 'jobbatchname'],
  run(g: GroupExpander, out: Attrs) {
    const b = g.getAny('batch_name', 'jobbatchname');
    if (b && b.value !== '') out.JobBatchName = quoteString(unquote(b.value));
  },
};

/** condor_submit trims one pair of double or single quotes around a batch name. */
function unquote(s: string): string {
  return s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")))
    ? s.slice(1, -1)
    : s;
}

function customAttrHandler(key: string): Handler {
  return {
    reads: [key],
    run(g: GroupExpander, out: Attrs) {
      const c = g.get(key)!;
      const name = c.def.name;
      if (c.value === '')
        g.fail(c.site, `+${name}: expected a ClassAd expression, found nothing (write "" for an empty string)`);
      g.expr(c, `+${name}`);
      // ClassAd names are case-insensitive: `+iwd` replaces the Iwd this submission made, under that spelling,
      // rather than sending the name twice (which the schedd refuses)
      const lower = name.toLowerCase();
      let spelled = name;
      for (const k in out)
        if (k.length === name.length && k !== name && k.toLowerCase() === lower) {
          spelled = k;
          break;
        }
      out[spelled] = c.value;
    },
  };
}

/** Attributes condor_submit always writes that no command sets. */
function fixedHandler(input: SubmitInput): Handler {
  return {
    reads: [],
    run(_g: GroupExpander, out: Attrs) {
      out.MyType = '"Job"';
      out.TargetType = '"Machine"';
      out.Owner = quoteString(input.owner);
      out.User = quoteString(`${input.owner}@${input.hostname}`);
      out.FileSystemDomain = quoteString(input.hostname);
      if (input.umask !== undefined) out.Umask = String(input.umask);
      out.MinHosts = '1';
      out.MaxHosts = '1';
      out.CurrentHosts = '0';
      out.WantRemoteSyscalls = 'false';
    },
  };
}

function buildHandlers(input: SubmitInput, table: Map<string, MacroDef>): Handler[] {
  const hs: Handler[] = [
    fixedHandler(input),
    universeHandler,
    executableHandler,
    argumentsHandler,
    environmentHandler,
    iwdHandler,
    stdioHandler('input', 'In'),
    stdioHandler('output', 'Out'),
    stdioHandler('error', 'Err'),
    logHandler,
    requestsHandler(table),
    requirementsHandler(table),
    rankHandler,
    priorityHandler,
    holdHandler,
    notificationHandler,
    transferHandler,
    inputFilesHandler,
    outputFilesHandler,
    policyHandler,
    concurrencyHandler,
    accountingHandler,
    batchNameHandler,
    killSigHandler('kill_sig', 'KillSig'),
    killSigHandler('remove_kill_sig', 'RemoveKillSig'),
    killSigHandler('hold_kill_sig', 'HoldKillSig'),
  ];
  for (const [cmd, [attr, type]] of Object.entries(SIMPLE_COMMANDS)) {
    if (table.has(cmd) || SIMPLE_DEFAULTS[cmd] !== undefined) hs.push(simpleHandler(cmd, attr, type));
  }
  for (const k of table.keys()) if (k.startsWith('my.')) hs.push(customAttrHandler(k));
  return hs;
}

// ---- expansion into a JobSet ---------------------------------------------------------------------
//
// Two steps, because the cluster id is assigned by the schedd after the submission has been checked:
//  check:  every handler runs (so every error is found), with a stand-in cluster id. Handlers whose
//          values use $(Cluster) run for the first proc of each item only; their output is not kept, nor
//          is any proc's: only which attributes the procs set, and which of them every proc sets alike.
//  finish: with the real cluster id, the cluster's attributes; the procs are made one at a time as they
//          are read (JobStream.procs), so a `queue 1000000` never holds a million records.

interface GroupState {
  g: GroupExpander;
  /** static handlers' output, without the cluster-dependent ones */
  staticOut: Attrs;
  clusterStatic: Handler[];
  clusterDynamic: Handler[];
  /** per-proc handlers that do not use the cluster id */
  plainDynamic: Handler[];
  /** procs of this queue statement */
  total: number;
  /** attributes the per-proc handlers set, each with its value if every proc sets it alike (else null) */
  dynamic: Map<string, string | null>;
  hasDynamic: boolean;
}

export interface Checked {
  groups: GroupState[];
  usesCluster: boolean;
  warnings: SubmitWarning[];
  warn: (message: string, site?: Site) => void;
}

/** A submission's jobs as they are made: the cluster's attributes, then each proc's when read. */
export interface JobStream {
  /** attributes every proc shares: name → ClassAd expression text */
  cluster: Record<string, string>;
  /** how many procs */
  count: number;
  /** every proc is only its ProcId, 0 to count - 1 (nothing of its own to send) */
  plain: boolean;
  /** the procs in order (attributes that differ from `cluster`, always ProcId), each made as it is read */
  procs(): Generator<Record<string, string>>;
}

export interface Expansion {
  jobs: JobStream;
  warnings: SubmitWarning[];
}

/**
 * Each proc of a group, in order, with the per-proc macros (Process, Step, Item, loop variables…) set
 * while `fn` makes what is yielded for it; an error names the proc it happened in.
 */
function* mapProcs<T>(
  state: GroupState,
  group: QueueGroup,
  firstProcId: number,
  onlyFirstStep: boolean,
  fn: (procId: number) => T,
): Generator<T> {
  const g = state.g;
  const { count, rows, indexes, vars } = group.items;
  const nItems = rows ? rows.length : 1;
  const varNames = vars.map((v) => v.toLowerCase());
  for (let k = 0; k < nItems; k++) {
    const row = rows ? rows[k]! : null;
    const steps = onlyFirstStep ? Math.min(count, 1) : count;
    for (let s = 0; s < steps; s++) {
      const procId = firstProcId + k * count + s;
      let out: T;
      try {
        // set again for each proc: another group's or another pass's procs may have run in between
        if (row) {
          for (let v = 0; v < varNames.length; v++) g.live.set(varNames[v]!, row[v] ?? '');
          const ix = String(indexes[k]);
          g.autos.set('itemindex', ix);
          g.autos.set('row', ix);
        }
        const p = String(procId);
        g.live.set('process', p);
        g.live.set('procid', p);
        g.autos.set('step', String(s));
        g.autos.set('jobid', `${g.live.get('cluster') ?? ''}.${p}`);
        out = fn(procId);
      } catch (e) {
        if (e instanceof SourceError) {
          const where = row
            ? ` (job ${procId}: ${vars.map((v, i) => `${v}=${row[i] ?? ''}`).join(', ')})`
            : ` (job ${procId})`;
          throw new SourceError(e.code, e.bareMessage + where, e.location, e.sourceLine, { cause: e });
        }
        throw e;
      }
      yield out;
    }
  }
}

/** Run every handler once over the whole submission with a stand-in cluster id (see above). */
export function checkLoaded(loaded: LoadedSubmit, input: SubmitInput): Checked {
  const warnings: SubmitWarning[] = [];
  const seen = new Set<string>();
  const warn = (message: string, site?: Site) => {
    const key = message + '@' + (site ? `${site.loc.file}:${site.loc.line}:${site.loc.column}` : '');
    if (seen.has(key)) return;
    seen.add(key);
    warnings.push(site ? { message, location: site.loc } : { message });
  };
  const stats = new Map<string, Stats | null>();
  const groups: GroupState[] = [];
  let usesCluster = false;
  let procBase = 0;
  for (const group of loaded.groups) {
    // A loop variable named like a command sets that command: `queue arguments from (…)`.
    for (const v of group.items.vars) {
      const lower = v.toLowerCase();
      group.table.set(lower, { name: v, value: `$(${v})`, site: group.site });
    }
    const g = new GroupExpander(input, group, loaded.autos, stats, warn);
    g.live.set('cluster', '1');
    g.live.set('clusterid', '1');
    g.autos.set('itemindex', '0');
    g.autos.set('row', '0');
    const oracle = new DependenceOracle(group.table, new Set(group.items.vars.map((v) => v.toLowerCase())));
    const state: GroupState = {
      g,
      staticOut: {},
      clusterStatic: [],
      clusterDynamic: [],
      plainDynamic: [],
      total: group.items.total,
      dynamic: new Map(),
      hasDynamic: false,
    };
    const plainStatic: Handler[] = [];
    for (const h of buildHandlers(input, group.table)) {
      let perProc = false;
      let cluster = false;
      for (const r of h.reads) {
        const def = group.table.get(r);
        if (!def) continue;
        const d = oracle.ofText(def.value);
        if (d.cluster) cluster = true;
        if (d.perProc) perProc = true;
      }
      if (cluster) usesCluster = true;
      if (perProc) state.hasDynamic = true;
      if (cluster) (perProc ? state.clusterDynamic : state.clusterStatic).push(h);
      else (perProc ? state.plainDynamic : plainStatic).push(h);
    }
    for (const h of plainStatic) h.run(g, state.staticOut);
    // the cluster-dependent ones are checked once now (with the stand-in id); finish runs them for real
    const scratch: Attrs = {};
    for (const h of state.clusterStatic) h.run(g, scratch);
    const dynamic = state.dynamic;
    if (state.plainDynamic.length) {
      let first = true;
      for (const rec of mapProcs(state, group, procBase, false, (procId) => {
        const rec: Attrs = { ProcId: String(procId) };
        for (let hi = 0; hi < state.plainDynamic.length; hi++) state.plainDynamic[hi]!.run(g, rec);
        return rec;
      })) {
        // which attributes the procs set, and whether all alike: what finish may make the cluster's
        for (const k in rec) {
          if (k === 'ProcId') continue;
          const was = dynamic.get(k);
          if (was === undefined) dynamic.set(k, first ? rec[k]! : null);
          else if (was !== null && was !== rec[k]) dynamic.set(k, null);
        }
        if (!first) for (const [k, v] of dynamic) if (v !== null && !(k in rec)) dynamic.set(k, null);
        first = false;
      }
    }
    if (state.clusterDynamic.length) {
      // their values change with the cluster id: never the cluster's
      for (const tmp of mapProcs(state, group, procBase, true, () => {
        const tmp: Attrs = {};
        for (const h of state.clusterDynamic) h.run(g, tmp);
        return tmp;
      }))
        for (const k in tmp) dynamic.set(k, null);
    }
    groups.push(state);
    procBase += state.total;
  }
  return { groups, usesCluster, warnings, warn };
}

/** The jobs for the real cluster id: the cluster's attributes now, the procs as they are read. */
export function finishLoaded(checked: Checked, loaded: LoadedSubmit, clusterId: number): Expansion {
  const before = checked.warnings.length;
  const clusterText = String(clusterId);
  const groupStatic: Attrs[] = checked.groups.map((state) => {
    const g = state.g;
    g.live.set('cluster', clusterText);
    g.live.set('clusterid', clusterText);
    g.resetRenders();
    const st: Attrs = { ...state.staticOut };
    for (const h of state.clusterStatic) h.run(g, st);
    return st;
  });
  const count = checked.groups.reduce((n, s) => n + s.total, 0);
  const dynKeys = new Set<string>();
  for (const s of checked.groups) if (s.hasDynamic) for (const k of s.dynamic.keys()) dynKeys.add(k);

  // Attributes equal in every queue statement and never set per proc are the cluster's.
  const cluster: Attrs = {};
  const first = groupStatic[0] ?? {};
  for (const [k, v] of Object.entries(first)) {
    if (dynKeys.has(k)) continue;
    if (groupStatic.every((s) => s[k] === v)) cluster[k] = v;
  }
  // A per-proc handler may still give an attribute the same value everywhere: that is the cluster's too.
  const uniform = new Map<string, string>();
  for (const k of dynKeys) {
    let v: string | undefined;
    for (const s of checked.groups) {
      if (!s.total) continue;
      const u = s.dynamic.get(k);
      if (u === undefined || u === null || (v !== undefined && u !== v)) {
        v = undefined;
        break;
      }
      v = u;
    }
    if (v !== undefined && groupStatic.every((s) => s[k] === undefined)) {
      cluster[k] = v;
      uniform.set(k, v);
    }
  }
  cluster.ClusterId = clusterText;
  // the per-statement differences go to each proc of that statement
  const diffs = groupStatic.map((s) => {
    const d: Attrs = {};
    if (groupStatic.length > 1) for (const [k, v] of Object.entries(s)) if (cluster[k] !== v) d[k] = v;
    return Object.keys(d).length ? d : undefined;
  });
  const plain = checked.groups.every(
    (s, gi) => !s.total || (!s.plainDynamic.length && !s.clusterDynamic.length && !diffs[gi]),
  );
  const groups = checked.groups;
  const loadedGroups = loaded.groups;
  function* procs(): Generator<Attrs> {
    let procBase = 0;
    for (let gi = 0; gi < groups.length; gi++) {
      const state = groups[gi]!;
      const g = state.g;
      const d = diffs[gi];
      if (!state.plainDynamic.length && !state.clusterDynamic.length) {
        for (let i = 0; i < state.total; i++) {
          const p = String(procBase + i);
          yield d ? { ...d, ProcId: p } : { ProcId: p };
        }
      } else {
        yield* mapProcs(state, loadedGroups[gi]!, procBase, false, (procId) => {
          const rec: Attrs = { ProcId: String(procId) };
          for (let hi = 0; hi < state.plainDynamic.length; hi++) state.plainDynamic[hi]!.run(g, rec);
          for (let hi = 0; hi < state.clusterDynamic.length; hi++) state.clusterDynamic[hi]!.run(g, rec);
          // made again now, a value may differ from the check's ($RANDOM_INTEGER): the proc's own then wins
          for (const [k, v] of uniform) if (rec[k] === v) delete rec[k];
          return d ? { ...d, ...rec } : rec;
        });
      }
      procBase += state.total;
    }
  }
  return { jobs: { cluster, count, plain, procs }, warnings: checked.warnings.slice(before) };
}
