// #PBS job scripts (PBS Pro's qsub) → job ads.
//
// qsub reads `#PBS` directive lines at the top of the script, up to the first line that is neither blank
// nor a comment (the #! line is a comment). Each directive line holds qsub options; options given on the
// dsubmit command line (SubmitInput.pbsArgs) win over the script's. The script itself is the job's
// executable. Jobs get PBS's environment (PBS_JOBID, PBS_JOBNAME, PBS_O_*, PBS_ARRAY_*, PBS_ENVIRONMENT);
// PBS_TMPDIR is set by the startd when the job runs.
//
// Attributes written besides the usual job ad ones: IsPbsJob = true, PbsJobName, PbsJobId, PbsQueue,
// PbsDepend (the -W depend= value), PbsRerunable, PbsAccount, PbsArrayId, PbsArrayIndex (per proc),
// PbsArrayIndices (the -J/-t range as given), ArrayMaxRunning (its %N: the schedd starts at most N at once), PbsArrayOut and PbsArrayErr (the array's own paths,
// ^array_index^ in place of the index: what qstat -f C[] shows),
// PbsMailPoints, PbsResources, Queue (-q), PbsDefaultedResources (what a queue's defaults may fill); walltime → AllowedJobDuration (seconds; the schedd kills a #PBS job that
// runs longer, as PBS does, or holds it with PBS_WALLTIME_HOLD, as HTCondor does), -a → DeferralTime, -h → JobStatus 5 (held).
import { statSync } from 'node:fs';
import os from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { SourceError } from '../../lib/errors.js';
import { HoldCode, JobStatus, Universe } from '../../lib/job-status.js';
import { condorArch, condorOpSys } from '../../lib/platform.js';
import type { Location } from '../../lib/diagnostic.js';
import { SourceText } from '../source.js';
import { joinV2Env, joinV2Raw } from './args-env.js';
import { quoteString } from './classad-bridge.js';
import { checkSize, locate } from './parse.js';
import { DEFAULT_REQUEST_MEMORY_MB } from './to-job-ads.js';
import type { JobSet, SubmitInput, SubmitWarning } from './types.js';

/** Does this text look like a #PBS job script rather than a submit description? */
export function isPbsScript(file: string, text: string): boolean {
  if (text.startsWith('#!')) return true;
  for (const line of directiveBlock(text)) if (/^#PBS(\s|$)/.test(line.text)) return true;
  void file;
  // qsub takes a script without #! or #PBS lines too: no queue statement, and a first command that is
  // not a submit command (`name = value`, `+Attr = value`, `include : file`)
  if (/^[ \t]*queue([ \t]|\r?$)/im.test(text)) return false;
  const first = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
  return first !== undefined && !/^(\+?[A-Za-z_][\w.]*\s*[=:]|include\b)/i.test(first);
}

interface BlockLine {
  text: string;
  offset: number;
}

/** The lines qsub scans for directives: from the top, while blank or comments. */
function directiveBlock(text: string, prefix = '#PBS'): BlockLine[] {
  const out: BlockLine[] = [];
  let offset = 0;
  let first = true;
  while (offset <= text.length) {
    let end = text.indexOf('\n', offset);
    if (end < 0) end = text.length;
    const raw = text.slice(offset, end).replace(/\r$/, '');
    const t = raw.trim();
    if (first && raw.startsWith('#!')) {
      // the interpreter line
    } else if (t !== '' && !t.startsWith('#')) break;
    else if (raw.startsWith(prefix)) out.push({ text: raw, offset });
    first = false;
    if (end >= text.length) break;
    offset = end + 1;
  }
  return out;
}

// ---- words and options --------------------------------------------------------------------------

interface Word {
  text: string;
  /** offset of the word in its source */
  offset: number;
}

class PbsSyntax extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Shell-like words: whitespace separates; '…' and "…" group; \ escapes outside single quotes. */
function shellWords(s: string, base = 0): Word[] {
  const out: Word[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    const start = i;
    let w = '';
    while (i < s.length && !/\s/.test(s[i]!)) {
      const c = s[i]!;
      if (c === "'") {
        const close = s.indexOf("'", i + 1);
        if (close < 0) throw new PbsSyntax('unterminated single quote', base + i);
        w += s.slice(i + 1, close);
        i = close + 1;
      } else if (c === '"') {
        let j = i + 1;
        for (;;) {
          if (j >= s.length) throw new PbsSyntax('unterminated double quote', base + i);
          if (s[j] === '\\' && j + 1 < s.length && /["\\$`]/.test(s[j + 1]!)) {
            w += s[j + 1];
            j += 2;
            continue;
          }
          if (s[j] === '"') break;
          w += s[j];
          j++;
        }
        i = j + 1;
      } else if (c === '\\' && i + 1 < s.length) {
        w += s[i + 1];
        i += 2;
      } else {
        w += c;
        i++;
      }
    }
    out.push({ text: w, offset: base + start });
  }
  return out;
}

const FLAGS = new Set(['V', 'h', 'I', 'X', 'z', 'f']);
const WITH_ARG = new Set([
  'N',
  'q',
  'l',
  'J',
  't',
  'v',
  'o',
  'e',
  'j',
  'm',
  'M',
  'W',
  'a',
  'r',
  'A',
  'p',
  'S',
  'C',
  'P',
  'u',
  'c',
  'k',
  'G',
  'R',
]);

interface Opt {
  letter: string;
  value: string;
  /** where the value (or the option) is, for diagnostics */
  at: Word;
  src: 'script' | 'cli';
}

interface Diag {
  src: SourceText;
  /** offset → location in this source */
  fail(offset: number, message: string): never;
}

function parseOptions(
  words: Word[],
  src: 'script' | 'cli',
  diag: Diag,
  stopAtOperand: boolean,
): { opts: Opt[]; rest: Word[] } {
  const opts: Opt[] = [];
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w.text === '--') {
      i++;
      break;
    }
    if (!w.text.startsWith('-') || w.text === '-') {
      if (stopAtOperand) break;
      diag.fail(
        w.offset,
        `unexpected '${w.text}': expected an option such as -N name or -l resource=value (quote values with spaces)`,
      );
    }
    let k = 1;
    while (k < w.text.length) {
      const letter = w.text[k]!;
      if (FLAGS.has(letter)) {
        opts.push({ letter, value: '', at: w, src });
        k++;
        continue;
      }
      if (WITH_ARG.has(letter)) {
        let value: string;
        let at: Word;
        if (k + 1 < w.text.length) {
          value = w.text.slice(k + 1);
          at = { text: value, offset: w.offset + k + 1 };
        } else {
          const next = words[i + 1];
          if (!next) diag.fail(w.offset, `option -${letter} needs a value`);
          value = next.text;
          at = next;
          i++;
        }
        opts.push({ letter, value, at, src });
        break;
      }
      diag.fail(w.offset + k, `unknown qsub option -${letter}`);
    }
  }
  return { opts, rest: words.slice(i) };
}

// ---- values -------------------------------------------------------------------------------------

/** PBS size: a number with b, kb, mb, gb, tb, pb (or w, kw… words of 8 bytes); a bare number is bytes. */
export function pbsSizeBytes(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]*)?)\s*([kmgtp]?)(b|w)?$/i.exec(text.trim());
  if (!m) return undefined;
  const pow = { '': 0, k: 1, m: 2, g: 3, t: 4, p: 5 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't' | 'p'];
  const unit = (m[3] ?? 'b').toLowerCase() === 'w' ? 8 : 1;
  return Number(m[1]) * 1024 ** pow * unit;
}

/** PBS duration: [[hours:]minutes:]seconds[.ms] → seconds. */
export function pbsDurationSeconds(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+(:\d+){0,2}(\.\d+)?$/.test(t)) return undefined;
  const [whole, frac] = t.split('.');
  const parts = whole!.split(':').map(Number);
  let s = 0;
  for (const p of parts) s = s * 60 + p;
  return Math.ceil(s + (frac ? Number('0.' + frac) : 0));
}

/** -a [[[[CC]YY]MM]DD]hhmm[.SS] → epoch seconds (local time); a past time of day means tomorrow. */
export function pbsDateTime(text: string, now = new Date()): number | undefined {
  const m = /^(\d{4,12})(?:\.(\d{2}))?$/.exec(text.trim());
  if (!m || m[1]!.length % 2 !== 0) return undefined;
  const digits = m[1]!;
  const sec = m[2] ? Number(m[2]) : 0;
  const pairs = digits.match(/\d\d/g)!.map(Number);
  const mm = pairs.pop()!;
  const hh = pairs.pop()!;
  if (hh > 23 || mm > 59 || sec > 59) return undefined;
  const d = new Date(now.getTime());
  d.setSeconds(sec, 0);
  d.setMinutes(mm);
  d.setHours(hh);
  let explicitDay = false;
  if (pairs.length) {
    const day = pairs.pop()!;
    explicitDay = true;
    d.setDate(day);
  }
  if (pairs.length) d.setMonth(pairs.pop()! - 1);
  if (pairs.length) {
    const yy = pairs.pop()!;
    const cc = pairs.length ? pairs.pop()! : Math.floor(now.getFullYear() / 100);
    d.setFullYear(cc * 100 + yy);
  }
  if (!explicitDay && d.getTime() < now.getTime()) d.setDate(d.getDate() + 1);
  return Math.floor(d.getTime() / 1000);
}

// ---- the plan -------------------------------------------------------------------------------------

/** The largest script (as quoted ClassAd string text) that is copied into the job's ad. */
const MAX_SCRIPT_CHARS = 512 * 1024;

export interface PbsPlan {
  name: string;
  script: string;
  /** the script's text as submitted (undefined for `-- program args`) */
  scriptText: string | undefined;
  /** the program and its leading arguments (interpreter + script, or the script itself) */
  cmd: string;
  args: string[];
  queue: string | undefined;
  cpus: number;
  /** ncpus, select or nodes was given (else a queue's default may apply) */
  cpusAsked: boolean;
  memoryMB: number | undefined;
  gpus: number | undefined;
  walltime: number | undefined;
  resources: string[];
  /** -J start-end[:step] (PBS Pro), or -t list (Torque: its own job ids, PBS_ARRAYID, NAME.oC-INDEX files) */
  array: {
    start: number;
    end: number;
    step: number;
    style: 'pro' | 'torque';
    ranges?: Array<[number, number]>;
    /** `%N`: at most N subjobs run at once */
    maxRunning?: number;
  } | null;
  indexes: number[];
  exportAll: boolean;
  vars: Array<[string, string]>;
  out: string | undefined;
  err: string | undefined;
  join: 'oe' | 'eo' | 'n';
  mailPoints: string | undefined;
  mailTo: string | undefined;
  hold: boolean;
  /** -W block=true: qsub waits for the job to end and exits with its exit code */
  block: boolean;
  depend: string | undefined;
  /** -W umask=NNN (octal): the job's files' umask, in place of the submitter's */
  umask: number | undefined;
  deferral: number | undefined;
  rerunnable: boolean | undefined;
  account: string | undefined;
  priority: number | undefined;
  procCount: number;
  warnings: SubmitWarning[];
  diskKB: number;
  /** lines of $PBS_NODEFILE: mpiprocs per chunk (default 1), Torque's nodes × ppn */
  mpiprocs: number;
  /** `select=N:…` with N > 1 identical chunks: a parallel job of N chunks (cpus, memory and mpiprocs are per chunk) */
  chunks: number;
  /** -l place=free|pack|scatter (the arrangement; sharing words such as excl are not kept) */
  place: 'free' | 'pack' | 'scatter' | undefined;
}

export function loadPbs(input: SubmitInput): PbsPlan {
  const script = new SourceText(input.file, input.text);
  checkSize(script);
  const warnings: SubmitWarning[] = [];
  const cliText = (input.pbsArgs ?? [])
    .map((a) => (/[\s'"\\]/.test(a) || a === '' ? `'${a.replace(/'/g, `'\\''`)}'` : a))
    .join(' ');
  const cli = new SourceText('<command line>', cliText);
  const mk = (src: SourceText): Diag => ({
    src,
    fail(offset: number, message: string): never {
      const loc = locate(src, offset);
      throw new SourceError('PBS_SYNTAX', message, loc, src.lineText(loc.line));
    },
  });
  const sdiag: Diag = mk(script);
  const cdiag: Diag = mk(cli);

  // command line first (to learn -C), then the script's directives
  let cliWords: Word[];
  try {
    cliWords = shellWords(cliText);
  } catch (e) {
    if (e instanceof PbsSyntax) cdiag.fail(e.offset, e.message);
    throw e;
  }
  const cliParsed = parseOptions(cliWords, 'cli', cdiag, true);
  let prefix = '#PBS';
  for (const o of cliParsed.opts) if (o.letter === 'C') prefix = o.value;

  // `dsubmit [options] -- program args…` runs a program instead of a script
  const commandMode = cliWords.some((w) => w.text === '--');
  const scriptOpts: Opt[] = [];
  if (!commandMode && prefix !== '') {
    for (const line of directiveBlock(input.text, prefix)) {
      const rest = line.text.slice(prefix.length);
      if (rest !== '' && !/^\s/.test(rest)) continue; // #PBSfoo is a comment
      let words: Word[];
      try {
        words = shellWords(rest, line.offset + prefix.length);
      } catch (e) {
        if (e instanceof PbsSyntax) sdiag.fail(e.offset, e.message);
        throw e;
      }
      scriptOpts.push(...parseOptions(words, 'script', sdiag, false).opts);
    }
  }
  const all = [...scriptOpts, ...cliParsed.opts]; // later wins

  const fail: (o: Opt, message: string) => never = (o, message) =>
    (o.src === 'cli' ? cdiag : sdiag).fail(o.at.offset, message);

  const plan: PbsPlan = {
    name: '',
    script: '',
    scriptText: undefined,
    cmd: '',
    args: [],
    queue: undefined,
    cpus: 1,
    cpusAsked: false,
    memoryMB: undefined,
    gpus: undefined,
    walltime: undefined,
    resources: [],
    array: null,
    indexes: [],
    exportAll: false,
    vars: [],
    out: undefined,
    err: undefined,
    join: 'n',
    mailPoints: undefined,
    mailTo: undefined,
    hold: false,
    block: false,
    depend: undefined,
    umask: undefined,
    deferral: undefined,
    rerunnable: undefined,
    account: undefined,
    priority: undefined,
    procCount: 1,
    warnings,
    diskKB: 1,
    mpiprocs: 1,
    chunks: 1,
    place: undefined,
  };

  const resources = new Map<string, { value: string; opt: Opt }>();
  let name: string | undefined;
  for (const o of all) {
    switch (o.letter) {
      case 'N':
        if (o.value === '' || /[\s/]/.test(o.value) || o.value.length > 236)
          fail(o, `-N: '${o.value}' is not a job name (up to 236 characters, no spaces or '/')`);
        name = o.value;
        break;
      case 'q':
        plan.queue = o.value;
        break;
      case 'l':
        for (const part of splitTopLevel(o.value, ',')) {
          const eq = part.indexOf('=');
          if (eq <= 0) fail(o, `-l: '${part}' is not resource=value`);
          resources.set(part.slice(0, eq).trim().toLowerCase(), { value: part.slice(eq + 1).trim(), opt: o });
        }
        break;
      case 'J': {
        const m = /^(\d+)-(\d+)(?::(\d+))?(?:%(\d+))?$/.exec(o.value.trim());
        if (!m) fail(o, `-J: '${o.value}' is not an array range (start-end[:step], e.g. 0-99 or 1-10:2)`);
        const start = Number(m[1]);
        const end = Number(m[2]);
        const step = m[3] ? Number(m[3]) : 1;
        // past 2^53 a double cannot count by one (i += 1 leaves i unchanged): refuse before expanding
        for (const [what, v] of [
          ['start index', start],
          ['end index', end],
          ['step', step],
        ] as const)
          if (!Number.isSafeInteger(v))
            fail(o, `-J: the ${what} ${m[what === 'step' ? 3 : what === 'end index' ? 2 : 1]} is too large`);
        if (end < start) fail(o, `-J: the end index ${end} is below the start index ${start}`);
        if (step <= 0) fail(o, '-J: the step must be positive');
        if (m[4] && !(Number(m[4]) > 0)) fail(o, `-J: the %${m[4]} limit on running subjobs must be 1 or more`);
        if (plan.array?.style === 'torque') fail(o, '-J cannot be used with -t: give the array once');
        plan.array = { start, end, step, style: 'pro', maxRunning: m[4] ? Number(m[4]) : undefined };
        break;
      }
      case 't': {
        // Torque: -t 0-99, -t 1,4,10-20, with an optional %slot limit
        const m = /^([0-9]+(?:-[0-9]+)?(?:,[0-9]+(?:-[0-9]+)?)*)(?:%(\d+))?$/.exec(o.value.replace(/\s+/g, ''));
        if (!m)
          fail(
            o,
            `-t: '${o.value}' is not an array request (a list of indexes and ranges, e.g. 0-99 or 1,4,10-20, optionally %limit)`,
          );
        if (plan.array?.style === 'pro') fail(o, '-t cannot be used with -J: give the array once');
        const ranges: Array<[number, number]> = m[1]!.split(',').map((r) => {
          const [a, b] = r.split('-').map(Number) as [number, number | undefined];
          if (!Number.isSafeInteger(a) || (b !== undefined && !Number.isSafeInteger(b)))
            fail(o, `-t: the index range ${r} is too large`);
          if (b !== undefined && b < a) fail(o, `-t: the range ${r} ends below its start`);
          return [a, b ?? a];
        });
        if (m[2] && !(Number(m[2]) > 0)) fail(o, `-t: the %${m[2]} limit on running subjobs must be 1 or more`);
        plan.array = {
          start: Math.min(...ranges.map((r) => r[0])),
          end: Math.max(...ranges.map((r) => r[1])),
          step: 1,
          style: 'torque',
          ranges,
          maxRunning: m[2] ? Number(m[2]) : undefined,
        };
        break;
      }
      case 'V':
        plan.exportAll = true;
        break;
      case 'v':
        for (const part of splitTopLevel(o.value, ',')) {
          const p = part.trim();
          if (p === '') continue;
          const eq = p.indexOf('=');
          if (eq === 0) fail(o, `-v: '${p}' has no variable name`);
          if (eq < 0) {
            const v = input.env[p];
            if (v === undefined)
              warnings.push({
                message: `-v ${p}: ${p} is not set in your environment; the job gets it empty`,
                location: optLoc(o, script, cli),
              });
            plan.vars.push([p, v ?? '']);
          } else plan.vars.push([p.slice(0, eq).trim(), unquoteValue(p.slice(eq + 1).trim())]);
        }
        break;
      case 'o':
        plan.out = stripHost(o.value);
        break;
      case 'e':
        plan.err = stripHost(o.value);
        break;
      case 'j': {
        const v = o.value.trim();
        if (v !== 'oe' && v !== 'eo' && v !== 'n') fail(o, `-j: expected oe, eo or n, found '${o.value}'`);
        plan.join = v as 'oe' | 'eo' | 'n';
        break;
      }
      case 'm':
        if (!/^(n|[abej]+)$/.test(o.value.trim()))
          fail(o, `-m: expected n or a combination of a, b, e (and j), found '${o.value}'`);
        plan.mailPoints = o.value.trim();
        break;
      case 'M':
        plan.mailTo = o.value.trim();
        break;
      case 'h':
        plan.hold = true;
        break;
      case 'W':
        for (const part of splitTopLevel(o.value, ',', true)) {
          const eq = part.indexOf('=');
          const key = (eq < 0 ? part : part.slice(0, eq)).trim();
          const val = eq < 0 ? '' : part.slice(eq + 1).trim();
          if (key === 'depend') {
            if (!/^(after|afterok|afternotok|afterany|before|beforeok|beforenotok|beforeany|on):\S+/.test(val)) {
              fail(
                o,
                `-W depend: '${val}' is not type:jobid[:jobid…] (type after, afterok, afternotok, afterany, before…, on)`,
              );
            }
            plan.depend = val;
          } else if (key === 'block') {
            if (!/^(true|false)$/i.test(val)) fail(o, `-W block: expected true or false, found '${val}'`);
            plan.block = val.toLowerCase() === 'true';
          } else if (key === 'umask') {
            if (!/^[0-7]{1,4}$/.test(val) || parseInt(val, 8) > 0o777)
              fail(o, `-W umask: expected an octal umask such as 022 or 077, found '${val}'`);
            plan.umask = parseInt(val, 8);
          } else if (key === 'sandbox' || key === 'group_list' || key === 'stagein' || key === 'stageout') {
            warnings.push({ message: `-W ${key}: not supported by dsched; ignored`, location: optLoc(o, script, cli) });
          } else fail(o, `-W: unknown attribute '${key}' (dsched understands depend=…)`);
        }
        break;
      case 'a': {
        const t = pbsDateTime(o.value);
        if (t === undefined) fail(o, `-a: '${o.value}' is not a date and time ([[[[CC]YY]MM]DD]hhmm[.SS])`);
        plan.deferral = t;
        break;
      }
      case 'r': {
        const v = o.value.trim();
        if (v !== 'y' && v !== 'n') fail(o, `-r: expected y or n, found '${o.value}'`);
        plan.rerunnable = v === 'y';
        break;
      }
      case 'A':
        plan.account = o.value;
        break;
      case 'p': {
        const v = o.value.trim();
        if (!/^[+-]?\d+$/.test(v) || Number(v) < -1024 || Number(v) > 1023)
          fail(o, `-p: the priority must be an integer from -1024 to 1023, found '${o.value}'`);
        plan.priority = Number(v);
        break;
      }
      case 'S':
        plan.cmd = stripHost(o.value.split(',')[0]!.trim());
        break;
      case 'C':
        break;
      case 'I':
      case 'X':
      case 'G':
        fail(o, `-${o.letter}: interactive jobs are not supported by dsched`);
        break;
      case 'z':
      case 'f':
        break;
      default:
        warnings.push({
          message: `-${o.letter} ${o.value}: not supported by dsched; ignored`,
          location: optLoc(o, script, cli),
        });
    }
  }

  // resources
  let nodesPlace: PbsPlan['place'];
  for (const [res, { value, opt }] of resources) {
    switch (res) {
      case 'select': {
        let cpus = 0;
        let mem = 0;
        let gpus = 0;
        let chunksTotal = 0;
        let mpiprocs = 0;
        for (const spec of value.split('+')) {
          const fields = spec.split(':');
          let n = 1;
          let first = 0;
          if (/^\d+$/.test(fields[0]!)) {
            n = Number(fields[0]);
            first = 1;
          }
          let c = 1;
          let m = 0;
          let g = 0;
          let mp: number | undefined;
          for (const f of fields.slice(first)) {
            const eq = f.indexOf('=');
            if (eq <= 0) fail(opt, `-l select: '${f}' is not resource=value`);
            const k = f.slice(0, eq).toLowerCase();
            const v = f.slice(eq + 1);
            if (k === 'ncpus') {
              if (!/^\d+$/.test(v)) fail(opt, `-l select: ncpus must be a whole number, found '${v}'`);
              c = Number(v);
            } else if (k === 'mem') {
              const b = pbsSizeBytes(v);
              if (b === undefined) fail(opt, `-l select: mem=${v} is not a size (e.g. 16gb, 512mb)`);
              m = b;
            } else if (k === 'ngpus') {
              if (!/^\d+$/.test(v)) fail(opt, `-l select: ngpus must be a whole number, found '${v}'`);
              g = Number(v);
            } else if (k === 'mpiprocs') {
              if (!/^\d+$/.test(v)) fail(opt, `-l select: mpiprocs must be a whole number, found '${v}'`);
              mp = Number(v);
            } else plan.resources.push(`${k}=${v}`);
          }
          mpiprocs += n * (mp ?? (c > 0 ? 1 : 0));
          chunksTotal += n;
          cpus += n * c;
          mem += n * m;
          gpus += n * g;
        }
        const specs = value.split('+').length;
        if (chunksTotal > 1 && specs === 1) {
          // N identical chunks: a parallel job, all chunks at once or none (docs/parallel.md)
          plan.chunks = chunksTotal;
          cpus /= chunksTotal;
          mem /= chunksTotal;
          gpus /= chunksTotal;
          mpiprocs /= chunksTotal;
        } else if (chunksTotal > 1) {
          warnings.push({
            message: `-l select=${value}: chunks of different sizes are run as one job on one host, with ${cpus} cpus in total (give one kind of chunk, select=N:…, for a parallel job)`,
            location: optLoc(opt, script, cli),
          });
        }
        plan.cpus = Math.max(1, cpus);
        plan.cpusAsked = true;
        plan.mpiprocs = Math.max(1, mpiprocs);
        if (mem > 0) plan.memoryMB = Math.ceil(mem / (1024 * 1024));
        if (gpus > 0) plan.gpus = gpus;
        break;
      }
      case 'ncpus':
        if (!/^\d+$/.test(value) || Number(value) < 1)
          fail(opt, `-l ncpus: expected a whole number of cpus, found '${value}'`);
        plan.cpus = Number(value);
        plan.cpusAsked = true;
        break;
      case 'ngpus':
        if (!/^\d+$/.test(value)) fail(opt, `-l ngpus: expected a whole number, found '${value}'`);
        plan.gpus = Number(value);
        break;
      case 'mem': {
        const b = pbsSizeBytes(value);
        if (b === undefined) fail(opt, `-l mem: '${value}' is not a size (e.g. 16gb, 512mb)`);
        plan.memoryMB = Math.ceil(b / (1024 * 1024));
        break;
      }
      case 'walltime': {
        const s = pbsDurationSeconds(value);
        if (s === undefined) fail(opt, `-l walltime: '${value}' is not a duration ([[hours:]minutes:]seconds)`);
        plan.walltime = s;
        break;
      }
      case 'place': {
        // arrangement[:sharing][:group=…]: only the arrangement matters here (one job per slot already)
        const words = value.toLowerCase().split(':');
        const arrangement = words.find((w) => w === 'free' || w === 'pack' || w === 'scatter' || w === 'vscatter');
        if (!arrangement && !words.every((w) => /^(excl|exclhost|shared|group=.*)$/.test(w)))
          fail(opt, `-l place: '${value}' is not free, pack or scatter (optionally :excl, :shared, :exclhost)`);
        plan.place = arrangement === 'vscatter' ? 'scatter' : (arrangement as PbsPlan['place']);
        break;
      }
      case 'nodes': {
        // Torque: nodes=N[:ppn=C]. N hosts with C cpus each, as PBS Pro reads it (select=N:ncpus=C:mpiprocs=C,
        // place=scatter): a parallel job when N > 1, so that it fits a pool of hosts smaller than N × C
        const m = /^(\d+)(?::ppn=(\d+))?/.exec(value);
        if (!m) fail(opt, `-l nodes: '${value}' is not N[:ppn=C]`);
        const hosts = Number(m[1]);
        plan.cpus = Math.max(1, m[2] ? Number(m[2]) : 1);
        plan.cpusAsked = true;
        plan.mpiprocs = plan.cpus;
        if (hosts > 1) {
          plan.chunks = hosts;
          nodesPlace = 'scatter';
        }
        break;
      }
      default:
        plan.resources.push(`${res}=${value}`);
    }
  }

  // an explicit -l place wins over the one -l nodes implies, whichever comes first
  plan.place ??= nodesPlace;

  // the script (or the program after --)
  const cwd = input.cwd;
  if (commandMode) {
    const prog = cliParsed.rest;
    if (!prog.length) cdiag.fail(cliText.length, "expected a program after '--'");
    const p = prog[0]!.text;
    const abs = isAbsolute(p)
      ? p
      : p.includes('/')
        ? resolve(cwd, p)
        : (findInPath(p, input.env.PATH) ?? resolve(cwd, p));
    plan.script = abs;
    plan.cmd = abs;
    plan.args = prog.slice(1).map((w) => w.text);
    name ??= 'STDIN';
  } else {
    if (cliParsed.rest.length)
      cdiag.fail(
        cliParsed.rest[0]!.offset,
        `unexpected '${cliParsed.rest[0]!.text}': the script is given as the file to submit`,
      );
    // a script read from standard input (`echo cmd | qsub`) is named STDIN, as PBS names it; it runs from its copy
    const stdin = input.file === '-' || input.file === '<stdin>';
    const abs = stdin ? join(cwd, 'STDIN') : isAbsolute(input.file) ? input.file : resolve(cwd, input.file);
    plan.script = abs;
    plan.scriptText = input.text;
    // the copy travels as one ClassAd string, whose text the ClassAd parser takes up to 1 MiB
    const quoted = quoteString(input.text).length;
    if (quoted > MAX_SCRIPT_CHARS) {
      throw new SourceError(
        'INPUT_TOO_LARGE',
        `the script is too large to be copied into the job (${quoted} characters quoted, at most ${MAX_SCRIPT_CHARS}): keep data in a file the script reads`,
        { file: input.file, line: 1, column: 1 },
      );
    }
    name ??= basename(abs);
    let st;
    try {
      st = stdin ? undefined : statSync(abs);
    } catch {
      st = undefined;
    }
    plan.diskKB = Math.max(1, Math.ceil((st?.size ?? input.text.length) / 1024));
    const shebang = /^#!\s*(\S+)(?:[ \t]+(.*))?/.exec(input.text.split('\n', 1)[0]!.replace(/\r$/, ''));
    // the shell would see a \r at the end of every command (`cd: /data\r: No such file`), with or without #!
    const crlf = input.text.indexOf('\r\n');
    if (crlf >= 0) {
      const loc = locate(script, crlf);
      throw new SourceError(
        'PBS_SYNTAX',
        `the script has Windows line endings (line ${loc.line} ends with a carriage return); it cannot run: convert it with dos2unix`,
        loc,
        script.lineText(loc.line),
      );
    }
    if (plan.cmd !== '') {
      // -S shell: run the script with it
      plan.args = [abs];
    } else if (st && (st.mode & 0o111) !== 0 && shebang) {
      plan.cmd = abs;
    } else if (shebang) {
      plan.cmd = shebang[1]!;
      plan.args = [...(shebang[2] ? [shebang[2].trim()] : []), abs];
    } else {
      plan.cmd = '/bin/sh';
      plan.args = [abs];
    }
  }
  plan.name = name;

  if (plan.array) {
    const { start, end, step, ranges, style } = plan.array;
    const n = ranges ? ranges.reduce((t, [a, b]) => t + b - a + 1, 0) : Math.floor((end - start) / step) + 1;
    const max = input.maxProcs ?? 1_000_000;
    if (n > max) {
      const o = all.filter((x) => x.letter === (style === 'torque' ? 't' : 'J')).pop()!;
      fail(o, `-${o.letter} ${o.value}: ${n} subjobs is more than the limit of ${max} per submission (maxProcs)`);
    }
    if (ranges) {
      const set = new Set<number>();
      for (const [a, b] of ranges) for (let i = a; i <= b; i++) set.add(i);
      plan.indexes.push(...[...set].sort((x, y) => x - y));
    } else for (let i = start; i <= end; i += step) plan.indexes.push(i);
    plan.procCount = plan.indexes.length;
  }
  return plan;
}

function optLoc(o: Opt, script: SourceText, cli: SourceText): Location {
  return locate(o.src === 'cli' ? cli : script, o.at.offset);
}

function stripHost(p: string): string {
  const m = /^[A-Za-z][A-Za-z0-9.-]*:([^:].*)$/.exec(p);
  return m ? m[1]! : p;
}

function unquoteValue(v: string): string {
  if (v.length >= 2 && ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"'))))
    return v.slice(1, -1);
  return v;
}

/** Split on `sep` outside quotes; with `keepColonLists`, a,b inside depend=afterok:a:b stays whole. */
function splitTopLevel(s: string, sep: string, _keep = false): string[] {
  const out: string[] = [];
  let q = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === q) q = '';
    } else if (c === '"' || c === "'") q = c;
    else if (c === sep) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.filter((x) => x.trim() !== '');
}

function findInPath(prog: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(':')) {
    if (!dir) continue;
    const p = join(dir, prog);
    try {
      const st = statSync(p);
      if (st.isFile() && (st.mode & 0o111) !== 0) return p;
    } catch {
      // next
    }
  }
  return undefined;
}

// ---- expansion ------------------------------------------------------------------------------------

/**
 * Where a PBS output file goes: the default NAME.oID in the submit directory, or -o/-e (a directory → default
 * name inside it). `index` '^array_index^' keeps the placeholder: an array's own path, as qstat -f shows it.
 */
function outputPath(
  given: string | undefined,
  cwd: string,
  defaultName: string,
  index: number | string | null,
): string {
  if (given === undefined || given === '') return join(cwd, defaultName);
  let p = given.replace(/\^array_index\^/g, index === null ? '' : String(index));
  p = isAbsolute(p) ? p : resolve(cwd, p);
  let isDir = given.endsWith('/');
  if (!isDir) {
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      isDir = false;
    }
  }
  return isDir ? join(p, defaultName) : p;
}

export function expandPbs(
  plan: PbsPlan,
  input: SubmitInput,
  clusterId: number,
): { jobs: JobSet; warnings: SubmitWarning[] } {
  const host = input.hostname;
  const cwd = input.cwd;
  const env = input.env;
  const c: Record<string, string> = {};
  c.MyType = '"Job"';
  c.TargetType = '"Machine"';
  c.Owner = quoteString(input.owner);
  c.User = quoteString(`${input.owner}@${host}`);
  c.FileSystemDomain = quoteString(host);
  const umask = plan.umask ?? input.umask;
  if (umask !== undefined) c.Umask = String(umask);
  c.MinHosts = '1';
  c.MaxHosts = '1';
  c.CurrentHosts = '0';
  c.WantRemoteSyscalls = 'false';
  c.ClusterId = String(clusterId);
  c.JobUniverse = String(Universe.Vanilla);
  c.IsPbsJob = 'true';
  c.Cmd = quoteString(plan.cmd);
  if (plan.args.length) c.Arguments = quoteString(joinV2Raw(plan.args));
  c.Iwd = quoteString(env.HOME && isAbsolute(env.HOME) ? env.HOME : cwd);
  c.In = '"/dev/null"';
  c.RequestCpus = String(plan.cpus);
  c.RequestMemory = String(plan.memoryMB ?? DEFAULT_REQUEST_MEMORY_MB);
  c.RequestDisk = String(plan.diskKB);
  c.DiskUsage = String(plan.diskKB);
  c.ImageSize = String(plan.diskKB);
  if (plan.gpus !== undefined) c.RequestGPUs = String(plan.gpus);
  const req = [
    `(TARGET.Arch == ${quoteString(condorArch())})`,
    `(TARGET.OpSys == ${quoteString(condorOpSys())})`,
    '(TARGET.Disk >= RequestDisk)',
    '(TARGET.Memory >= RequestMemory)',
  ];
  if (plan.cpus > 1) req.push('(TARGET.Cpus >= RequestCpus)');
  if (plan.gpus) req.push('(TARGET.GPUs >= RequestGPUs)');
  req.push('((TARGET.FileSystemDomain == MY.FileSystemDomain) || (TARGET.HasFileTransfer))');
  c.Requirements = req.join(' && ');
  c.Rank = '0.0';
  c.JobPrio = String(plan.priority ?? 0);
  if (plan.hold) {
    c.JobStatus = String(JobStatus.Held);
    c.HoldReason = quoteString('submitted on hold (qsub -h)');
    c.HoldReasonCode = String(HoldCode.SubmittedOnHold);
    c.HoldReasonSubCode = '0';
  } else c.JobStatus = String(JobStatus.Idle);
  const mp = plan.mailPoints;
  // no -m: nothing is mailed here (PBS's default 'a' is about aborts by the system, not exit codes)
  c.JobNotification = !mp || mp === 'n' ? '0' : mp.includes('b') ? '1' : mp.includes('e') ? '2' : '3';
  if (mp) c.PbsMailPoints = quoteString(mp);
  if (plan.mailTo) c.NotifyUser = quoteString(plan.mailTo);
  c.OnExitRemove = 'true';
  c.OnExitHold = 'false';
  c.PeriodicHold = 'false';
  c.PeriodicRelease = 'false';
  c.PeriodicRemove = 'false';
  c.LeaveJobInQueue = 'false';
  c.ShouldTransferFiles = '"IF_NEEDED"';
  c.WhenToTransferOutput = '"ON_EXIT"';
  c.PbsJobName = quoteString(plan.name);
  c.JobBatchName = quoteString(plan.name);
  // -q NAME (or NAME@server) routes the job to that queue; without it the schedd's DEFAULT_QUEUE takes it
  const queue = plan.queue?.replace(/@.*$/, '') ?? 'workq';
  c.PbsQueue = quoteString(queue);
  if (plan.queue !== undefined) c.Queue = quoteString(queue);
  // what the script did not ask for, for the queue's defaults (PBS's resources_default)
  const defaulted = [...(plan.memoryMB === undefined ? ['mem'] : []), ...(plan.cpusAsked ? [] : ['ncpus'])];
  if (defaulted.length) c.PbsDefaultedResources = quoteString(defaulted.join(','));
  if (plan.scriptText !== undefined) {
    // qsub copies the script: the job runs what was submitted, even if the file changes or goes away
    // (the startd writes it into the sandbox and runs that copy in place of PbsScriptPath)
    c.PbsScript = quoteString(plan.scriptText);
    c.PbsScriptPath = quoteString(plan.script);
    c.TransferExecutable = 'false';
  }
  c.PbsMpiProcs = String(plan.mpiprocs);
  if (plan.chunks > 1) {
    // per chunk: RequestCpus, RequestMemory, PbsMpiProcs above; the negotiator places all chunks or none
    c.MachineCount = String(plan.chunks);
    c.MinHosts = c.MaxHosts = String(plan.place === 'pack' ? 1 : plan.chunks);
    c.GangPlacement = quoteString(plan.place ?? 'free');
  }
  if (plan.depend) c.PbsDepend = quoteString(plan.depend);
  if (plan.walltime !== undefined) c.AllowedJobDuration = String(plan.walltime);
  if (plan.deferral !== undefined) c.DeferralTime = String(plan.deferral);
  if (plan.rerunnable !== undefined) c.PbsRerunable = String(plan.rerunnable);
  if (plan.account) c.PbsAccount = quoteString(plan.account);
  if (plan.resources.length) c.PbsResources = quoteString(plan.resources.join(','));
  // PBS Professional's container hook: -v CONTAINER_IMAGE=IMAGE runs the job in that image (universe = container)
  const image = plan.vars.filter(([k]) => k === 'CONTAINER_IMAGE').pop()?.[1];
  if (image) {
    c.ContainerImage = quoteString(image);
    c.JobUniverse = String(Universe.Container);
    c.ShouldTransferFiles = '"YES"';
    const req = [
      '(TARGET.HasContainer)',
      ...(image.startsWith('docker://') ? ['(TARGET.HasDockerURL)'] : []),
      '(TARGET.HasFileTransfer)',
    ];
    c.Requirements = c.Requirements!.replace(
      '((TARGET.FileSystemDomain == MY.FileSystemDomain) || (TARGET.HasFileTransfer))',
      req.join(' && '),
    );
  }

  // the environment: -V, then -v, then PBS's own variables
  const base = new Map<string, string>();
  if (plan.exportAll)
    for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== '' && !k.includes('=')) base.set(k, v);
  for (const [k, v] of plan.vars) base.set(k, v);
  const o = (k: string, v: string | undefined) => {
    if (v !== undefined) base.set(k, v);
  };
  o('PBS_O_HOME', env.HOME);
  o('PBS_O_PATH', env.PATH);
  o('PBS_O_LOGNAME', env.LOGNAME ?? input.owner);
  o('PBS_O_SHELL', env.SHELL);
  o('PBS_O_MAIL', env.MAIL);
  o('PBS_O_LANG', env.LANG);
  o('PBS_O_TZ', env.TZ);
  o('PBS_O_SYSTEM', os.type());
  o('PBS_O_WORKDIR', cwd);
  o('PBS_O_HOST', host);
  o('PBS_O_QUEUE', queue);
  o('PBS_QUEUE', queue);
  o('PBS_JOBNAME', plan.name);
  o('PBS_ENVIRONMENT', 'PBS_BATCH');

  const procs: Array<Record<string, string>> = [];
  if (!plan.array) {
    const id = `${clusterId}.${host}`;
    base.set('PBS_JOBID', id);
    c.PbsJobId = quoteString(id);
    c.Environment = quoteString(joinV2Env(base));
    const out = outputPath(plan.out, cwd, `${plan.name}.o${clusterId}`, null);
    const err = outputPath(plan.err, cwd, `${plan.name}.e${clusterId}`, null);
    c.Out = quoteString(plan.join === 'eo' ? err : out);
    c.Err = quoteString(plan.join === 'oe' ? out : err);
    procs.push({ ProcId: '0' });
  } else {
    const arrayId = `${clusterId}[].${host}`;
    c.PbsJobId = quoteString(arrayId);
    c.PbsArrayId = quoteString(arrayId);
    base.set('PBS_ARRAY_ID', arrayId);
    base.delete('PBS_JOBID');
    base.delete('PBS_ARRAY_INDEX');
    const common = joinV2Env(base);
    // PBS Pro names a subjob's files NAME.oC.INDEX and sets PBS_ARRAY_INDEX; Torque NAME.oC-INDEX and PBS_ARRAYID
    const torque = plan.array.style === 'torque';
    const sep = torque ? '-' : '.';
    const indexVar = torque ? 'PBS_ARRAYID' : 'PBS_ARRAY_INDEX';
    const any = '^array_index^';
    const arrayOut = outputPath(plan.out, cwd, `${plan.name}.o${clusterId}${sep}${any}`, any);
    const arrayErr = outputPath(plan.err, cwd, `${plan.name}.e${clusterId}${sep}${any}`, any);
    const a = plan.array;
    if (a.maxRunning !== undefined) c.ArrayMaxRunning = String(a.maxRunning);
    c.PbsArrayIndices = quoteString(
      a.ranges
        ? a.ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',')
        : `${a.start}-${a.end}${a.step > 1 ? `:${a.step}` : ''}`,
    );
    c.PbsArrayOut = quoteString(plan.join === 'eo' ? arrayErr : arrayOut);
    c.PbsArrayErr = quoteString(plan.join === 'oe' ? arrayOut : arrayErr);
    plan.indexes.forEach((idx, p) => {
      const jobId = `${clusterId}[${idx}].${host}`;
      const out = outputPath(plan.out, cwd, `${plan.name}.o${clusterId}${sep}${idx}`, idx);
      const err = outputPath(plan.err, cwd, `${plan.name}.e${clusterId}${sep}${idx}`, idx);
      procs.push({
        ProcId: String(p),
        PbsArrayIndex: String(idx),
        Environment: quoteString(`${common} PBS_JOBID=${jobId} ${indexVar}=${idx}`),
        Out: quoteString(plan.join === 'eo' ? err : out),
        Err: quoteString(plan.join === 'oe' ? out : err),
      });
    });
  }
  return { jobs: { cluster: c, procs }, warnings: [] };
}
