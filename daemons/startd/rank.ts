// dsched-rank on the startd's side: a parallel job's other chunks are claims the schedd holds here without
// a job (daemons/schedd/gang.ts). The schedd's claim request carries the job's rank key and the chunk's
// number; the job's first chunk finds the key in its sandbox. A RunRank call that presents the key starts
// a process on that claim, as the job's owner, as a job of the claim: the startd tracks, kills and reports
// it like any job (the schedd ends the whole parallel job when it fails). Everything else is the caller's
// word and is distrusted: the key is compared in constant time, the arguments are bounded, the program is
// looked up by /usr/bin/env as the owner, and the output comes from the files the spawner opened, read
// again with the owner's rights (tail.ts).
import { timingSafeEqual } from 'node:crypto';
import { readSync, closeSync, fstatSync } from 'node:fs';
import { ClassAd, literal } from '../../grammar/classad/index.js';
import { joinV2Raw } from '../../grammar/submit/args-env.js';
import { DschedError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { RunRankRequest__Output } from '../../lib/rpc/generated/dsched/v1/RunRankRequest.js';
import type { RankOutput } from '../../lib/rpc/generated/dsched/v1/RankOutput.js';
import type { DynamicSlot } from './slots.js';
import { openJobOutput } from './tail.js';

/** What a claim held for a parallel job's chunk keeps from its claim request. */
export interface RankClaim {
  key: Buffer;
  node: number;
  ad: ClassAd;
}

const MAX_ARGS = 4096;
const MAX_ARG_BYTES = 256 * 1024;
const MAX_OUTPUT = 1 << 20;

/** The rank claim of a claim request's job ad (the schedd sets GangRankKey and GangNodeNum ≥ 1), or undefined. */
export function rankClaim(job: ClassAd): RankClaim | undefined {
  const key = job.lookupJS('GangRankKey');
  const node = job.lookupJS('GangNodeNum');
  if (typeof key !== 'string' || key.length < 16 || typeof node !== 'number' || !Number.isInteger(node) || node < 1)
    return undefined;
  return { key: Buffer.from(key), node, ad: job };
}

export interface RankDeps {
  slots: Iterable<DynamicSlot>;
  rankOf(claim: string): RankClaim | undefined;
  activate(claim: string, job: ClassAd): Promise<void>;
  log: Logger;
}

/** Start the rank the request names, wait for its end, and say how it ended with the end of its output. */
export async function runRank(req: RunRankRequest__Output, deps: RankDeps): Promise<RankOutput> {
  const key = Buffer.from(req.key ?? '');
  const args = req.args ?? [];
  let d: DynamicSlot | undefined;
  let rank: RankClaim | undefined;
  for (const s of deps.slots) {
    const r = deps.rankOf(s.claim);
    if (r && r.node === req.procno && r.key.length === key.length && timingSafeEqual(r.key, key)) {
      d = s;
      rank = r;
    }
  }
  if (!d || !rank)
    throw new DschedError(
      'PERMISSION_DENIED',
      'dsched-rank: no chunk of a parallel job here answers to that key and number (run it from inside the job)',
    );
  if (
    !args.length ||
    args.length > MAX_ARGS ||
    args.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0) > MAX_ARG_BYTES ||
    args.some((a) => a.includes('\0'))
  )
    throw new DschedError(
      'USAGE',
      `dsched-rank: give a program and at most ${MAX_ARGS} arguments (${MAX_ARG_BYTES} bytes)`,
    );
  if (d.job)
    throw new DschedError(
      'JOB_STATE',
      `dsched-rank: chunk ${rank.node} already runs a process of job ${d.job.cluster}.${d.job.proc}`,
    );
  // the job's own ad, running another program: no input files (a rank gets none, as pbsdsh's tasks), its
  // output in its sandbox for this call
  const ad = rank.ad.clone();
  ad.set('Cmd', literal('/usr/bin/env'));
  ad.delete('Args');
  ad.set('Arguments', literal(joinV2Raw(args)));
  ad.set('ShouldTransferFiles', literal('YES'));
  ad.set('TransferExecutable', literal(false));
  ad.delete('TransferInput');
  ad.set('In', literal('/dev/null'));
  await deps.activate(d.claim, ad);
  const job = d.job as NonNullable<DynamicSlot['job']> | undefined;
  if (!job) throw new DschedError('JOB_STATE', `dsched-rank: chunk ${rank.node} could not start`);
  deps.log.info({ cluster: job.cluster, proc: job.proc, node: rank.node, slot: d.name }, 'rank started (dsched-rank)');
  const o = await job.started.done;
  // read now: the sandbox goes once the schedd has the exit, which cannot happen before this turn ends
  const id = `${job.cluster}.${job.proc} (chunk ${rank.node})`;
  const out: RankOutput = {
    done: true,
    exit_code: o.exitCode,
    exit_by_signal: o.signal !== undefined,
    exit_signal: o.signal ?? 0,
    message: o.kind === 'exited' ? '' : (o.message ?? o.kind),
  };
  if (job.started.running) {
    out.stdout = tailOf(job, false, id, deps.log);
    out.stderr = tailOf(job, true, id, deps.log);
  }
  return out;
}

/** The last MiB of the rank's stdout (stderr), read as its owner from the file it was started with. */
function tailOf(job: NonNullable<DynamicSlot['job']>, stderr: boolean, id: string, log: Logger): Buffer {
  let fd: number;
  try {
    fd = openJobOutput(job, stderr, id, log);
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const size = Number(fstatSync(fd).size);
    const from = Math.max(0, size - MAX_OUTPUT);
    const buf = Buffer.alloc(size - from);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, from + n);
      if (!r) break;
      n += r;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
