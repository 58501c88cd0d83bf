// Runs a grammar target over `count` generated inputs in a child process, so that an input that hangs or kills
// the process can be named (the parent watches the time the current input has taken and starts a new child after it).
// Inputs are replayed from (seed, index): a finding names both, and `--seed S --start I --count 1` reruns it.
import { createHash } from 'node:crypto';
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { ROOT } from './corpus.js';
import { isTypedError, signature, type FuzzInput, type Target } from './target.js';
import { classadTarget } from './targets/classad.js';
import { dagTarget } from './targets/dag.js';
import { pbsTarget } from './targets/pbs.js';
import { submitTarget } from './targets/submit.js';

export const GRAMMAR_TARGETS: Record<string, Target> = {
  classad: classadTarget,
  submit: submitTarget,
  pbs: pbsTarget,
  dag: dagTarget,
};

export const FINDINGS_DIR = join(ROOT, 'test', 'fuzz', 'findings');
const BATCH = 500;

const arbitraries = new Map<string, fc.Arbitrary<FuzzInput>>();
function arbitraryOf(t: Target): fc.Arbitrary<FuzzInput> {
  let a = arbitraries.get(t.name);
  if (!a) arbitraries.set(t.name, (a = t.arbitrary()));
  return a;
}

/** The inputs of one batch (every input of a run is in exactly one batch, generated from the seed alone). */
export function batchInputs(t: Target, seed: number, batch: number): FuzzInput[] {
  return fc.sample(arbitraryOf(t), { seed: (seed * 1_000_003 + batch) | 0, numRuns: BATCH });
}

export function inputAt(t: Target, seed: number, index: number): FuzzInput {
  return batchInputs(t, seed, Math.floor(index / BATCH))[index % BATCH]!;
}

export type Outcome = { ok: true } | { ok: false; signature: string; message: string; stack?: string };

/** Run one input and classify what happened: a typed error is a refusal, anything else thrown is a crash. */
export function runOne(t: Target, input: FuzzInput): Outcome {
  try {
    t.run(input);
    return { ok: true };
  } catch (e) {
    if (isTypedError(e)) return { ok: true };
    const err = e as Error;
    return { ok: false, signature: signature(e), message: String(err?.message ?? e).slice(0, 2000), stack: err?.stack };
  }
}

/** Shrink a crashing input while it crashes the same way (delta debugging on lines, then on characters). */
export function minimize(t: Target, input: FuzzInput, sig: string, budgetMs = 5_000): FuzzInput {
  const deadline = performance.now() + budgetMs;
  const same = (x: FuzzInput) => {
    const o = runOne(t, x);
    return !o.ok && o.signature === sig;
  };
  let best = input;
  if (best.args?.length && same({ text: best.text })) best = { text: best.text };
  for (const unit of ['\n', ''] as const) {
    let parts = unit === '\n' ? best.text.split('\n') : [...best.text];
    let chunk = Math.max(1, Math.floor(parts.length / 2));
    while (chunk >= 1 && performance.now() < deadline) {
      let removed = false;
      for (let i = 0; i < parts.length && performance.now() < deadline;) {
        const cand = [...parts.slice(0, i), ...parts.slice(i + chunk)];
        const x = { ...best, text: cand.join(unit) };
        if (cand.length < parts.length && same(x)) {
          parts = cand;
          best = x;
          removed = true;
        } else i += chunk;
      }
      if (!removed) chunk = Math.floor(chunk / 2);
    }
  }
  return best;
}

export interface CrashReport {
  target: string;
  seed: number;
  index: number;
  signature: string;
  message: string;
  /** file holding the (minimized) reproducer */
  file?: string;
  kind: 'throw' | 'hang' | 'died' | 'slow';
  stack?: string;
  ms?: number;
}

export interface TargetReport {
  target: string;
  ran: number;
  crashes: number;
  /** distinct crash signatures, each with its first reproducer */
  distinct: CrashReport[];
  slowest: { ms: number; index: number; preview: string };
  slowCount: number;
  wallMs: number;
  /** gRPC: times the pool was stopped from outside and started again */
  restarts?: number;
}

export function writeFinding(
  t: { name: string; ext: string },
  input: FuzzInput | Buffer,
  info: Omit<CrashReport, 'file'>,
): string {
  mkdirSync(FINDINGS_DIR, { recursive: true });
  const id = createHash('sha256').update(info.signature).digest('hex').slice(0, 10);
  const base = join(FINDINGS_DIR, `${t.name}-${info.kind}-${id}`);
  const bytes = Buffer.isBuffer(input);
  writeFileSync(`${base}.${t.ext}`, bytes ? input : input.text);
  const extra = bytes ? { length: input.length } : { args: input.args, length: input.text.length };
  writeFileSync(`${base}.json`, JSON.stringify({ ...info, ...extra }, null, 2) + '\n');
  return `${base}.${t.ext}`;
}

export const preview = (s: string, n = 100) =>
  JSON.stringify(s.length > n ? s.slice(0, n) + '…' : s) + (s.length > n ? ` (${s.length} chars)` : '');

export interface RunOptions {
  count: number;
  seed: number;
  start?: number;
  /** an input slower than this is a finding */
  slowMs: number;
  /** an input still running after this is a hang: the worker is stopped and restarted after it */
  hangMs: number;
  /** write reproducers under FINDINGS_DIR */
  write: boolean;
  onProgress?: (done: number) => void;
}

type WorkerMsg =
  | { type: 'crash'; index: number; signature: string; message: string; stack?: string; input?: FuzzInput }
  | { type: 'slow'; index: number; ms: number }
  | { type: 'progress'; done: number; slowest: { ms: number; index: number } }
  | { type: 'done'; done: number; slowest: { ms: number; index: number } };

/**
 * Run a grammar target in a child process with a hang watchdog. A child process, not a thread: a V8 fatal
 * error (an array or string past V8's limits) ends the whole process, and must end only the child. The child
 * writes the index of the input it is running (and when it started it) into a small file with a plain
 * write per input, so the parent knows which input hung or killed it.
 */
export async function runTarget(name: string, opts: RunOptions): Promise<TargetReport> {
  const t = GRAMMAR_TARGETS[name]!;
  const t0 = performance.now();
  const end = (opts.start ?? 0) + opts.count;
  const report: TargetReport = {
    target: name,
    ran: 0,
    crashes: 0,
    distinct: [],
    slowest: { ms: 0, index: -1, preview: '' },
    slowCount: 0,
    wallMs: 0,
  };
  const seen = new Set<string>();
  let next = opts.start ?? 0;
  const record = (c: CrashReport, input?: FuzzInput) => {
    report.crashes++;
    if (seen.has(c.signature)) return;
    seen.add(c.signature);
    if (opts.write && input) c.file = writeFinding(t, input, c);
    report.distinct.push(c);
  };
  const scratch = mkdtempSync(join(tmpdir(), 'dsched-fuzz-'));
  const currentFile = join(scratch, 'current');
  const current = (): { index: number; since: number } => {
    try {
      const b = readFileSync(currentFile);
      return b.length >= 16 ? { index: b.readDoubleLE(0), since: b.readDoubleLE(8) } : { index: -1, since: 0 };
    } catch {
      return { index: -1, since: 0 };
    }
  };
  try {
    while (next < end) {
      writeFileSync(currentFile, Buffer.alloc(16));
      const child = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], {
        // the CLIs' and daemons' stack; a heap cap so that a blow-up is a finding rather than the machine's problem
        execArgv: ['--import', 'tsx', '--max-old-space-size=2048'],
        env: {
          ...process.env,
          DSCHED_FUZZ_JOB: JSON.stringify({
            target: name,
            seed: opts.seed,
            start: next,
            end,
            slowMs: opts.slowMs,
            current: currentFile,
            known: [...seen],
          }),
        },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
      const result = await new Promise<{ stoppedAt?: number; why?: string; done: number }>((resolve) => {
        let done = next;
        let finished = false;
        const watch = setInterval(() => {
          const c = current();
          if (c.index >= 0 && c.since > 0 && Date.now() - c.since > opts.hangMs) {
            clearInterval(watch);
            finished = true;
            child.kill('SIGKILL');
            resolve({ stoppedAt: c.index, why: `still running after ${opts.hangMs} ms`, done: c.index });
          }
        }, 100);
        child.on('message', (m: WorkerMsg) => {
          if (m.type === 'crash') {
            record(
              {
                target: name,
                seed: opts.seed,
                index: m.index,
                signature: m.signature,
                message: m.message,
                stack: m.stack,
                kind: 'throw',
              },
              m.input,
            );
          } else if (m.type === 'slow') {
            report.slowCount++;
            record(
              {
                target: name,
                seed: opts.seed,
                index: m.index,
                signature: `slow input (${name}) #${m.index}`,
                message: `took ${m.ms.toFixed(0)} ms`,
                kind: 'slow',
                ms: m.ms,
              },
              inputAt(t, opts.seed, m.index),
            );
          } else {
            done = m.done;
            if (m.slowest.ms > report.slowest.ms)
              report.slowest = { ms: m.slowest.ms, index: m.slowest.index, preview: '' };
            opts.onProgress?.(done - (opts.start ?? 0));
            if (m.type === 'done') finished = true;
          }
        });
        child.on('exit', (code, signal) => {
          clearInterval(watch);
          if (finished) return resolve({ done });
          const c = current();
          resolve({
            stoppedAt: c.index >= 0 ? c.index : done,
            why: `the process died (${signal ?? `exit ${code}`}): ${stderr.split('\n').find((l) => /error/i.test(l)) ?? stderr.slice(0, 200)}`,
            done,
          });
        });
      });
      if (result.stoppedAt !== undefined) {
        const input = inputAt(t, opts.seed, result.stoppedAt);
        const hang = result.why!.startsWith('still');
        record(
          {
            target: name,
            seed: opts.seed,
            index: result.stoppedAt,
            signature: `${hang ? 'hang' : 'process died'} (${name}) #${result.stoppedAt}`,
            message: result.why!,
            kind: hang ? 'hang' : 'died',
            ms: hang ? opts.hangMs : undefined,
          },
          input,
        );
        if (hang && opts.hangMs > report.slowest.ms)
          report.slowest = { ms: opts.hangMs, index: result.stoppedAt, preview: '' };
        next = result.stoppedAt + 1;
      } else next = result.done;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  report.ran = end - (opts.start ?? 0);
  if (report.slowest.index >= 0) report.slowest.preview = preview(inputAt(t, opts.seed, report.slowest.index).text);
  report.wallMs = performance.now() - t0;
  return report;
}
