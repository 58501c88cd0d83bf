// dq -autocluster: the schedd's autoclusters (queue.ts groups the idle jobs by the attributes that decide where
// they can run) as ads: AutoClusterId, JobCount and the significant attributes' values. A caller sees what a
// job query would show them: only the jobs its ids, owners and constraint select, the constraint blind to other
// users' private attributes, and those attributes left out of other users' autoclusters.
import { performance } from 'node:perf_hooks';
import { DschedError } from '../../lib/errors.js';
import type { Identity } from '../../lib/rpc/auth.js';
import type { JobQuery__Output } from '../../lib/rpc/generated/dsched/v1/JobQuery.js';
import {
  cpuMs,
  jobMatcher,
  privateSet,
  seesPrivate,
  tooExpensive,
  turn,
  type QueryOptions,
  type QueryPage,
} from './query.js';
import { jobKey, type Autocluster, type Job, type JobQueue } from './queue.js';

const PAGE_ADS = 1000;
const SLICE_MS = 10;

/** Whether a job is one the ids name (every job, with none): whole clusters, or single procs. */
function idFilter(ids: JobQuery__Output['ids']): ((j: Job) => boolean) | undefined {
  if (!ids.length) return undefined;
  const whole = new Set<number>();
  const procs = new Set<string>();
  for (const i of ids) {
    if (Number(i.proc) < 0) whole.add(Number(i.cluster));
    else procs.add(jobKey(Number(i.cluster), Number(i.proc)));
  }
  return (j) => whole.has(j.cluster) || procs.has(jobKey(j.cluster, j.proc));
}

/** The significant attributes of an autocluster, as its key holds them: [name, ClassAd text] ('' = not set). */
function significantOf(ac: Autocluster): Array<[string, string]> {
  return (JSON.parse(ac.key) as Array<[string, string]>).filter(([, text]) => text !== '');
}

/**
 * Run an autocluster query, handing each page of ads to `send`; the last page is empty with `last`. Member jobs
 * are counted a slice at a time, under the query budget (QUERY_CPU_LIMIT), as a job query is.
 */
export async function runAutoclusterQuery(
  queue: JobQueue,
  opts: QueryOptions,
  req: JobQuery__Output,
  call: { identity: Identity; cancelled: () => boolean },
  send: (page: QueryPage) => Promise<void> | void,
): Promise<void> {
  const { identity, cancelled } = call;
  if (req.history) throw new DschedError('USAGE', 'autoclusters group queued jobs: the history has none');
  const m = jobMatcher(queue, { owners: req.owners, constraint: req.constraint }, identity, opts);
  const named = idFilter(req.ids);
  const owners = new Set(req.owners);
  const plain = !named && !m.constraint;
  const wanted = req.projection.length ? new Set(req.projection.map((n) => n.toLowerCase())) : undefined;
  const hidden = privateSet(opts);
  const limitMs = Math.max(1, opts.cpuLimitSec()) * 1000;
  let spent = 0;
  let sent = 0;
  let page: QueryPage = { ads: [], last: false };
  let t0 = performance.now();
  let c0 = cpuMs();
  const slice = async () => {
    spent += cpuMs() - c0;
    if (spent > limitMs) throw tooExpensive(m.constraint, opts);
    if (page.ads.length) await send(page);
    page = { ads: [], last: false };
    await turn();
    t0 = performance.now();
    c0 = cpuMs();
  };
  // those of the query's start, in id order; one emptied or regrouped meanwhile (addSignificant) is skipped
  for (const ac of [...queue.autoclusters.values()]) {
    if (req.limit > 0 && sent >= req.limit) break;
    if (queue.autoclusters.get(ac.id) !== ac) continue;
    let count = 0;
    // by owner alone (a plain dq -autocluster): Owner is significant, so an autocluster's jobs are all its owner's
    if (plain) count = !owners.size || owners.has(ac.owner) ? ac.idle.size : 0;
    else
      for (const j of ac.idle) {
        if ((!named || named(j)) && m.test(j)) count++;
        if (performance.now() - t0 > SLICE_MS) {
          await slice();
          if (cancelled()) return;
        }
      }
    if (!count) continue;
    const open = seesPrivate(identity, ac.owner);
    const attrs: Record<string, string> = {};
    const put = (name: string, text: string) => {
      if (!wanted || wanted.has(name.toLowerCase())) attrs[name] = text;
    };
    put('AutoClusterId', String(ac.id));
    put('JobCount', String(count));
    for (const [name, text] of significantOf(ac)) if (open || !hidden.has(name.toLowerCase())) put(name, text);
    page.ads.push({ attrs });
    sent++;
    if (page.ads.length >= PAGE_ADS || performance.now() - t0 > SLICE_MS) {
      await slice();
      if (cancelled()) return;
    }
  }
  spent += cpuMs() - c0;
  if (spent > limitMs) throw tooExpensive(m.constraint, opts);
  if (page.ads.length) await send(page);
  await send({ ads: [], last: true });
}
