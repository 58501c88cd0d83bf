// Reading Schedd.WatchJobs changes: a change names one job, or (asked for with WatchJobsRequest.spans) the
// procs of one cluster that changed alike, as spans, so that a drm or a `queue 1000000` is a few messages.
import type { JobChange__Output } from './generated/dsched/v1/JobChange.js';

/** The procs a change tells of: its id's, or each proc of its spans. */
export function* procsOf(c: JobChange__Output): Generator<number> {
  if (!c.procs?.length) {
    yield Number(c.id?.proc);
    return;
  }
  for (const s of c.procs) for (let p = Number(s.first); p <= Number(s.last); p++) yield p;
}
