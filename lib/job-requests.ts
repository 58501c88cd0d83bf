// What a job asks of a slot, read the same way by the negotiator (when it splits a partitionable slot) and
// by the startd (when it carves the dynamic slot): one definition, so the two can never disagree.
export interface Resources {
  cpus: number;
  /** MB */
  memory: number;
  /** KB */
  disk: number;
}

/** Defaults for a job that does not say (dsubmit always writes all three). */
export const DEFAULT_REQUESTS: Resources = { cpus: 1, memory: 128, disk: 1024 };

export function jobRequests(lookup: (attr: string) => unknown): Resources {
  const num = (n: string, d: number) => {
    const v = lookup(n);
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.ceil(v) : d;
  };
  return {
    cpus: Math.max(1, num('RequestCpus', DEFAULT_REQUESTS.cpus)),
    memory: num('RequestMemory', DEFAULT_REQUESTS.memory),
    disk: num('RequestDisk', DEFAULT_REQUESTS.disk),
  };
}
