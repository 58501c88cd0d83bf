// The worker side of engine.ts: runs inputs [start, end) of one target, tells the main thread which input is
// running (a shared array: index, start time) and reports crashes (minimized, first of each kind) and slow inputs.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { GRAMMAR_TARGETS, batchInputs, minimize, runOne } from './engine.js';

const { target, seed, start, end, slowMs, shared: buf, known } = workerData as {
  target: string;
  seed: number;
  start: number;
  end: number;
  slowMs: number;
  shared: SharedArrayBuffer;
  known: string[];
};
const t = GRAMMAR_TARGETS[target]!;
const shared = new Float64Array(buf);
const seen = new Set(known);
const slowest = { ms: 0, index: -1 };
const BATCH = 500;

let i = start;
while (i < end) {
  const batch = Math.floor(i / BATCH);
  const inputs = batchInputs(t, seed, batch);
  for (; i < end && i < (batch + 1) * BATCH; i++) {
    const input = inputs[i % BATCH]!;
    shared[1] = Date.now();
    shared[0] = i;
    const t0 = performance.now();
    const o = runOne(t, input);
    const ms = performance.now() - t0;
    shared[0] = -1;
    if (ms > slowest.ms) Object.assign(slowest, { ms, index: i });
    if (ms > slowMs) parentPort!.postMessage({ type: 'slow', index: i, ms });
    if (!o.ok) {
      const first = !seen.has(o.signature);
      seen.add(o.signature);
      parentPort!.postMessage({
        type: 'crash',
        index: i,
        signature: o.signature,
        message: o.message,
        input: first ? minimize(t, input, o.signature) : undefined,
      });
    }
  }
  parentPort!.postMessage({ type: 'progress', done: i, slowest });
}
parentPort!.postMessage({ type: 'done', done: i, slowest });
