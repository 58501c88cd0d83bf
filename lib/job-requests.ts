// What a job asks of a slot, read the same way by the negotiator (when it splits a partitionable slot) and
// by the startd (when it carves the dynamic slot): one definition, so the two can never disagree.
export interface Resources {
  cpus: number;
  /** MB */
  memory: number;
  /** KB */
  disk: number;
  /**
   * Countable machine resources beyond the three above, by their advertised name: GPUs (detected or
   * configured) and MACHINE_RESOURCE_<name> ones. A job asks for them with Request<name>.
   */
  custom?: Record<string, number>;
}

/** Defaults for a job that does not say (dsubmit always writes all three). */
export const DEFAULT_REQUESTS: Resources = { cpus: 1, memory: 1024, disk: 1024 };

/** The standard resources, which every slot has; anything else a slot lists in MachineResources is custom. */
export const STANDARD_RESOURCES = ['Cpus', 'Memory', 'Disk'];

/** The custom resource names a slot ad lists in its MachineResources attribute ("Cpus Memory Disk GPUs"). */
export function customResourceNames(machineResources: unknown): string[] {
  if (typeof machineResources !== 'string') return [];
  const std = new Set(STANDARD_RESOURCES.map((s) => s.toLowerCase()));
  return machineResources.split(/[\s,]+/).filter((n) => n && !std.has(n.toLowerCase()));
}

/** What the job asks for; `custom` names the custom resources the slot offers (Request<name> each). */
export function jobRequests(lookup: (attr: string) => unknown, custom: readonly string[] = []): Resources {
  const num = (n: string, d: number) => {
    const v = lookup(n);
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.ceil(v) : d;
  };
  const r: Resources = {
    cpus: Math.max(1, num('RequestCpus', DEFAULT_REQUESTS.cpus)),
    // at least 1 MB: a slot's memory is its job's limit, and a slot of 0 MB had none (the job could take the
    // whole machine's memory from the other slots' jobs, and any number of such slots fitted)
    memory: Math.max(1, num('RequestMemory', DEFAULT_REQUESTS.memory)),
    disk: num('RequestDisk', DEFAULT_REQUESTS.disk),
  };
  for (const name of custom) {
    const n = num(`Request${name}`, 0);
    if (n > 0) (r.custom ??= {})[name] = n;
  }
  return r;
}

/** How many jobs asking `req` fit into `free` (at least 0). */
export function fitCount(req: Resources, free: Resources): number {
  let n = Math.floor(free.cpus / Math.max(1, req.cpus));
  if (req.memory > 0) n = Math.min(n, Math.floor(free.memory / req.memory));
  if (req.disk > 0) n = Math.min(n, Math.floor(free.disk / req.disk));
  for (const [name, want] of Object.entries(req.custom ?? {})) {
    if (want > 0) n = Math.min(n, Math.floor((free.custom?.[name] ?? 0) / want));
  }
  return Math.max(0, n);
}

/** Take `n` times `req` out of `free` (the caller checked it fits). */
export function takeResources(free: Resources, req: Resources, n = 1): void {
  free.cpus -= n * req.cpus;
  free.memory -= n * req.memory;
  free.disk -= n * req.disk;
  for (const [name, want] of Object.entries(req.custom ?? {})) {
    free.custom ??= {};
    free.custom[name] = (free.custom[name] ?? 0) - n * want;
  }
}

/** Give `req` back to `free`. */
export function giveResources(free: Resources, req: Resources): void {
  takeResources(free, req, -1);
}

/** "cpus=1 memory=128MB disk=1024KB GPUs=1", for messages. */
export function describeResources(r: Resources): string {
  const custom = Object.entries(r.custom ?? {})
    .map(([k, v]) => ` ${k}=${v}`)
    .join('');
  return `cpus=${r.cpus} memory=${r.memory}MB disk=${r.disk}KB${custom}`;
}
