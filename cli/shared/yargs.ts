// One yargs setup for every command: HTCondor-style single-dash long options (-nobatch, -af, -constraint)
// must not be split into letters; usage errors exit 2 with the message; --version and shell completion
// (`dsched completion bash` asks each command through --get-yargs-completions).
import yargs, { type Argv } from 'yargs';
import { DschedError } from '../../lib/errors.js';
import { io } from './io.js';
import { asciiDashes, lookalikeDashError } from './dash.js';
import { typedName, usageAs } from './renamed.js';
import { CommandExit, EXIT } from './run-cli.js';
import { versionLine } from './version.js';
import { ONE_POOL_ONLY } from './session.js';

/**
 * A lone `-` (standard input, as in `dsched join ADDRESS -`) stands for itself: yargs would read it as an
 * option with no name, leaving `''` or `true` in a positional and the `-` elsewhere. It goes through yargs as a
 * word no command line can hold (a NUL ends every argv string) and comes back as `-` before any handler runs.
 */
const STDIN_WORD = '\0-';

function restoreStdinWord(args: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(args)) {
    if (v === STDIN_WORD) args[k] = '-';
    else if (Array.isArray(v)) args[k] = v.map((x) => (x === STDIN_WORD ? '-' : x));
  }
}

/**
 * yargs' own parse() prints --help, --version and completions through the console and exits the process: in
 * a command agent that would be the agent's output and end. Parsed with a callback instead, yargs hands that
 * text back; it goes to the command's stdout and the command ends (CommandExit, 0).
 */
function parseInCommand(line: CommandLine, y: Argv): Argv {
  const parse = y.parse.bind(y) as (...a: unknown[]) => ReturnType<Argv['parse']>;
  let inside = false;
  y.parse = ((...again: unknown[]) => {
    // yargs parses again inside itself (completions): that one is yargs' own
    if (inside) return parse(...again);
    inside = true;
    let failure: unknown;
    let text = '';
    let parsed;
    requireValues(y);
    try {
      parsed = parse(expandPrefixes(line.args, y), {}, (err: unknown, _argv: unknown, output: string) => {
        failure = err;
        text = output;
      });
    } finally {
      inside = false;
    }
    if (failure)
      throw failure instanceof DschedError ? failure : new DschedError('USAGE', usageMessage(String(failure)));
    if (text) {
      io().stdout.write(`${text}\n`);
      throw new CommandExit(EXIT.ok);
    }
    return parsed;
  }) as Argv['parse'];
  return y;
}

/** -af takes every word up to the next option, as condor_q's does (`-af ClusterId ProcId`). */
const GREEDY = new Set(['af', 'autoformat']);

/**
 * An option that takes a value must be given one, as HTCondor's and PBS's tools insist: yargs would leave a
 * bare `-constraint` (an empty shell variable, a value lost in quoting) as '' or [], and `condor_hold 5
 * -constraint` held all of cluster 5. A repeatable option takes one value each time it is given, so that job
 * ids may follow it: `condor_rm -constraint EXPR 12` took 12 for a second expression and removed every job
 * EXPR matched. A number may still be negative (`-p -5`). Options with their own count (-format's two) keep it.
 */
function requireValues(y: Argv): void {
  const o = (y as unknown as { getOptions(): { string: string[]; number: string[]; narg: object } }).getOptions();
  const own = new Set(Object.keys(o.narg));
  // NaN: one value or more
  for (const k of new Set([...o.string, ...o.number])) if (!own.has(k)) y.nargs(k, GREEDY.has(k) ? NaN : 1);
}

/** yargs' words for an option with too few values, as a usage error naming the option. */
function usageMessage(msg: string, args: readonly string[] = []): string {
  // yargs names an unknown option without its dashes: `condor_q -5` said "Unknown argument: 5"
  const unknown = /^(Unknown arguments?): (.+)$/.exec(msg);
  if (unknown) {
    const typed = (n: string) => args.find((a) => a.replace(/^-+/, '').split(/[=:]/)[0] === n && a !== n) ?? n;
    return `${unknown[1]}: ${unknown[2]!.split(', ').map(typed).join(', ')}`;
  }
  const m = /^Not enough arguments following: (.+)$/.exec(msg);
  if (!m) return msg;
  return m[1] === 'format' ? '-format needs a format and an expression' : `-${m[1]} needs a value`;
}

/**
 * HTCondor's tools take an option by the start of its name (`condor_q -const EXPR -nob`, `condor_status
 * -constrain EXPR`, `-better`): a word of three letters or more that begins one option's name only (its aliases
 * count as that option, and -wide-opts as -wide) is that option. Words after `--` stay as they are.
 */
function expandPrefixes(args: string[], y: Argv): string[] {
  const { key, alias } = (
    y as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }
  ).getOptions();
  const canonical = new Map<string, string>();
  for (const k of Object.keys(key)) canonical.set(k, k);
  for (const [k, names] of Object.entries(alias)) for (const n of names) canonical.set(n, canonical.get(k) ?? k);
  // a word being completed stays as typed: completion lists what it may become
  if (args.includes('--get-yargs-completions')) return args;
  const end = args.indexOf('--');
  const isOption = (name: string) =>
    canonical.has(name) || (name.length >= 3 && [...canonical.keys()].some((n) => n.startsWith(name)));
  return args.map((a, i) => {
    if (end >= 0 && i > end) return a;
    const ascii = asciiDashes(a);
    if (ascii !== undefined && isOption(/^-+([^=:]*)/.exec(ascii)![1]!)) throw lookalikeDashError(a, ascii);
    const m = /^(--?)([A-Za-z][\w-]{2,})((?:[=:][\s\S]*)?)$/.exec(a);
    if (!m || canonical.has(m[2]!)) return a;
    const hits = [...new Set([...canonical].filter(([n]) => n.startsWith(m[2]!)).map(([, k]) => k))];
    // -wid is -wide, not its -wide-opts: of options that all begin with one of them, that one
    const shortest = hits.sort((x, z) => x.length - z.length)[0];
    return shortest !== undefined && hits.every((h) => h.startsWith(shortest)) ? `${m[1]}${shortest}${m[3]}` : a;
  });
}

/** The words of the command line being parsed: the usage errors name options as they were typed. */
interface CommandLine {
  args: string[];
}

/** `-` goes through yargs as STDIN_WORD. */
const commandLine = (argv: string[]): CommandLine => ({ args: argv.map((a) => (a === '-' ? STDIN_WORD : a)) });

/** `refused`: HTCondor options the command takes only to refuse them, with the reason (hidden from --help). */
export function cli(cmd: string, argv: string[], usage: string, refused: RefusedOptions = {}): Argv {
  const line = commandLine(argv);
  return parseInCommand(line, setup(cmd, usage, refused, line));
}

/**
 * The command agent runs the same few commands thousands of times, and declaring dq's 60 options to yargs
 * took a quarter of its CPU for `dq -af ClusterId` over 10,000 jobs: a declared parser is kept per command,
 * the name it was typed by and the terminal's width (all the declaration reads), and parsed again for each
 * command line. yargs keeps what a parse changes apart and puts the declaration back after it (its freeze and
 * unfreeze); a parse that throws (a usage error, --help, --version) may leave it half way, so that parser is
 * dropped.
 */
const declared = new Map<string, { y: Argv; line: CommandLine }>();

/** `cli(cmd, argv, usage, refused)`, then `declare`'s options, parsed: through a parser kept from before. */
export function parseCli<T>(
  cmd: string,
  argv: string[],
  usage: string,
  refused: RefusedOptions,
  declare: (y: Argv) => Argv<T>,
): ReturnType<Argv<T>['parse']> {
  const key = [cmd, typedName(cmd), usage, width()].join('\0');
  let d = declared.get(key);
  // taken out while it parses: a parse that does not return at once (a promise) leaves it out
  declared.delete(key);
  if (!d) {
    const line = commandLine(argv);
    d = { line, y: declare(parseInCommand(line, setup(cmd, usage, refused, line))) as unknown as Argv };
  }
  d.line.args = commandLine(argv).args;
  const parsed = d.y.parse() as ReturnType<Argv<T>['parse']>;
  if (!(parsed instanceof Promise)) declared.set(key, d);
  return parsed;
}

const width = () => Math.min(110, io().stdout.columns || 100);

function setup(cmd: string, usage: string, refused0: RefusedOptions, line: CommandLine): Argv {
  // every HTCondor tool takes -pool; a dsched command talks to the pool its DSCHED_HOME names
  const refused: RefusedOptions = { ...REFUSED_POOL, ...refused0 };
  const name = typedName(cmd);
  return (
    yargs(line.args)
      .middleware(restoreStdinWord, true)
      .scriptName(name)
      .usage(usageAs(cmd, usage))
      // job ids like 12.0 must stay strings: numeric parsing would turn `12.0` into the cluster 12
      .parserConfiguration({
        'short-option-groups': false,
        'camel-case-expansion': false,
        'parse-positional-numbers': false,
      })
      .strictOptions()
      .help('help')
      .alias('help', 'h')
      .version('version', 'print the version and exit', versionLine(name))
      .epilogue('Options take one dash or two, as HTCondor writes them: -nobatch is --nobatch.')
      .options(refusedOptions(refused))
      .exitProcess(false)
      .wrap(width())
      .fail((msg, err) => {
        if (err instanceof DschedError) throw err;
        throw new DschedError('USAGE', usageMessage(msg ?? err?.message ?? '', line.args));
      })
      // `-limit abc` is a usage error, not NaN taken as "no limit"
      .check((args) => {
        checkRefused(args, refused);
        for (const [name, v] of Object.entries(args)) {
          if (typeof v === 'number' && Number.isNaN(v)) throw new DschedError('USAGE', `-${name} needs a number`);
        }
        return true;
      })
  );
}

/**
 * HTCondor's `-NAME:QUALIFIERS` options, by the name yargs knows them under: `-af:jh`, `-long:json`,
 * `-wide:120`, `-analyze:summary`.
 */
const QUALIFIED: Record<string, string> = {
  af: 'af',
  autoformat: 'af',
  long: 'long',
  wide: 'wide',
  analyze: 'analyze',
  'better-analyze': 'analyze',
};

/**
 * The pre-pass for yargs: `-NAME:Q` (one dash or two) becomes `--NAME-opts Q --NAME` for each of `names`, so
 * yargs sees the plain option (the `af` array, the `long` flag) plus its qualifiers. Other words pass through.
 */
export function splitQualifiers(argv: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    const m = /^--?([a-z-]+):(.*)$/.exec(a);
    const name = m && QUALIFIED[m[1]!];
    if (name && names.includes(name)) out.push(`--${name}-opts`, m[2]!, `--${name}`);
    else out.push(a);
  }
  return out;
}

/** splitQualifiers for `-af:jh` (or `-autoformat:jh`) alone: `-format` and everything else pass unchanged. */
export function splitAfQualifiers(argv: readonly string[]): string[] {
  return splitQualifiers(argv, ['af']);
}

/**
 * `-long:FORM` (after splitQualifiers): `json` and `xml` set those options, `long` (or none) is -long; any other
 * of `forms` is returned for the command to print; else a usage error naming the forms.
 */
export function longForm(a: Record<string, unknown>, forms: readonly string[] = []): string | undefined {
  const form = a['long-opts'] as string | undefined;
  if (form === undefined || form === '' || form === 'long') return undefined;
  if (form === 'json' || form === 'xml') {
    a.long = false;
    a[form] = true;
    return undefined;
  }
  if (forms.includes(form)) return form;
  const all = ['long', 'json', 'xml', ...forms];
  throw new DschedError('USAGE', `-long:${form}: the forms are ${all.slice(0, -1).join(', ')} and ${all.at(-1)}`);
}

/** `-wide:N` (after splitQualifiers): the width N, or undefined for a plain -wide (or none). */
export function wideWidth(a: Record<string, unknown>): number | undefined {
  const w = a['wide-opts'] as string | undefined;
  if (w === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(w)) throw new DschedError('USAGE', `-wide:${w}: the width is a number of columns`);
  return Number(w);
}

/**
 * HTCondor options a command has no use for, each with the reason: refused with it (exit 2) rather than as an
 * unknown argument. `arg`: the option takes a value (a file name), which must not be read as a job or a user.
 */
export type RefusedOptions = Record<string, { arg?: boolean; why: string }>;

const REFUSED_POOL: RefusedOptions = {
  pool: {
    arg: true,
    why: ONE_POOL_ONLY,
  },
};

/** The yargs declarations of refused options: hidden from --help. */
function refusedOptions(refused: RefusedOptions): Record<never, never> {
  return Object.fromEntries(
    Object.entries(refused).map(([n, r]) => [n, { type: r.arg ? 'string' : 'boolean', hidden: true }]),
  ) as Record<never, never>;
}

/** A usage error for the first refused option given, naming why. */
function checkRefused(a: object, refused: RefusedOptions): void {
  for (const [n, r] of Object.entries(refused)) {
    const v = (a as Record<string, unknown>)[n];
    if (v !== undefined && v !== false) throw new DschedError('USAGE', `-${n}: ${r.why}`);
  }
}
