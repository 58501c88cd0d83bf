// Layered configuration: built-in defaults → /etc/dsched/config → $DSCHED_HOME/config → DSCHED_<NAME>
// environment → explicit overrides. Every value remembers where it came from (`dsched config NAME -v`).
// Files use HTCondor's macro syntax: `NAME = value`, `#` comments, `\` continuation, $(NAME) expansion.
import { existsSync, readFileSync } from 'node:fs';
import { DschedError, SourceError } from '../errors.js';
import { PARAMS, type ParamInfo, type ParamName } from './params.js';
import { poolPaths, resolveHome, type PoolPaths } from './paths.js';

export interface ConfigValue {
  raw: string;
  source: string;
  /** The name as its file or the environment spells it (`MACHINE_RESOURCE_GPUs`): some names carry a resource name. */
  name?: string;
  /** The line of its file that set it (a file's layer only). */
  line?: number;
}

/** Where a value came from, as a message names it: its file and line, or its layer. */
export const whereFrom = (v: ConfigValue) => (v.line ? `${v.source}:${v.line}` : v.source);

interface Layer {
  source: string;
  entries: Map<string, string>;
  /** the line each entry of a file is on */
  lines?: Map<string, number>;
}

const SYSTEM_CONFIG = '/etc/dsched/config';

export class Config {
  readonly paths: PoolPaths;
  private values = new Map<string, ConfigValue>();
  /** Where this configuration was read from, so `reload()` can read it again. */
  loadOptions: LoadOptions = {};

  constructor(home: string, layers: Layer[]) {
    this.paths = poolPaths(home);
    this.apply(layers);
  }

  private apply(layers: Layer[]) {
    const values = new Map<string, ConfigValue>();
    for (const [name, info] of Object.entries(PARAMS)) values.set(name, { raw: info.default, source: 'default' });
    for (const layer of layers)
      for (const [k, v] of layer.entries)
        values.set(k.toUpperCase(), { raw: v, source: layer.source, name: k, line: layer.lines?.get(k) });
    this.values = values;
  }

  /**
   * Every number knob read as its daemons will read it: one that is not a whole number in its range throws
   * CONFIG_INVALID naming its file and line. A live edit is taken only when this passes: a daemon that read
   * `NEGOTIATOR_INTERVAL = abc` on its next use died, and its master restarted it into the same death.
   */
  check(): void {
    for (const [name, info] of Object.entries(PARAMS) as Array<[ParamName, ParamInfo]>)
      if (['int', 'size-kb', 'size-mb'].includes(info.type) && this.values.get(name)?.source !== 'default')
        this.int(name);
  }

  /** The files this configuration reads (for watching). */
  files(): string[] {
    const env = this.loadOptions.env ?? process.env;
    return [env.DSCHED_CONFIG ?? SYSTEM_CONFIG, this.paths.config];
  }

  /**
   * Read the files again, in place (everyone holding this Config sees the new values). Returns the names
   * whose values changed. A file with a syntax error, a number knob that is none (`check`), or what the
   * caller's own `check` refuses (a daemon's ClassAd knobs) leaves the old values and throws.
   */
  reload(check?: (c: Config) => void): string[] {
    const old = this.values;
    const before = new Map([...this.values].map(([k, v]) => [k, v.raw]));
    this.apply(readLayers(this.paths.home, this.loadOptions));
    try {
      this.check();
      check?.(this);
    } catch (e) {
      this.values = old;
      throw e;
    }
    const changed = new Set<string>();
    for (const [k, v] of this.values) if (before.get(k) !== v.raw) changed.add(k);
    for (const k of before.keys()) if (!this.values.has(k)) changed.add(k);
    return [...changed].sort();
  }

  /** The raw (macro-expanded) text of a knob, with where it came from. */
  lookup(name: string): ConfigValue | undefined {
    const v = this.values.get(name.toUpperCase());
    if (!v) return undefined;
    return { raw: this.expand(v.raw, new Set([name.toUpperCase()])), source: v.source, name: v.name, line: v.line };
  }

  names(): string[] {
    return [...this.values.keys()].sort();
  }

  private expand(text: string, seen: Set<string>): string {
    return text.replace(/\$\(([A-Za-z_][\w.]*)\)/g, (_m, n: string) => {
      const key = n.toUpperCase();
      if (key === 'DSCHED_HOME') return this.paths.home;
      if (seen.has(key)) throw new DschedError('CONFIG_INVALID', `config macro $(${n}) refers to itself`);
      const v = this.values.get(key);
      return v ? this.expand(v.raw, new Set([...seen, key])) : '';
    });
  }

  str(name: ParamName): string {
    return this.lookup(name)?.raw.trim() ?? '';
  }

  int(name: ParamName): number {
    const info: ParamInfo = PARAMS[name];
    const v = this.lookup(name)!;
    const n = info.type === 'size-mb' || info.type === 'size-kb' ? parseSize(v.raw, info.type) : Number(v.raw.trim());
    if (!Number.isFinite(n) || !Number.isInteger(n))
      throw new DschedError('CONFIG_INVALID', `${name} = ${v.raw} (from ${whereFrom(v)}) is not a whole number`);
    if ((info.min !== undefined && n < info.min) || (info.max !== undefined && n > info.max))
      throw new DschedError(
        'CONFIG_INVALID',
        `${name} = ${n} (from ${whereFrom(v)}) is outside ${info.min ?? '-∞'}..${info.max ?? '∞'}`,
      );
    return n;
  }

  bool(name: ParamName): boolean {
    const v = this.str(name).toLowerCase();
    return v === 'true' || v === '1' || v === 'yes';
  }

  list(name: ParamName): string[] {
    return this.str(name)
      .split(/[\s,]+/)
      .filter(Boolean);
  }
}

/** Sizes as HTCondor writes them: a bare number is in the knob's unit; K/M/G/T suffixes convert. */
export function parseSize(text: string, unit: 'size-mb' | 'size-kb'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*$/i.exec(text);
  if (!m) return NaN;
  const n = Number(m[1]);
  const kb = { '': unit === 'size-mb' ? 1024 : 1, k: 1, m: 1024, g: 1024 ** 2, t: 1024 ** 3 }[m[2]!.toLowerCase()]!;
  return unit === 'size-mb' ? Math.ceil((n * kb) / 1024) : Math.ceil(n * kb);
}

export function parseConfigText(text: string, file: string): Map<string, string> {
  return parseConfigFile(text, file).entries;
}

/** A configuration file's entries, and the line each is on. */
function parseConfigFile(text: string, file: string): Layer {
  const out = new Map<string, string>();
  const at = new Map<string, number>();
  const spelled = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!;
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const m = /^([A-Za-z_][\w.]*)\s*=\s*(.*)$/.exec(t);
    if (!m) {
      const col = line.length - line.trimStart().length + 1;
      throw new SourceError('CONFIG_INVALID', 'expected `NAME = value`', { file, line: lineNo, column: col }, line);
    }
    // names are case-insensitive, but the spelling is kept (MACHINE_RESOURCE_GPUs names the resource GPUs)
    const key = m[1]!.toUpperCase();
    const before = spelled.get(key);
    if (before !== undefined) out.delete(before);
    spelled.set(key, m[1]!);
    out.set(m[1]!, m[2]!);
    at.set(m[1]!, lineNo);
  }
  return { source: file, entries: out, lines: at };
}

export interface LoadOptions {
  home?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Record<string, string>;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const home = opts.home ?? resolveHome(opts.env ?? process.env);
  const c = new Config(home, readLayers(home, opts));
  c.loadOptions = opts;
  return c;
}

function readLayers(home: string, opts: LoadOptions): Layer[] {
  const env = opts.env ?? process.env;
  const layers: Layer[] = [];
  const sys = env.DSCHED_CONFIG ?? SYSTEM_CONFIG;
  for (const file of [sys, poolPaths(home).config]) {
    if (existsSync(file)) layers.push(parseConfigFile(readFileSync(file, 'utf8'), file));
  }
  const envEntries = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || !k.startsWith('DSCHED_')) continue;
    const name = k.slice('DSCHED_'.length);
    if (name === 'HOME' || name === 'CONFIG') continue;
    envEntries.set(name, v);
  }
  layers.push({ source: 'environment', entries: envEntries });
  if (opts.overrides) layers.push({ source: 'command line', entries: new Map(Object.entries(opts.overrides)) });
  return layers;
}
