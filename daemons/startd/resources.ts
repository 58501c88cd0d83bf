// What the startd finds out about its machine beyond cpus, memory and disk, once at start:
// - custom resources (HTCondor's MACHINE_RESOURCE_<name>): a count (`MACHINE_RESOURCE_Licenses = 4`, fungible)
//   or a list of ids (`MACHINE_RESOURCE_GPUs = GPU-0a1b, GPU-2c3d`, each id handed to one dynamic slot at a
//   time), or the output of a command (MACHINE_RESOURCE_INVENTORY_<name> printing `Detected<name>=…`);
// - GPUs from `nvidia-smi` when nothing configures them and the command exists;
// - KFlops and Mips from a short floating-point and integer loop;
// - the cpu load of the jobs (CondorLoadAvg), smoothed from readings of their cpu time.
// Everything here either returns data or throws a CONFIG_INVALID DschedError naming the knob and its source.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Config } from '../../lib/config/load.js';
import { DschedError } from '../../lib/errors.js';
import { STANDARD_RESOURCES } from '../../lib/job-requests.js';
import type { Logger } from '../../lib/log.js';

/** One custom resource of the machine, as the partitionable slot advertises it. */
export interface CustomResource {
  /** As advertised and asked for (`GPUs` → `RequestGPUs`, `TotalGPUs`, `AssignedGPUs`). */
  name: string;
  count: number;
  /** The ids when the resource is a list of things (GPUs); absent for a fungible count. */
  ids?: string[];
  /** Where it came from, for the log: `MACHINE_RESOURCE_GPUs (from /home/x/config)`, `nvidia-smi`. */
  source: string;
  /** More slot attributes about it (GPUs_DeviceName, GPUs_GlobalMemoryMb), as ClassAd expression text. */
  properties?: Record<string, string>;
}

const PREFIX = 'MACHINE_RESOURCE_';
const INVENTORY = 'MACHINE_RESOURCE_INVENTORY_';
const RESERVED = new Set([...STANDARD_RESOURCES, 'Swap', 'Slot', 'Names'].map((n) => n.toLowerCase()));
/** An id is a word without separators or quotes: GPU-0a1b, CUDA0, fpga0, /dev/nvidia0, 0000:3b:00.0. */
const ID = /^[A-Za-z0-9_.:/+@-]+$/;
const NUMBERISH = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** GPUs are spelled `GPUs` whatever the case in the knob name (RequestGPUs, TotalGPUs as HTCondor spells them). */
export function canonicalResourceName(name: string): string {
  return name.toLowerCase() === 'gpus' ? 'GPUs' : name;
}

function configError(message: string, hint?: string): DschedError {
  return new DschedError('CONFIG_INVALID', message, hint ? { hint } : {});
}

/**
 * The value of MACHINE_RESOURCE_<name> (or of a Detected<name> line): a whole number is a count, anything else a
 * list of ids separated by commas and/or spaces. `knob` and `source` name it in errors.
 */
export function parseResourceValue(knob: string, raw: string, source: string): { count: number; ids?: string[] } {
  const text = raw.trim();
  const where = `${knob} = ${raw.trim()} (from ${source})`;
  if (/^\d+$/.test(text)) {
    const count = Number(text);
    if (!Number.isSafeInteger(count)) throw configError(`${where}: the count is too large`);
    return { count };
  }
  if (NUMBERISH.test(text))
    throw configError(
      `${where}: a count must be a whole number of 0 or more`,
      'write a count (MACHINE_RESOURCE_Licenses = 4) or a list of ids (MACHINE_RESOURCE_GPUs = GPU-0a1b, GPU-2c3d)',
    );
  const ids = text.split(/[\s,]+/).filter(Boolean);
  const seen = new Set<string>();
  for (const id of ids) {
    if (!ID.test(id))
      throw configError(
        `${where}: ${JSON.stringify(id)} is not a resource id (letters, digits and . _ - : / + @ only)`,
        'ids are separated by commas or spaces and carry no quotes',
      );
    if (seen.has(id)) throw configError(`${where}: the id ${id} is listed twice`);
    seen.add(id);
  }
  return { count: ids.length, ids };
}

function checkName(name: string, knob: string, source: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw configError(
      `${knob} (from ${source}): "${name}" is not a resource name (a letter or _, then letters, digits or _)`,
    );
  if (RESERVED.has(name.toLowerCase()))
    throw configError(`${knob} (from ${source}): ${name} is a standard resource; set it with NUM_CPUS, MEMORY or DISK`);
}

export interface ConfiguredResources {
  /** MACHINE_RESOURCE_<name> entries with a count or ids. */
  resources: CustomResource[];
  /** MACHINE_RESOURCE_INVENTORY_<name> commands, to run. */
  inventories: Array<{ name: string; command: string; source: string }>;
  /** Whether the configuration says anything about GPUs (then nvidia-smi is not asked). */
  gpusConfigured: boolean;
}

/** The custom resources the configuration declares (nothing is run here). */
export function configuredResources(config: Config): ConfiguredResources {
  const only = new Set(config.list('MACHINE_RESOURCE_NAMES').map((n) => n.toLowerCase()));
  const out: ConfiguredResources = { resources: [], inventories: [], gpusConfigured: false };
  const byName = new Map<string, string>();
  for (const upper of config.names()) {
    if (!upper.startsWith(PREFIX) || upper === 'MACHINE_RESOURCE_NAMES') continue;
    const v = config.lookup(upper)!;
    const knob = v.name ?? upper;
    const inventory = upper.startsWith(INVENTORY);
    const name = canonicalResourceName(knob.slice((inventory ? INVENTORY : PREFIX).length));
    checkName(name, knob, v.source);
    if (only.size && !only.has(name.toLowerCase())) continue;
    const other = byName.get(name.toLowerCase());
    if (other) throw configError(`${knob} (from ${v.source}) and ${other} both define the resource ${name}: keep one`);
    byName.set(name.toLowerCase(), knob);
    if (name === 'GPUs') out.gpusConfigured = true;
    if (!v.raw.trim()) continue;
    if (inventory) out.inventories.push({ name, command: v.raw.trim(), source: `${knob} (from ${v.source})` });
    else {
      const parsed = parseResourceValue(knob, v.raw, v.source);
      if (parsed.count > 0) out.resources.push({ name, ...parsed, source: `${knob} (from ${v.source})` });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Commands: nvidia-smi and inventory scripts. Both are bounded by a timeout and may be absent.

/** Where `cmd` is on PATH, or undefined. */
export function findOnPath(cmd: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * What `run` has started and not seen end, killed when the startd ends: stopped while its benchmarks ran (at
 * its start, before its own shutdown handlers), the loop went on without it, a process of the pool outliving
 * `dsched stop`. A stop signal kills them and is then taken as it would have been without this listener.
 */
const running = new Set<ReturnType<typeof execFile>>();
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
function killRunning(): void {
  for (const child of running) child.kill('SIGKILL');
}
function onStopSignal(signal: NodeJS.Signals): void {
  killRunning();
  forget();
  // the daemon's own shutdown handler, once there, took it too
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
function forget(): void {
  for (const signal of STOP_SIGNALS) process.removeListener(signal, onStopSignal);
  process.removeListener('exit', killRunning);
}
function track(child: ReturnType<typeof execFile>): void {
  if (running.size === 0) {
    for (const signal of STOP_SIGNALS) process.on(signal, onStopSignal);
    process.on('exit', killRunning);
  }
  running.add(child);
}
function untrack(child: ReturnType<typeof execFile>): void {
  if (running.delete(child) && running.size === 0) forget();
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        untrack(child);
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean };
          const why = e.killed
            ? `did not finish in ${timeoutMs} ms`
            : `${e.message.split('\n')[0]}${stderr ? `: ${String(stderr).trim().split('\n')[0]}` : ''}`;
          reject(new Error(why));
        } else resolve(stdout);
      },
    );
    track(child);
  });
}

export const NVIDIA_SMI_ARGS = ['--query-gpu=index,uuid,name,memory.total', '--format=csv,noheader'];

/** HTCondor's short GPU id: `GPU-` and the first 8 hex digits of the uuid (CUDA accepts a unique prefix). */
export function shortGpuId(uuid: string): string {
  const m = /^GPU-([0-9a-f]{8})/i.exec(uuid.trim());
  return m ? `GPU-${m[1]!.toLowerCase()}` : uuid.trim();
}

/** `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader` output → the GPUs resource. */
export function parseNvidiaSmi(text: string): CustomResource | undefined {
  const gpus: Array<{ index: number; id: string; name: string; memoryMb?: number }> = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split(',').map((s) => s.trim());
    if (f.length < 4 || !/^\d+$/.test(f[0]!) || !/^GPU-/i.test(f[1]!)) continue;
    const mem = /^(\d+)\s*MiB$/i.exec(f[f.length - 1]!);
    gpus.push({
      index: Number(f[0]),
      id: shortGpuId(f[1]!),
      name: f.slice(2, -1).join(', '),
      memoryMb: mem ? Number(mem[1]) : undefined,
    });
  }
  if (!gpus.length) return undefined;
  gpus.sort((a, b) => a.index - b.index);
  let ids = gpus.map((g) => g.id);
  // two uuids sharing their first 8 digits: fall back to the full uuids
  if (new Set(ids).size !== ids.length)
    ids = text
      .split('\n')
      .map((l) => l.split(',')[1]?.trim() ?? '')
      .filter((u) => /^GPU-/i.test(u));
  const properties: Record<string, string> = {};
  if (gpus.every((g) => g.name === gpus[0]!.name)) properties.GPUs_DeviceName = JSON.stringify(gpus[0]!.name);
  const mems = gpus.map((g) => g.memoryMb);
  if (mems.every((m) => m !== undefined && m === mems[0])) properties.GPUs_GlobalMemoryMb = String(mems[0]);
  return { name: 'GPUs', count: ids.length, ids, source: 'nvidia-smi', properties };
}

/** Ask nvidia-smi when it is on PATH; undefined when it is absent, fails or finds nothing. */
export async function detectGpus(log: Logger, timeoutMs = 5_000): Promise<CustomResource | undefined> {
  const smi = findOnPath('nvidia-smi');
  if (!smi) {
    log.debug('no nvidia-smi on PATH: no GPUs detected');
    return undefined;
  }
  const t0 = performance.now();
  try {
    const gpus = parseNvidiaSmi(await run(smi, NVIDIA_SMI_ARGS, timeoutMs));
    log.info(
      { command: smi, gpus: gpus?.ids ?? [], durationMs: Math.round(performance.now() - t0) },
      gpus ? 'GPUs detected' : 'nvidia-smi found no GPUs',
    );
    return gpus;
  } catch (e) {
    log.warn({ command: smi, err: (e as Error).message }, 'GPU detection failed: no GPUs advertised');
    return undefined;
  }
}

/** The `Detected<name>=…` line of an inventory command's output (other lines are ignored). */
export function parseInventoryOutput(name: string, text: string, source: string): { count: number; ids?: string[] } {
  const want = `detected${name.toLowerCase()}`;
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_]\w*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || m[1]!.toLowerCase() !== want) continue;
    let value = m[2]!;
    if (/^".*"$/.test(value)) value = value.slice(1, -1);
    return parseResourceValue(`Detected${name}`, value, source);
  }
  throw configError(
    `${source} printed no Detected${name} = … line`,
    `the command must print Detected${name}=N or Detected${name}="id1, id2"`,
  );
}

/**
 * Every custom resource of this machine: the configured ones, the inventory commands' (run once, bounded),
 * and GPUs from nvidia-smi when the configuration does not name GPUs and STARTD_DETECT_GPUS is true.
 */
export async function detectCustomResources(
  config: Config,
  log: Logger,
  timeoutMs = 10_000,
): Promise<CustomResource[]> {
  const c = configuredResources(config);
  const out = [...c.resources];
  for (const inv of c.inventories) {
    let text: string;
    try {
      text = await run('/bin/sh', ['-c', inv.command], timeoutMs);
    } catch (e) {
      throw configError(`${inv.source}: the command failed: ${(e as Error).message}`);
    }
    const parsed = parseInventoryOutput(inv.name, text, inv.source);
    if (parsed.count > 0) out.push({ name: inv.name, ...parsed, source: inv.source });
  }
  const only = config.list('MACHINE_RESOURCE_NAMES').map((n) => n.toLowerCase());
  if (!c.gpusConfigured && config.bool('STARTD_DETECT_GPUS') && (!only.length || only.includes('gpus'))) {
    const gpus = await detectGpus(log);
    if (gpus) out.push(gpus);
  }
  for (const r of out) log.info({ resource: r.name, count: r.count, ids: r.ids, source: r.source }, 'custom resource');
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Ids handed to dynamic slots

/** The ids of one resource: handed out lowest first (in inventory order), given back exactly. */
export class IdInventory {
  private readonly order: Map<string, number>;
  private readonly free: Set<string>;

  constructor(
    readonly name: string,
    readonly ids: readonly string[],
  ) {
    this.order = new Map(ids.map((id, i) => [id, i]));
    this.free = new Set(ids);
  }

  get freeCount(): number {
    return this.free.size;
  }

  /** The free ids, in inventory order. */
  freeIds(): string[] {
    return this.ids.filter((id) => this.free.has(id));
  }

  /** Take `n` ids (the caller checked the count); throws when fewer are free. */
  take(n: number): string[] {
    if (n > this.free.size)
      throw new DschedError(
        'CLAIM_REFUSED',
        `only ${this.free.size} of ${this.ids.length} ${this.name} free, asked ${n}`,
      );
    const got = this.freeIds().slice(0, n);
    for (const id of got) this.free.delete(id);
    return got;
  }

  /** Give ids back; an id this inventory does not have, or that is already free, is a bug and throws. */
  give(ids: readonly string[]): void {
    for (const id of ids) {
      if (!this.order.has(id))
        throw new DschedError('INTERNAL', `${id} is not one of the ${this.name} of this machine`);
      if (this.free.has(id)) throw new DschedError('INTERNAL', `${this.name} ${id} was given back twice`);
    }
    for (const id of ids) this.free.add(id);
  }
}

/** The value of CUDA_VISIBLE_DEVICES for these GPU ids: HTCondor strips a `CUDA` prefix (CUDA0 → 0); uuids stay. */
export function cudaVisibleDevices(ids: readonly string[]): string {
  return ids.map((id) => id.replace(/^CUDA(?=\d+$)/, '')).join(',');
}

// ---------------------------------------------------------------------------------------------------------------
// Benchmarks: once at start, well under a second together

export interface Benchmarks {
  /** Thousands of floating-point operations per second. */
  kflops: number;
  /** Millions of integer operations per second. */
  mips: number;
  durationMs: number;
}

// The loops, as the text of a function of the target time that returns the operations per ms of each: they
// run in a node process of their own (`node -e`), with V8's optimizing compiler, which the startd itself does
// without (lib/node-flags.ts): run in the startd they would time its baseline compiler, not the machine. Each
// loop is timed on a growing count until one run takes the target time; its results are summed into the
// answer so that it cannot be optimised away.
const BENCHMARK_LOOPS = `(targetMs) => {
  const floatLoop = (n) => {
    let s = 0;
    let x = 0.5;
    for (let i = 0; i < n; i++) {
      s = s * 0.9999999 + x; // 2 flops
      x = x * 1.0000001 - 1e-9; // 2 flops
    }
    return s + x;
  };
  const intLoop = (n) => {
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < n; i++) {
      h = (h ^ i) | 0; // xor
      h = Math.imul(h, 16777619); // multiply
      h = (h + (h >>> 7)) | 0; // shift, add
    }
    return h;
  };
  let sink = 0;
  const measure = (loop) => {
    let n = 20000;
    sink ^= loop(n) | 0; // warm up the JIT
    for (;;) {
      const t0 = performance.now();
      sink ^= loop(n) | 0;
      const ms = performance.now() - t0;
      if (ms >= targetMs || n >= 1 << 30) return n / Math.max(ms, 1e-3);
      n = ms > 1 ? Math.ceil((n * targetMs * 1.1) / ms) : n * 8;
    }
  };
  const t0 = performance.now();
  return { flopsPerMs: measure(floatLoop), opsPerMs: measure(intLoop), ms: performance.now() - t0, sink };
}`;
const FLOPS_PER_ITERATION = 4;
const INT_OPS_PER_ITERATION = 4;

interface LoopRates {
  flopsPerMs: number;
  opsPerMs: number;
  ms: number;
}

/**
 * KFlops and Mips as HTCondor advertises them (whole numbers), from ~2 × `targetMs` of looping in a node
 * process of its own; in this one (slower figures) only when none can be started.
 */
export async function runBenchmarks(targetMs = 60): Promise<Benchmarks> {
  const program = `process.stdout.write(JSON.stringify((${BENCHMARK_LOOPS})(${Number(targetMs)})))`;
  let rates: LoopRates;
  try {
    rates = JSON.parse(await run(process.execPath, ['-e', program], 60_000)) as LoopRates;
  } catch {
    rates = (new Function(`return ${BENCHMARK_LOOPS}`)() as (ms: number) => LoopRates)(targetMs);
  }
  return {
    kflops: Math.max(1, Math.round(rates.flopsPerMs * FLOPS_PER_ITERATION)), // per ms × 1000 / 1000
    mips: Math.max(1, Math.round((rates.opsPerMs * INT_OPS_PER_ITERATION) / 1000)),
    durationMs: Math.round(rates.ms),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CondorLoadAvg: the cpus the jobs use, smoothed over a minute like the kernel's load average. The readings
// (cumulative cpu seconds per job) come from whoever already measures the jobs' processes (policy.ts reads
// /proc once per STARTER_UPDATE_INTERVAL for every job), so no second pass over /proc is made here.

/** Per job (keyed by its launcher handle): cpus in use, averaged over about a minute. */
export class JobLoad<K = unknown> {
  private last = new Map<K, { cpu: number; at: number }>();
  private avg = new Map<K, number>();
  private recorded = false;

  /** Whether any reading ever arrived: until then the load is unknown (not advertised). */
  get measured(): boolean {
    return this.recorded;
  }

  /** A reading: the job's cumulative user+system cpu seconds at `now` (ms, monotonic). */
  record(job: K, cpuSeconds: number, now = performance.now()): void {
    this.recorded = true;
    const before = this.last.get(job);
    this.last.set(job, { cpu: cpuSeconds, at: now });
    if (!before || now <= before.at) return; // first sight: no interval to divide by yet
    const dt = (now - before.at) / 1000;
    const load = Math.max(0, cpuSeconds - before.cpu) / dt;
    const decay = Math.exp(-dt / 60);
    this.avg.set(job, (this.avg.get(job) ?? 0) * decay + load * (1 - decay));
  }

  /** The job is gone. */
  forget(job: K): void {
    this.last.delete(job);
    this.avg.delete(job);
  }

  /** Forget every job but these (the running ones). */
  retain(jobs: ReadonlySet<K>): void {
    for (const g of [...this.last.keys(), ...this.avg.keys()]) if (!jobs.has(g)) this.forget(g);
  }

  of(job: K): number {
    return this.avg.get(job) ?? 0;
  }

  total(): number {
    let s = 0;
    for (const v of this.avg.values()) s += v;
    return s;
  }
}
