// The one reading of a job id on the command line, for every command that takes one: HTCondor's `12` (a
// cluster) and `12.3` (a job), and PBS's ids as dsubmit prints them (qsub's forms): `12.host` (a job),
// `12[].host` (an array: the whole cluster) and `12[4].host` (one subjob, by its array index); the host is
// optional. Nothing heavy is imported, so a command classifies its words before it loads anything.
import { DschedError } from '../../lib/errors.js';
import type { ScheddClient } from '../../lib/rpc/clients/schedd.js';

/** A job as a command names it: `proc` -1 is the whole cluster; `index` a PBS subjob, by its array index. */
export interface JobIdSpec {
  cluster: number;
  proc: number;
  index?: number;
}

/** What a job id may look like, as every command's error says it. */
export const JOB_ID_FORMS = "cluster, cluster.proc, or PBS's cluster.host, cluster[].host, cluster[index].host";

const CONDOR_ID = /^(\d{1,15})(?:\.(\d{1,9}))?$/;
const PBS_ID = /^(\d{1,15})(?:\[(\d{0,9})\])?(?:\.[A-Za-z][\w.-]*)?$/;

/** A job id, or undefined when `word` is none. */
export function parseJobId(word: string): JobIdSpec | undefined {
  const m = CONDOR_ID.exec(word);
  if (m) return { cluster: Number(m[1]), proc: m[2] === undefined ? -1 : Number(m[2]) };
  const p = PBS_ID.exec(word);
  if (!p) return undefined;
  const cluster = Number(p[1]);
  // `12.host` (a job that is no array: its one proc) and `12[].host` (the array) are the cluster
  return p[2] ? { cluster, proc: -1, index: Number(p[2]) } : { cluster, proc: -1 };
}

/** The usage error for a word that is no job id (`orElse`: what else the command would have taken). */
export function notAJobId(word: string, orElse?: string): DschedError {
  const w = JSON.stringify(word.length > 80 ? `${word.slice(0, 77)}...` : word);
  return new DschedError(
    'USAGE',
    orElse ? `${w} is neither a job id (${JOB_ID_FORMS}) nor ${orElse}` : `${w} is not a job id (${JOB_ID_FORMS})`,
  );
}

/**
 * The jobs `specs` name, with each PBS subjob (`12[4]`) found as its proc (its `PbsArrayIndex`), in the queue
 * or else in the history; a subjob that is in neither is JOB_NOT_FOUND.
 */
export async function resolveSubjobs(
  schedd: Pick<ScheddClient, 'query'>,
  specs: readonly JobIdSpec[],
): Promise<Array<{ cluster: number; proc: number }>> {
  const out: Array<{ cluster: number; proc: number }> = [];
  for (const s of specs) {
    if (s.index === undefined) {
      out.push({ cluster: s.cluster, proc: s.proc });
      continue;
    }
    const q = {
      ids: [{ cluster: s.cluster, proc: -1 }],
      constraint: `PbsArrayIndex == ${s.index}`,
      projection: ['ProcId'],
    };
    const ad = (await schedd.query(q))[0] ?? (await schedd.query({ ...q, history: true, limit: 1 }))[0];
    if (!ad)
      throw new DschedError('JOB_NOT_FOUND', `job ${s.cluster}[${s.index}] is neither in the queue nor in the history`);
    out.push({ cluster: s.cluster, proc: Number(ad.ProcId) });
  }
  return out;
}
