// What dq -analyze needs from the pool besides the job: every slot ad (collector) and the fair-share
// priorities (negotiator's GetPriorities, at the MyAddress of its Negotiator ad). Priorities are best effort:
// the analysis is printed without them, saying why, when the negotiator cannot be asked.
import { ClassAd } from '../../grammar/classad/index.js';
import { loadSecret, signToken } from '../../lib/rpc/auth.js';
import { NegotiatorClient } from '../../lib/rpc/clients/negotiator.js';
import type { PrioritiesReply__Output } from '../../lib/rpc/generated/dsched/v1/PrioritiesReply.js';
import type { SubmitterPriority } from './analyze.js';
import type { Session } from './session.js';

export interface PoolForAnalysis {
  slots: ClassAd[];
  priorities?: SubmitterPriority[];
  prioritiesError?: string;
}

/**
 * A token for the negotiator. The Session keeps its token to itself, so this signs one the same way when the
 * pool secret is readable (the pool's owner, root); other users get the analysis without priorities.
 * TODO(lead): a `Session.negotiator()` beside `collector()` would cover users who authenticate to the schedd.
 */
function negotiatorToken(session: Session): string | undefined {
  try {
    return signToken(loadSecret(session.config.paths.secret), { sub: `user:${session.user}`, ttl: 600 });
  } catch {
    return undefined;
  }
}

async function priorities(session: Session, negotiatorAds: ClassAd[]): Promise<Pick<PoolForAnalysis, 'priorities' | 'prioritiesError'>> {
  const address = negotiatorAds.map((a) => a.lookupJS('MyAddress')).find((v): v is string => typeof v === 'string' && v !== '');
  if (!address) return { prioritiesError: 'no negotiator is advertised in the collector' };
  const token = negotiatorToken(session);
  if (!token) return { prioritiesError: 'asking the negotiator needs the pool secret, which this user cannot read' };
  const client = new NegotiatorClient(address, () => token);
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
    return { prioritiesError: `the negotiator at ${address} did not answer: ${(e as Error).message}` };
  } finally {
    client.close();
  }
}

export async function fetchPoolForAnalysis(session: Session): Promise<PoolForAnalysis> {
  const collector = await session.collector();
  const [slotRecs, negRecs] = await Promise.all([collector.query('Machine'), collector.query('Negotiator')]);
  const slots = slotRecs
    .map((r) => ClassAd.fromRecord(r))
    .sort((x, y) => String(x.lookupJS('Name')).localeCompare(String(y.lookupJS('Name')), 'en', { numeric: true }));
  return { slots, ...(await priorities(session, negRecs.map((r) => ClassAd.fromRecord(r)))) };
}
