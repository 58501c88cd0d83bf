// Prometheus /metrics, computed from the mirror at scrape time: jobs and slots counted the way `dq -totals` and
// `dstatus -total` count them; figures that live in other daemons read from the ads they publish anyway
// (the Negotiator ad: cycles and matches; the Scheduler ad: calls served per method, queue commits, transfer
// bytes). A scrape makes no RPC, so it costs the same whatever the pool is doing.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { countSlots } from '../../cli/shared/output/slots.js';
import { literalValue, type JobMirror } from './job-mirror.js';

/** JobStatus → the state dq -totals counts it in (transferring output counts as running). */
export const STATE_OF: Record<number, string> = {
  1: 'idle',
  2: 'running',
  3: 'removed',
  4: 'completed',
  5: 'held',
  6: 'running',
  7: 'suspended',
};
const DAG_STATES = ['Done', 'Failed', 'Futile', 'Running', 'Idle', 'Ready', 'Unready', 'Pre', 'Post'] as const;

/** An ad's attributes as the JS values they spell (the mirror keeps ClassAd expression text). */
const lookup = (ad: Record<string, string>) => ({
  lookupJS: (n: string) => (ad[n] === undefined ? undefined : literalValue(ad[n]!)),
});

function num(ad: Record<string, string> | undefined, name: string): number {
  const v = ad?.[name] === undefined ? NaN : Number(literalValue(ad[name]!));
  return Number.isFinite(v) ? v : 0;
}

export class Metrics {
  readonly registry = new Registry();
  readonly webRpc: Histogram<'method' | 'ok'>;
  constructor(mirror: JobMirror) {
    const r = this.registry;
    new Gauge({
      name: 'dsched_jobs',
      help: 'Jobs in the queue by state and owner (as dq -totals counts them)',
      labelNames: ['state', 'owner'],
      registers: [r],
      collect() {
        this.reset();
        for (const [k, n] of mirror.tally) {
          const [status, owner] = k.split('\0') as [string, string];
          this.inc({ state: STATE_OF[Number(status)] ?? 'unknown', owner }, n);
        }
      },
    });
    new Gauge({
      name: 'dsched_slots',
      help: 'Slots by state (as dstatus -total counts them); state="total" is every slot',
      labelNames: ['state'],
      registers: [r],
      collect() {
        this.reset();
        const { total } = countSlots(mirror.adsOf('Machine').map(lookup));
        for (const [state, n] of Object.entries(total)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'dsched_dag_nodes',
      help: 'Nodes of the DAGs in the queue by state (the DAG_Nodes* attributes of each DAG job)',
      labelNames: ['dag', 'state'],
      registers: [r],
      collect() {
        this.reset();
        for (const key of mirror.dagJobs) {
          const j = mirror.jobs.get(key);
          if (!j) continue;
          for (const s of DAG_STATES)
            this.set(
              { dag: `${j.cluster}.${j.proc}`, state: s.toLowerCase() },
              Number(j.attrs[`DAG_Nodes${s}`] ?? 0) || 0,
            );
        }
      },
    });
    const negotiator = () => mirror.adsOf('Negotiator')[0];
    const schedd = () => mirror.adsOf('Scheduler')[0];
    const fromAd = (name: string, help: string, ad: () => Record<string, string> | undefined, attr: string) =>
      new Counter({
        name,
        help,
        registers: [r],
        collect() {
          this.reset();
          this.inc(num(ad(), attr));
        },
      });
    fromAd(
      'dsched_negotiation_cycles_total',
      'Negotiation cycles run (Negotiator ad)',
      negotiator,
      'NegotiationCycles',
    );
    fromAd(
      'dsched_negotiation_cycle_seconds_total',
      'Seconds spent in negotiation cycles (Negotiator ad)',
      negotiator,
      'NegotiationCycleSecondsTotal',
    );
    fromAd(
      'dsched_negotiation_matches_total',
      'Matches made by the negotiator (Negotiator ad)',
      negotiator,
      'NegotiationMatchesTotal',
    );
    new Gauge({
      name: 'dsched_negotiation_last_cycle_seconds',
      help: 'Duration of the last negotiation cycle (LastNegotiationCycleDuration0)',
      registers: [r],
      collect() {
        this.set(num(negotiator(), 'LastNegotiationCycleDuration0'));
      },
    });
    fromAd(
      'dsched_queue_commits_total',
      'Transactions of job state changes the schedd wrote (Scheduler ad)',
      schedd,
      'QueueCommits',
    );
    fromAd(
      'dsched_queue_commit_seconds_total',
      'Seconds the schedd spent writing them (Scheduler ad)',
      schedd,
      'QueueCommitSecondsTotal',
    );
    new Counter({
      name: 'dsched_transfer_bytes_total',
      help: 'File transfer bytes of the schedd: upload = input sent to startds, download = output fetched (Scheduler ad)',
      labelNames: ['direction'],
      registers: [r],
      collect() {
        this.reset();
        this.inc({ direction: 'upload' }, num(schedd(), 'FileTransferUploadBytes'));
        this.inc({ direction: 'download' }, num(schedd(), 'FileTransferDownloadBytes'));
      },
    });
    const perMethod = (suffix: 'Count' | 'SecondsTotal') =>
      function (this: Counter<'method'>) {
        this.reset();
        const ad = schedd() ?? {};
        for (const k of Object.keys(ad)) {
          const m = /^Rpc(\w+?)(Count|SecondsTotal)$/.exec(k);
          if (m && m[2] === suffix) this.inc({ method: m[1]! }, num(ad, k));
        }
      };
    new Counter({
      name: 'dsched_schedd_rpc_calls_total',
      help: 'Calls the schedd served, by method (Scheduler ad)',
      labelNames: ['method'],
      registers: [r],
      collect: perMethod('Count'),
    });
    new Counter({
      name: 'dsched_schedd_rpc_seconds_total',
      help: 'Seconds the schedd spent serving them, by method (Scheduler ad)',
      labelNames: ['method'],
      registers: [r],
      collect: perMethod('SecondsTotal'),
    });
    this.webRpc = new Histogram({
      name: 'dsched_web_rpc_seconds',
      help: 'Latency of the RPCs the web daemon made, by method',
      labelNames: ['method', 'ok'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [r],
    });
    new Gauge({
      name: 'dsched_web_sse_clients',
      help: 'Browsers following /v1/events',
      registers: [r],
      collect() {
        this.set(mirror.subscribers);
      },
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
