// `npm run fuzz -- [--count N] [--seed S] [--only classad,submit,pbs,dag,grpc] [--start I] [--slow-ms MS] [--hang-ms MS]`
// Runs generated inputs through the grammars' public entry points and malformed gRPC messages at each daemon
// of a real personal pool; prints, per target, the inputs run, the crashes (reproducers under
// test/fuzz/findings/) and the slowest input. Exits 1 on a crash.
import { performance } from 'node:perf_hooks';
import { FINDINGS_DIR, GRAMMAR_TARGETS, runTarget, type CrashReport, type TargetReport } from './engine.js';

const argv = process.argv.slice(2);
function opt(name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i]!.includes('=') ? argv[i]!.slice(argv[i]!.indexOf('=') + 1) : argv[i + 1];
}
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(
    'usage: npm run fuzz -- [--count N] [--seed S] [--only classad,submit,pbs,dag,grpc] [--start I] [--slow-ms MS] [--hang-ms MS]',
  );
  process.exit(0);
}
const total = Number(opt('count') ?? 1_000_000);
const seed = Number(opt('seed') ?? Math.floor(Math.random() * 2 ** 31));
const only = (opt('only') ?? 'classad,submit,pbs,dag,grpc')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const start = Number(opt('start') ?? 0);
const slowMs = Number(opt('slow-ms') ?? 1000);
const hangMs = Number(opt('hang-ms') ?? 20_000);
for (const t of only)
  if (!(t in GRAMMAR_TARGETS) && t !== 'grpc') {
    console.error(`fuzz: unknown target '${t}' (expected classad, submit, pbs, dag, grpc)`);
    process.exit(2);
  }
if (!Number.isInteger(total) || total < 1 || !Number.isInteger(seed)) {
  console.error('fuzz: --count and --seed take whole numbers');
  process.exit(2);
}

// How the inputs are shared out: gRPC inputs are network round trips to a live pool, so they get 1%.
const WEIGHTS: Record<string, number> = { classad: 40, submit: 25, pbs: 15, dag: 19, grpc: 1 };
const sum = only.reduce((a, t) => a + WEIGHTS[t]!, 0);
const counts = Object.fromEntries(only.map((t) => [t, Math.max(1, Math.round((total * WEIGHTS[t]!) / sum))]));

console.log(`fuzz: seed ${seed}, ${total} inputs: ${only.map((t) => `${t} ${counts[t]}`).join(', ')}`);
const reports: TargetReport[] = [];
const t0 = performance.now();
for (const name of only) {
  if (name === 'grpc') {
    const { runGrpc } = await import('./grpc.js');
    reports.push(await runGrpc({ count: counts[name]!, seed, write: true, log: (s) => console.log(s) }));
  } else {
    let last = performance.now();
    reports.push(
      await runTarget(name, {
        count: counts[name]!,
        seed,
        start,
        slowMs,
        hangMs,
        write: true,
        onProgress: (done) => {
          if (performance.now() - last > 30_000) {
            last = performance.now();
            console.log(`  ${name}: ${done} / ${counts[name]}`);
          }
        },
      }),
    );
  }
  print(reports[reports.length - 1]!);
}

function print(r: TargetReport) {
  console.log(
    `\n${r.target}: ${r.ran} inputs in ${(r.wallMs / 1000).toFixed(1)} s, ${r.crashes} crash${r.crashes === 1 ? '' : 'es'}` +
      (r.slowCount ? ` (${r.slowCount} over ${slowMs} ms)` : ''),
  );
  console.log(`  slowest: ${r.slowest.ms.toFixed(1)} ms, input #${r.slowest.index}: ${r.slowest.preview}`);
  for (const c of r.distinct) console.log(`  ${describe(c)}`);
}

function describe(c: CrashReport): string {
  return `[${c.kind}] ${c.signature}\n      input #${c.index} (seed ${c.seed})${c.file ? ` → ${c.file}` : ''}\n      ${c.message.split('\n')[0]!.slice(0, 200)}`;
}

const crashes = reports.reduce((a, r) => a + r.crashes, 0);
const ran = reports.reduce((a, r) => a + r.ran, 0);
const slowest = reports.reduce((a, r) => (r.slowest.ms > a.slowest.ms ? r : a), reports[0]!);
console.log(
  `\nfuzz: ${ran} inputs, ${crashes} crash${crashes === 1 ? '' : 'es'}, slowest ${slowest.slowest.ms.toFixed(1)} ms (${slowest.target} #${slowest.slowest.index}), ${((performance.now() - t0) / 1000).toFixed(0)} s, seed ${seed}`,
);
if (crashes) console.log(`fuzz: reproducers in ${FINDINGS_DIR}`);
process.exit(crashes ? 1 : 0);
