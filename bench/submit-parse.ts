// Time to parse and expand a `queue 100000` submit file into a JobSet (target < 1 s).
// Run: node --import tsx bench/submit-parse.ts
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { expandSubmit, loadSubmit, type SubmitInput } from '../grammar/submit/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dsched-bench-'));
const exe = join(dir, 'job.sh');
writeFileSync(exe, '#!/bin/sh\necho "$@"\n');
chmodSync(exe, 0o755);

const cases: Array<{ name: string; text: string }> = [
  {
    name: 'queue 100000, nothing per proc',
    text: `universe = vanilla\nexecutable = job.sh\narguments = "a b c"\noutput = out.txt\nlog = job.log\nrequest_memory = 1GB\nqueue 100000\n`,
  },
  {
    name: 'queue 100000, $(Cluster).$(Process) in output/error/arguments',
    text:
      `universe = vanilla\nexecutable = job.sh\narguments = "--cluster=$(Cluster) --proc=$(Process)"\n` +
      `output = out.$(Cluster).$(Process)\nerror = err.$(Cluster).$(Process)\nlog = job.log\n` +
      `environment = "A=1 B=2"\nrequest_cpus = 1\nrequest_memory = 512M\n+Project = "bench"\nqueue 100000\n`,
  },
  {
    name: 'queue from 100000 inline rows (2 vars)',
    text:
      `executable = job.sh\narguments = "$(a) $(b)"\noutput = out.$(ItemIndex)\nqueue a,b from (\n` +
      Array.from({ length: 100000 }, (_, i) => `x${i}, y${i}`).join('\n') +
      `\n)\n`,
  },
];

const input = (text: string): SubmitInput => ({
  file: join(dir, 'bench.sub'),
  text,
  cwd: dir,
  env: { HOME: dir, PATH: '/usr/bin:/bin' },
  owner: 'bench',
  hostname: 'bench.example',
});

for (const c of cases) {
  // one warm-up run, then the best of three
  let best = Infinity;
  let bestCpu = Infinity;
  let procs = 0;
  for (let run = 0; run < 4; run++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const plan = loadSubmit(input(c.text));
    const { jobs } = expandSubmit(plan, 1234);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    procs = jobs.procs.length;
    if (run > 0) {
      best = Math.min(best, ms);
      bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1000);
    }
  }
  console.log(
    `${c.name}: ${procs} procs parsed and expanded in ${best.toFixed(0)} ms wall, ${bestCpu.toFixed(0)} ms CPU (best of 3; target < 1000 ms)`,
  );
}
rmSync(dir, { recursive: true, force: true });
