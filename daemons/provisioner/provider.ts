// What the provisioner asks of a place that can start execute hosts (HTCondor's annex, a glidein factory,
// Slurm's ResumeProgram/SuspendProgram): start some hosts, stop one, list what it started. A provider
// knows nothing of demand or timeouts; the provisioner decides, the provider only does.

/** One execute host a provider started: `host` is the pool host name its startd joins as (the CN of the
 *  certificate it gets with its join token, and the `Machine` of its slot ads). */
export interface HostHandle {
  /** The provider's own id for it (a namespace, a Slurm job id, a pod name). */
  id: string;
  host: string;
  provider: string;
  /** Epoch seconds it was asked for. */
  started: number;
}

/** What a new host needs to join the pool: where the collector is and a one-time join token. */
export interface JoinSpec {
  collector: string;
  token: string;
}

export interface Provider {
  readonly name: string;
  /** Start `joins.length` execute hosts, one per join token; returns the handles of those that started. */
  start(joins: JoinSpec[]): Promise<HostHandle[]>;
  /** Stop a host (its startd gets SIGTERM: it evicts what still runs, which the schedd runs again). */
  stop(handle: HostHandle): Promise<void>;
  /** The hosts this provider still has (a host that ended by itself, as a Slurm allocation does, is gone). */
  list(): Promise<HostHandle[]>;
}

/** Extra config lines for every provisioned host: `NAME = value` parts separated by `;`. */
export function hostConfigLines(spec: string): string[] {
  const out: string[] = [];
  for (const part of spec.split(';')) {
    const m = /^\s*([A-Za-z_]\w*)\s*=\s*(.*?)\s*$/.exec(part);
    // a value with a newline would smuggle another knob into the host's config
    if (m && !/[\r\n]/.test(m[2]!)) out.push(`${m[1]} = ${m[2]}`);
  }
  return out;
}

/** Single-quote a word for sh (pilot scripts, pod commands). */
export const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
