// What dq -analyze needs from the pool besides the job: every slot ad (collector) and the fair-share
// priorities (negotiator's GetPriorities, at the MyAddress of its Negotiator ad). Priorities are best effort:
// the analysis is printed without them, saying why, when the negotiator cannot be asked.
import { ClassAd, isTrue, parseExpr } from '../../grammar/classad/index.js';
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

/** Which slots and priorities an analysis uses (condor_q -machine, -mconstraint, -nouserprios). */
export interface PoolChoice {
  /** Only the slots of this Name (slot1@host) or Machine (host). */
  machine?: string;
  /** Only the slots for which this ClassAd expression is true. */
  mconstraint?: string;
  /** false: the negotiator is not asked; the analysis says fair share was left out. */
  priorities?: boolean;
}

export async function fetchPoolForAnalysis(
  session: Pick<Session, 'collector' | 'negotiator'>,
  choice: PoolChoice = {},
): Promise<PoolForAnalysis> {
  // parsed before anything is asked: a syntax error is the user's to fix, with its caret
  const only = choice.mconstraint === undefined ? undefined : parseExpr(choice.mconstraint);
  const collector = await session.collector();
  const slotRecs = await collector.query('Machine');
  const slots = slotRecs
    .map((r) => ClassAd.fromRecord(r))
    .filter(
      (s) =>
        (choice.machine === undefined ||
          s.lookupJS('Name') === choice.machine ||
          s.lookupJS('Machine') === choice.machine) &&
        (only === undefined || isTrue(s.evalExpr(only))),
    )
    .sort((x, y) => String(x.lookupJS('Name')).localeCompare(String(y.lookupJS('Name')), 'en', { numeric: true }));
  if (choice.priorities === false) return { slots, prioritiesError: 'not asked: -nouserprios' };
  return { slots, ...(await priorities(session)) };
}
