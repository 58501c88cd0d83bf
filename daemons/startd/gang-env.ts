// What a chunk of a parallel job finds in its environment (docs/parallel.md): the schedd starts the first
// chunk with GangHosts, the host of every chunk (first chunk first); a rank started on another chunk by
// dsched-rank also carries its GangNodeNum.
import { join } from 'node:path';
import type { ClassAd } from '../../grammar/classad/index.js';

export interface GangLaunch {
  env: Record<string, string>;
  files: Record<string, string>;
}

/** The environment and files of one chunk of a parallel job; undefined for an ordinary job. */
export function gangLaunch(job: ClassAd, sandbox: string, caPath: string): GangLaunch | undefined {
  const hosts = job.lookupJS('GangHosts');
  if (
    !Array.isArray(hosts) ||
    !hosts.length ||
    !hosts.every((h) => typeof h === 'string' && /^[A-Za-z0-9._-]+$/.test(h))
  )
    return undefined;
  const num = Number(job.lookupJS('GangNodeNum') ?? 0);
  const node = Number.isInteger(num) && num >= 0 && num < hosts.length ? num : 0;
  // PBS's host list: each chunk's host once per MPI process of the chunk (mpirun -machinefile $PBS_NODEFILE)
  const perChunk = Math.max(1, Math.min(4096, Number(job.lookupJS('PbsMpiProcs')) || 1));
  const nodefile = join(sandbox, '.pbs_nodefile');
  const out: GangLaunch = {
    files: { '.pbs_nodefile': hosts.map((h) => `${h}\n`.repeat(perChunk)).join('') },
    env: {
      PBS_NODEFILE: nodefile,
      DSCHED_NODEFILE: nodefile,
      DSCHED_PROCNO: String(node),
      DSCHED_NPROCS: String(hosts.length),
      PBS_NODENUM: String(node),
    },
  };
  // the first chunk: where dsched-rank reaches the others, and the key that proves it is this job (the
  // sandbox is the owner's, as the chirp secret's file)
  const key = job.lookupJS('GangRankKey');
  const startds = job.lookupJS('GangStartds');
  if (
    node === 0 &&
    typeof key === 'string' &&
    /^[A-Za-z0-9_-]{16,}$/.test(key) &&
    Array.isArray(startds) &&
    startds.length === hosts.length &&
    startds.every((a) => typeof a === 'string' && /^[^\s]+$/.test(a))
  ) {
    out.files['.dsched_ranks'] = `${key} ${caPath}\n` + startds.map((a, i) => `${i} ${hosts[i]} ${a}\n`).join('');
    out.env.DSCHED_RANKS = join(sandbox, '.dsched_ranks');
  }
  return out;
}
