// The child side of engine.ts: runs inputs [start, end) of one target, writes the index of the running input
// and its start time into a file (one pwrite each, cheap and still there if the process dies), and reports
// crashes (minimized, the first of each kind) and slow inputs over IPC.
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { GRAMMAR_TARGETS, batchInputs, minimize, runOne } from './engine.js';

const job = JSON.parse(process.env.DSCHED_FUZZ_JOB ?? '{}') as {
  target: string;
  seed: number;
  start: number;
  end: number;
  slowMs: number;
  current: string;
  known: string[];
};
const t = GRAMMAR_TARGETS[job.target]!;
const seen = new Set(job.known);
const slowest = { ms: 0, index: -1 };
const BATCH = 500;
const fd = openSync(job.current, 'r+');
const mark = Buffer.alloc(16);
const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

let i = job.start;
while (i < job.end) {
  const batch = Math.floor(i / BATCH);
  const inputs = batchInputs(t, job.seed, batch);
  for (; i < job.end && i < (batch + 1) * BATCH; i++) {
    const input = inputs[i % BATCH]!;
    mark.writeDoubleLE(i, 0);
    mark.writeDoubleLE(Date.now(), 8);
    writeSync(fd, mark, 0, 16, 0);
    const t0 = performance.now();
    const o = runOne(t, input);
    let ms = performance.now() - t0;
    if (ms > job.slowMs) {
      // once more before calling it slow: on a shared machine one run can lose a second to the others
      const t1 = performance.now();
      runOne(t, input);
      ms = Math.min(ms, performance.now() - t1);
    }
    if (ms > slowest.ms) Object.assign(slowest, { ms, index: i });
    if (ms > job.slowMs) await send({ type: 'slow', index: i, ms });
    if (!o.ok) {
      const first = !seen.has(o.signature);
      seen.add(o.signature);
      await send({
        type: 'crash',
        index: i,
        signature: o.signature,
        message: o.message,
        stack: first ? o.stack : undefined,
        input: first ? minimize(t, input, o.signature) : undefined,
      });
    }
  }
  mark.writeDoubleLE(-1, 0);
  writeSync(fd, mark, 0, 16, 0);
  await send({ type: 'progress', done: i, slowest });
}
closeSync(fd);
await send({ type: 'done', done: i, slowest });
process.disconnect();
