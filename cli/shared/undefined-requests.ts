// A request that names an attribute the job does not define (`request_memory = lots`) is undefined, so
// `TARGET.Memory >= RequestMemory` is never true and the job waits for ever without a word. dsubmit warns
// about it and dq -analyze says it first. An expression that is a number at submit (HTCondor's
// `ifThenElse(MemoryUsage =!= undefined, …, 2048)`) or that reads the machine (TARGET.x) is fine.
import { ClassAd, referencedAttrs } from '../../grammar/classad/index.js';

/** RequestX → the submit command that sets it. */
const REQUESTS: Record<string, string> = {
  RequestCpus: 'request_cpus',
  RequestMemory: 'request_memory',
  RequestDisk: 'request_disk',
  RequestGPUs: 'request_gpus',
};

export interface UndefinedRequest {
  attr: string;
  command: string;
  text: string;
  /** the names the expression uses that the job does not define */
  missing: string[];
}

/** The requests of `job` that use names it does not define (nor any of `slots`, when the pool is known). */
export function undefinedRequests(job: ClassAd, slots?: readonly ClassAd[]): UndefinedRequest[] {
  const out: UndefinedRequest[] = [];
  for (const [attr, command] of Object.entries(REQUESTS)) {
    const e = job.get(attr);
    if (!e || e.kind === 'literal') continue;
    if (typeof job.lookupJS(attr) === 'number') continue;
    const refs = referencedAttrs(e);
    // an unscoped name the job lacks is looked up in the machine's ad
    const missing = [...refs.my, ...[...refs.unscoped].filter((n) => !slots?.some((s) => s.has(n)))].filter(
      (n) => !job.has(n),
    );
    if (missing.length) out.push({ attr, command, text: job.toRecord()[attr] ?? '', missing });
  }
  return out;
}

const EXAMPLE: Record<string, string> = { request_memory: '2GB', request_disk: '1GB' };

/** `known`: whether the machines' ads were looked at too (dq -analyze), or only the job's (dsubmit). */
export const undefinedRequestText = (u: UndefinedRequest, known: boolean) =>
  `${u.command} = ${u.text}: ${u.attr} uses ${u.missing.join(', ')}, which the job does not define${known ? ' nor any slot' : ''}; ` +
  `${known ? 'it is' : 'unless the machine defines it, it is'} undefined and no slot can match the job (give a size: ${u.command} = ${EXAMPLE[u.command] ?? '1'})`;
