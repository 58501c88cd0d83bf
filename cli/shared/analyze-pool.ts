// What dq -analyze needs from the pool besides the job: every slot ad (collector) and the fair-share
// priorities (negotiator's GetPriorities, at the MyAddress of its Negotiator ad). Priorities are best effort:
// the analysis is printed without them, saying why, when the negotiator cannot be asked.
import { ClassAd } from '../../grammar/classad/index.js';
import type { PrioritiesReply__Output } from '../../lib/rpc/generated/dsched/v1/PrioritiesReply.js';
import type { SubmitterPriority } from './analyze.js';
import type { Session } from './session.js';

export interface PoolForAnalysis {
  slots: ClassAd[];
  priorities?: SubmitterPriority[];
  prioritiesError?: string;
}

async function priorities(
  session: Pick<Session, 'negotiator'>,
): Promise<Pick<PoolForAnalysis, 'priorities' | 'prioritiesError'>> {
  let client;
  try {
    client = await session.negotiator();
  } catch (e) {
    return { prioritiesError: (e as Error).message };
  }
  try {
    // a short deadline: the priorities are a side note, a negotiator that does not answer must not stall dq
    const r = await client.rpc.unary<PrioritiesReply__Output>('GetPriorities', {}, { deadlineMs: 5_000 });
    return {
      priorities: r.submitters.map((s) => ({
        name: s.name,
        effectivePriority: Number(s.effective_priority),
        realPriority: Number(s.real_priority),
        priorityFactor: Number(s.priority_factor),
        resourcesInUse: Number(s.resources_in_use),
      })),
    };
  } catch (e) {
    return { prioritiesError: `the negotiator at ${client.rpc.address} did not answer: ${(e as Error).message}` };
  }
}

export async function fetchPoolForAnalysis(
  session: Pick<Session, 'collector' | 'negotiator'>,
): Promise<PoolForAnalysis> {
  const collector = await session.collector();
  const slotRecs = await collector.query('Machine');
  const slots = slotRecs
    .map((r) => ClassAd.fromRecord(r))
    .sort((x, y) => String(x.lookupJS('Name')).localeCompare(String(y.lookupJS('Name')), 'en', { numeric: true }));
  return { slots, ...(await priorities(session)) };
}
