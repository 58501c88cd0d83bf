// -af / -autoformat and -format, as condor_q, condor_status and condor_history have them. Each argument is a
// ClassAd *expression* evaluated against the ad (so `-af 'RequestMemory * 2'` works), parsed once up front: a
// syntax error is the user's (CLASSAD_SYNTAX, exit 2) before anything is printed.
//
// -af[:qualifiers] (HTCondor's condor_q manual):
//   j  job id (ClusterId.ProcId) as the first field      l  label each field `Expr = value`
//   h  a heading line; columns padded to the widest value V  %V: strings quoted
//   r  raw: the unevaluated expression                     T  %T: numbers as durations D+HH:MM:SS
//   Y  %Y: numbers as dates (epoch seconds)               ,  a comma after each field
//   t  a tab before each field instead of a space         n  a newline after each field
//   g  a newline between ads, no space before fields
// As HTCondor: no prefix before the first field and no suffix after the last, one newline ends an ad; `n` and `,`
// may not be combined, nor `l` and `h`. Where dsched differs (documented): no space is printed at the start of a
// line that follows an `n` newline, and `g`'s blank line goes *between* ads rather than before every ad.
import { DschedError } from '../../../lib/errors.js';
import {
  parseExpr,
  printValue,
  unparse,
  valueToJS,
  isExceptional,
  type ClassAd,
  type Expr,
  type Value,
} from '../../../grammar/classad/index.js';
import { displayWidth, padEndWidth, visible } from './columns.js';
import { formatDate, formatDuration, type TimeOptions } from './time.js';

/** What -af and -format need from an ad. */
export type FormatAd = Pick<ClassAd, 'evalExpr' | 'get'>;

export interface AutoformatQualifiers {
  jobId?: boolean; // j
  label?: boolean; // l
  headings?: boolean; // h
  quoteStrings?: boolean; // V
  raw?: boolean; // r
  duration?: boolean; // T
  timestamp?: boolean; // Y
  comma?: boolean; // ,
  tab?: boolean; // t
  newline?: boolean; // n
  group?: boolean; // g
}

const QUALIFIER_KEYS: Record<string, keyof AutoformatQualifiers> = {
  j: 'jobId',
  l: 'label',
  h: 'headings',
  V: 'quoteStrings',
  r: 'raw',
  o: 'raw', // HTCondor accepts o as r
  T: 'duration',
  Y: 'timestamp',
  ',': 'comma',
  t: 'tab',
  n: 'newline',
  g: 'group',
};

/** Parses the letters after `-af:` (e.g. `jh`, `lrng`). Unknown letters and forbidden pairs are usage errors. */
export function parseAfQualifiers(letters: string): AutoformatQualifiers {
  const q: AutoformatQualifiers = {};
  for (const ch of letters) {
    const key = QUALIFIER_KEYS[ch];
    if (!key) {
      throw new DschedError('USAGE', `unknown -af qualifier '${ch}' in '-af:${letters}'`, {
        hint: 'qualifiers are j l h V r T Y , t n g (e.g. -af:jh Owner JobStatus)',
      });
    }
    q[key] = true;
  }
  if (q.newline && q.comma)
    throw new DschedError('USAGE', `-af:${letters}: the n and , qualifiers cannot be used together`);
  if (q.label && q.headings)
    throw new DschedError('USAGE', `-af:${letters}: the l and h qualifiers cannot be used together`);
  return q;
}

// the pre-pass for yargs lives with the yargs setup: commands call it before they load the ClassAd library
export { splitAfQualifiers } from '../yargs.js';

/** Parses an -af / -format argument as a ClassAd expression; a syntax error names the argument. */
export function parseFormatExpr(text: string, what = '-af'): Expr {
  return parseExpr(text, { file: `<${what} argument>`, line: 1, column: 1 });
}

function isAttrName(e: Expr): e is Extract<Expr, { kind: 'attr' }> {
  return e.kind === 'attr' && e.scope === undefined && e.absolute !== true;
}

/** The unevaluated text: an attribute's own expression, else the expression as written. */
function rawText(ad: FormatAd, e: Expr): string {
  if (isAttrName(e)) {
    const own = ad.get(e.name);
    return own ? unparse(own) : 'undefined';
  }
  return unparse(e);
}

const asNumber = (v: Value): number | undefined =>
  typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : undefined;

/** %v / %V of a value: strings bare (quoted with V), everything else as ClassAd prints it. */
function valueText(v: Value, quote: boolean): string {
  if (typeof v === 'string' && !quote) return v;
  return printValue(v);
}

export interface AutoformatOptions extends AutoformatQualifiers {
  /** For Y: local/UTC, condor_q style or ISO. */
  time?: TimeOptions;
}

interface Field {
  head: string;
  text: (ad: FormatAd) => string;
}

/** -af output for `ads`: one line (or block) per ad, ending with a newline; '' when there are no ads and no heading. */
export function autoformat(ads: readonly FormatAd[], args: readonly string[], opts: AutoformatOptions = {}): string {
  if (args.length === 0) throw new DschedError('USAGE', '-af needs at least one attribute or expression');
  const exprs = args.map((a) => parseFormatExpr(a));
  const fields: Field[] = [];
  if (opts.jobId) {
    fields.push({
      head: 'ID',
      text: (ad) => {
        const c = asNumber(ad.evalExpr('ClusterId'));
        const p = asNumber(ad.evalExpr('ProcId'));
        if (c === undefined) return valueText(ad.evalExpr('Name'), false);
        return `${c}.${p ?? 0}`;
      },
    });
  }
  exprs.forEach((e, i) => {
    fields.push({
      head: args[i]!,
      text: (ad) => {
        if (opts.raw) return rawText(ad, e);
        const v = ad.evalExpr(e);
        const n = asNumber(v);
        if (opts.duration && n !== undefined) return formatDuration(n);
        if (opts.timestamp && n !== undefined) return formatDate(n, opts.time, String(n));
        return valueText(v, opts.quoteStrings ?? false);
      },
    });
  });

  const prefix = opts.group ? '' : opts.tab ? '\t' : ' ';
  const suffix = opts.newline ? '\n' : opts.comma ? ',' : '';
  const rows = ads.map((ad) => fields.map((f) => visible(f.text(ad))));
  const label = (i: number, text: string): string =>
    opts.label ? `${i === 0 && opts.jobId ? 'ID' : fields[i]!.head} = ${text}` : text;

  const widths = opts.headings
    ? fields.map((f, i) => Math.max(displayWidth(f.head), ...rows.map((r) => displayWidth(r[i]!))))
    : undefined;

  const renderRow = (cells: readonly string[]): string => {
    let line = '';
    cells.forEach((c, i) => {
      const last = i === cells.length - 1;
      if (i > 0 && !line.endsWith('\n')) line += prefix;
      let cell = label(i, c);
      if (widths && !last) cell = padEndWidth(cell, widths[i]!);
      line += cell;
      if (!last) line += suffix;
    });
    line = line.replace(/[ \t]+$/, '');
    return line.endsWith('\n') ? line : line + '\n';
  };

  let out = '';
  if (opts.headings) out += renderRow(fields.map((f) => f.head));
  rows.forEach((r, i) => {
    if (opts.group && i > 0) out += '\n';
    out += renderRow(r);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// -format fmt expr

export interface FormatItem {
  /** printf-like: %d %i %s %f %e %g %x %o %v %V %r %T %Y %%, with flags, width and precision; \n \t escapes. */
  format: string;
  expr: string;
}

/** Turns `\n`, `\t`, `\\` (as typed on a command line) into the characters. */
function collapseEscapes(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"' })[c] ?? `\\${c}`);
}

const CONVERSION = /%([-+ 0#]*)(\d+)?(?:\.(\d+))?([diouxXeEfgGsvVrTYc%])/g;

function pad(text: string, flags: string, width: number | undefined, numeric: boolean): string {
  if (width === undefined || displayWidth(text) >= width) return text;
  if (flags.includes('-')) return padEndWidth(text, width);
  if (numeric && flags.includes('0')) {
    const sign = /^[-+ ]/.test(text) ? text[0]! : '';
    return sign + text.slice(sign.length).padStart(width - sign.length, '0');
  }
  return ' '.repeat(width - displayWidth(text)) + text;
}

function signed(text: string, n: number, flags: string): string {
  if (n >= 0 && flags.includes('+')) return `+${text}`;
  if (n >= 0 && flags.includes(' ')) return ` ${text}`;
  return text;
}

/**
 * Formats one value with one conversion. Returns undefined when the value does not fit the conversion
 * (undefined/error for %d %s %f, a string for %d…): HTCondor then prints nothing for the whole -format item.
 */
function convert(
  v: Value,
  raw: () => string,
  conv: string,
  flags: string,
  width: number | undefined,
  prec: number | undefined,
  time: TimeOptions | undefined,
): string | undefined {
  const n = typeof v === 'boolean' ? (v ? 1 : 0) : asNumber(v);
  switch (conv) {
    case 'd':
    case 'i':
    case 'u': {
      if (n === undefined || !Number.isFinite(n)) return undefined;
      const t = Math.trunc(n);
      return pad(signed(String(t), t, flags), flags, width, true);
    }
    case 'x':
    case 'X':
    case 'o': {
      if (n === undefined || !Number.isFinite(n)) return undefined;
      const t = BigInt.asUintN(64, BigInt(Math.trunc(n)));
      let s = t.toString(conv === 'o' ? 8 : 16);
      if (conv === 'X') s = s.toUpperCase();
      if (flags.includes('#') && t !== 0n) s = (conv === 'o' ? '0' : conv === 'x' ? '0x' : '0X') + s;
      return pad(s, flags, width, true);
    }
    case 'f':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      if (n === undefined) return undefined;
      const p = prec ?? 6;
      let s: string;
      if (conv === 'f') s = n.toFixed(p);
      else if (conv === 'e' || conv === 'E') s = n.toExponential(p).replace(/e([+-])(\d)$/, 'e$10$2');
      else {
        s = n.toPrecision(p === 0 ? 1 : p);
        if (!flags.includes('#'))
          s = s.includes('e') ? s.replace(/\.?0+e/, 'e') : s.includes('.') ? s.replace(/\.?0+$/, '') : s;
        s = s.replace(/e([+-])(\d)$/, 'e$10$2');
      }
      if (conv === 'E' || conv === 'G') s = s.toUpperCase();
      return pad(signed(s, n, flags), flags, width, true);
    }
    case 'c': {
      if (n === undefined) return undefined;
      return pad(String.fromCodePoint(Math.trunc(n)), flags, width, false);
    }
    case 's': {
      if (isExceptional(v)) return undefined;
      let s = typeof v === 'string' ? v : printValue(v);
      if (prec !== undefined) s = s.slice(0, prec);
      return pad(s, flags, width, false);
    }
    case 'v':
    case 'V':
      return pad(valueText(v, conv === 'V'), flags, width, false);
    case 'r':
      return pad(raw(), flags, width, false);
    case 'T':
      return n === undefined ? undefined : pad(formatDuration(n), flags, width, false);
    case 'Y':
      return n === undefined ? undefined : pad(formatDate(n, time, String(n)), flags, width, false);
  }
  return undefined;
}

interface CompiledItem {
  fmt: string;
  expr: Expr;
}

/** `-format "%d.%d\n" ClusterId ProcId` would print the cluster twice and take ProcId for an owner. */
function checkConversions(format: string): void {
  const conversions = [...format.matchAll(CONVERSION)].filter((m) => m[4] !== '%').length;
  if (conversions > 1)
    throw new DschedError(
      'USAGE',
      `-format '${format}' has ${conversions} conversions, but each -format prints one expression`,
      { hint: `give one -format per expression: -format '%d.' ClusterId -format '%d\\n' ProcId` },
    );
}

function compileItem(item: FormatItem): CompiledItem {
  checkConversions(item.format);
  return { fmt: collapseEscapes(item.format), expr: parseFormatExpr(item.expr, '-format') };
}

function applyItem(ad: FormatAd, item: CompiledItem, time?: TimeOptions): string {
  let value: Value | undefined;
  let failed = false;
  const out = item.fmt.replace(
    CONVERSION,
    (_m, flags: string, w: string | undefined, p: string | undefined, conv: string) => {
      if (conv === '%') return '%';
      value ??= ad.evalExpr(item.expr);
      const width = w === undefined ? undefined : Number(w);
      const prec = p === undefined ? undefined : Number(p);
      const s = convert(value, () => rawText(ad, item.expr), conv, flags, width, prec, time);
      if (s === undefined) failed = true;
      return visible(s ?? '');
    },
  );
  return failed ? '' : out;
}

/**
 * One -format item for one ad. A format without a conversion prints as is; one whose value does not fit its
 * conversion (undefined for %d/%s/%f, a string for %d, …) prints nothing, as HTCondor skips it.
 */
export function formatOne(ad: FormatAd, item: FormatItem, time?: TimeOptions): string {
  return applyItem(ad, compileItem(item), time);
}

/** Every -format item applied to every ad, in order (the format strings carry their own newlines). */
export function formatPrintf(ads: readonly FormatAd[], items: readonly FormatItem[], time?: TimeOptions): string {
  const compiled = items.map(compileItem); // syntax errors surface before anything is printed
  let out = '';
  for (const ad of ads) for (const it of compiled) out += applyItem(ad, it, time);
  return out;
}

/** The JS value of an expression against an ad (for callers that sort or filter on -af arguments). */
export function evalToJS(ad: FormatAd, expr: string): unknown {
  return valueToJS(ad.evalExpr(parseFormatExpr(expr)));
}

/** `-format FMT EXPR -format FMT EXPR …` as collected by an array option: pairs of format and expression. */
export function formatPairs(list: readonly string[]): FormatItem[] {
  if (list.length % 2) throw new DschedError('USAGE', '-format needs two arguments: a format and an expression');
  const out: FormatItem[] = [];
  for (let i = 0; i < list.length; i += 2) {
    checkConversions(list[i]!);
    out.push({ format: list[i]!, expr: list[i + 1]! });
  }
  return out;
}
