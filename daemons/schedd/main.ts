// dsched schedd: the job queue of this host.
import { RepeatedFailure } from '../../lib/repeated-failure.js';
import { CollectorLink, daemonContext, onReconfig, onShutdown, serveDaemon } from '../../lib/daemon.js';
import { proto } from '../../lib/rpc/proto.js';
import { qualifiedName } from '../../lib/rpc/authz.js';
import type { KeyObject } from 'node:crypto';
import { loadTokenKey } from '../../lib/rpc/auth.js';
import { rpcStats } from '../../lib/rpc/server.js';
import { transferBytes } from '../../lib/transfer.js';
import { FsAuth, poolOwner } from './fs-auth.js';
import { JobQueue, lit, litValue } from './queue.js';
import { JobStatus } from '../../lib/job-status.js';
import { DagRunner } from './dag-runner.js';
import { Schedd } from './schedd.js';
import { QueuePolicy, readQueues } from './queue-policy.js';
import { scheddService } from './service.js';
import { type DB, isQueueDamaged, openQueueDb, setAsideDamagedQueue, storeError } from './store/db.js';
import { DAEMON_NO_RESTART, failedReasonFile } from '../../lib/daemons.js';
import { DschedError, type ErrorCode } from '../../lib/errors.js';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';

const ctx = daemonContext('schedd');
const { config, log } = ctx;
const name = qualifiedName(config.str('SCHEDD_NAME'), ctx.hostName);
const owner = poolOwner();
const isAdmin = (user: string) => user === owner || user === 'root' || config.list('QUEUE_SUPER_USERS').includes(user);

// user tokens are signed with the pool's token key (on the central host, ca/token.key); read when first needed
let key: KeyObject | undefined;
const tokenKey = () => (key ??= loadTokenKey(config.paths.ca.tokenKey));

/**
 * The queue from spool/job_queue.db. A damaged file (truncated, overwritten, not a database) stops the
 * schedd with one line naming it and what to do, and an exit its master does not restart: HTCondor's schedd
 * likewise refuses a corrupt job queue log, and the admin moves it aside. Starting empty on its own would
 * lose every user's jobs without a word; `dsched start -set-aside-damaged-queue` asks for that, once, and
 * the damaged file is kept.
 */
function openQueue(): { db: DB; queue: JobQueue } {
  const file = config.paths.jobQueue;
  const request = config.paths.setAsideDamagedQueue;
  const open = () => {
    let db: DB | undefined;
    try {
      db = openQueueDb(file);
      return { db, queue: new JobQueue(db) };
    } catch (e) {
      db?.close();
      throw storeError(e, `opening the job queue ${file}`);
    }
  };
  const asked = existsSync(request);
  let opened: { db: DB; queue: JobQueue };
  try {
    opened = open();
    if (asked) log.warn({ file }, 'asked to set a damaged job queue aside, but it is not damaged: nothing was moved');
  } catch (e) {
    if (e instanceof DschedError && e.code === 'QUEUE_TOO_NEW') refuseQueue(e.code, e.message);
    if (!isQueueDamaged(e)) throw e;
    if (!asked) refuseDamagedQueue(file, e as Error);
    const { movedTo, nextCluster } = setAsideDamagedQueue(file);
    opened = open();
    if (nextCluster) opened.queue.continueClusterIds(nextCluster);
    log.warn(
      { file, movedTo, nextCluster, err: (e as Error).message },
      'the damaged job queue was moved aside, as asked: this schedd starts with an empty queue',
    );
  }
  // the request is for one start: a queue damaged later is refused again
  if (asked) rmSync(request, { force: true });
  rmSync(failedReasonFile(config.paths.run, 'schedd'), { force: true });
  return opened;
}

function refuseDamagedQueue(file: string, e: Error): never {
  // SQLite's own words when it found the damage, else what the check before opening found
  const found = e.cause instanceof Error ? `SQLite: ${e.cause.message}` : e.message;
  refuseQueue(
    'QUEUE_CORRUPT',
    `the job queue ${file} is damaged (${found}); the schedd will not start until it is moved aside: dsched stop, then dsched start -set-aside-damaged-queue keeps it as ${file}.damaged-TIME for recovery and starts an empty queue`,
  );
}

/** Exit for good (the master keeps the schedd down, `failed` with `what`): a queue no restart can open. */
function refuseQueue(code: ErrorCode, what: string): never {
  log.fatal({ file: config.paths.jobQueue, code }, what);
  try {
    // whole or not at all: dsched start reads it as soon as it is there
    const reason = failedReasonFile(config.paths.run, 'schedd');
    writeFileSync(`${reason}.tmp`, `${code}: ${what}\n`);
    renameSync(`${reason}.tmp`, reason);
  } catch {
    // the log line says it
  }
  process.exit(DAEMON_NO_RESTART);
}

const { db, queue } = openQueue();
const authDir = config.str('AUTH_DIR') || config.paths.authDir;
const auth = new FsAuth(authDir, tokenKey, isAdmin, (m) => log.warn(m));
// challenges left behind before this start (the sweep says why it is safe)
void auth.sweep();
queue.onStoreError = (e) =>
  e === undefined
    ? log.info('the job queue is written again: pending changes are recorded')
    : log.error({ err: (e as Error).message }, 'cannot write the job queue; changes are kept and retried');

const opts = {
  name,
  address: '', // set once the server is bound, before anything can match or claim
  hostName: ctx.hostName,
  lease: () => config.int('JOB_LEASE_DURATION'),
  isAdmin,
  creds: ctx.creds,
  maxProcs: () => config.int('MAX_JOBS_PER_SUBMISSION'),
  maxJobsPerOwner: () => config.int('MAX_JOBS_PER_OWNER'),
  mailCommand: () => config.str('MAIL'),
  pbsWalltimeHold: () => config.bool('PBS_WALLTIME_HOLD'),
  policyTimePerOwner: () => config.int('PERIODIC_EXPR_MAX_TIME_PER_OWNER') * 1000,
  spool: config.paths.spool,
  maxSpooled: () => config.int('MAX_SPOOLED_OUTPUT') * 1024,
  protectedDirs: [config.paths.home, authDir],
  accountingGroups: () => config.list('GROUP_NAMES'),
  findStartd: async (startdName: string) => {
    const c = collector.get();
    if (!c) return [];
    const ads = await c.query('Machine', `StartdName == ${lit(startdName)}`, ['MyAddress'], { deadlineMs: 5000 });
    return [
      ...new Set(ads.map((a) => litValue(a.MyAddress)).filter((v): v is string => typeof v === 'string' && v !== '')),
    ];
  },
};
// batch queues: read once, and again when the configuration changes
let queues = readQueues(config);
onReconfig(() => {
  try {
    queues = readQueues(config);
  } catch (e) {
    log.error({ err: (e as Error).message }, 'the queue configuration is invalid: the previous one stays');
  }
});
const queuePolicy = new QueuePolicy(queue, () => queues, isAdmin);
queue.canStart = (job) => queuePolicy.canStart(job);
// (the same object: its address is filled in once the server is bound)
const schedd = new Schedd(
  queue,
  log,
  Object.assign(opts, {
    admit: (owner: string, cluster: Record<string, string>, procs: Array<Record<string, string>>) =>
      queuePolicy.admit(owner, cluster, procs),
  }),
);
const server = await serveDaemon(ctx, config.int('SCHEDD_PORT'), [
  {
    definition: proto().Schedd.service,
    impl: scheddService(schedd, auth, {
      cpuLimitSec: () => config.int('QUERY_CPU_LIMIT'),
      privateAttrs: () => config.list('PRIVATE_JOB_ATTRS'),
      watchBacklog: () => config.int('WATCH_BACKLOG'),
    }),
  },
]);
opts.address = server.address;
// the health service says whether the queue takes changes: NOT_SERVING while it cannot be written (the
// server binds only once the queue is open)
const logStoreError = queue.onStoreError;
queue.onStoreError = (e) => {
  logStoreError(e);
  server.health.set(
    e === undefined ? 'SERVING' : 'NOT_SERVING',
    e === undefined ? 'the job queue is written again' : `the job queue cannot be written: ${(e as Error).message}`,
  );
};
log.info({ jobs: queue.jobs.size, clusters: queue.clusters.size, name }, 'queue loaded');

// ---- ads: one Scheduler ad, one Submitter ad per user with jobs ----
const collector = new CollectorLink(config, ctx.creds);
let advertised = new Set<string>();
let adTimer: NodeJS.Timeout | undefined;
async function advertise(): Promise<void> {
  adTimer = undefined;
  const c = collector.get();
  if (!c) {
    scheduleAdvertise(1000);
    return;
  }
  // one Submitter ad per accounting name (the owner, or "group.user" for accounting_group jobs); the
  // weighted count (cpus) of the jobs running or being claimed is what the negotiator's group quotas count
  // from the counts the queue keeps as jobs change, and the few jobs that run or are being started: an
  // advertisement costs the same with a million held jobs as with none
  const per = new Map<string, { owner: string; idle: number; running: number; held: number; weighted: number }>();
  let idle = 0;
  let running = 0;
  let held = 0;
  const t0 = performance.now();
  for (const [acct, c] of queue.submitterCounts()) {
    const [i, r, h] = [c.byStatus[JobStatus.Idle]!, c.byStatus[JobStatus.Running]!, c.byStatus[JobStatus.Held]!];
    per.set(acct, { owner: c.owner, idle: i, running: r, held: h, weighted: 0 });
    idle += i;
    running += r;
    held += h;
  }
  for (const j of queue.engaged()) {
    const p = per.get(queue.accountingName(j));
    if (!p) continue;
    // a job being started is no longer idle for the negotiator
    if (j.status === JobStatus.Idle) {
      p.idle--;
      idle--;
    }
    if (j.status === JobStatus.Running || j.status === JobStatus.Idle) {
      const cpus = Number(queue.value(j, 'RequestCpus'));
      p.weighted += Number.isFinite(cpus) && cpus >= 1 ? Math.ceil(cpus) : 1;
    }
  }
  countingMs = performance.now() - t0;
  const lifetime = 3 * config.int('UPDATE_INTERVAL');
  const updates = [
    {
      type: 'Scheduler',
      name,
      instance: ctx.instance,
      lifetime,
      ad: {
        attrs: {
          MyType: lit('Scheduler'),
          Name: lit(name),
          Machine: lit(ctx.hostName),
          MyAddress: lit(server.address),
          TotalIdleJobs: String(idle),
          TotalRunningJobs: String(running),
          TotalHeldJobs: String(held),
          TotalJobAds: String(queue.jobs.size),
          ...statsAttrs(),
        },
      },
    },
    ...[...per].map(([user, p]) => ({
      type: 'Submitter',
      name: `${user}@${name}`,
      instance: ctx.instance,
      lifetime,
      ad: {
        attrs: {
          MyType: lit('Submitter'),
          Name: lit(`${user}@${name}`),
          Owner: lit(p.owner),
          ...(user !== p.owner ? { AccountingGroup: lit(user) } : {}),
          ScheddName: lit(name),
          MyAddress: lit(server.address),
          IdleJobs: String(p.idle),
          RunningJobs: String(p.running),
          WeightedRunningJobs: String(p.weighted),
          HeldJobs: String(p.held),
        },
      },
    })),
  ];
  try {
    await c.advertise(updates);
    const names = new Set(per.keys());
    const gone = [...advertised].filter((u) => !names.has(u));
    if (gone.length)
      await c.invalidate(
        'Submitter',
        gone.map((u) => `${u}@${name}`),
        ctx.instance,
      );
    advertised = names;
  } catch (e) {
    log.debug({ err: (e as Error).message }, 'collector update failed (will retry)');
    scheduleAdvertise(1000);
  }
}
/** What /metrics reads from this ad: queue commits, file transfer bytes, calls served per method. */
function statsAttrs(): Record<string, string> {
  const out: Record<string, string> = {
    QueueCommits: String(queue.commits.count),
    QueueCommitSecondsTotal: String(queue.commits.seconds),
    FileTransferUploadBytes: String(transferBytes.sent),
    FileTransferDownloadBytes: String(transferBytes.received),
  };
  for (const [m, st] of rpcStats) {
    out[`Rpc${m}Count`] = String(st.count);
    out[`Rpc${m}SecondsTotal`] = String(st.seconds);
  }
  return out;
}
let lastAdvertise = 0;
let adSoon = false;
/** How long the last advertisement took to count the queue's jobs. */
let countingMs = 0;
/**
 * Once the changes of this turn are made on a quiet queue (no timer: a submission reaches the negotiator
 * at once); on a busy one at most every 50 ms, and never more than a tenth of the time (counting a million
 * held jobs after each thousand that drm removed took as long as removing them).
 */
function scheduleAdvertise(delayMs = 0) {
  if (adTimer || adSoon) return;
  const wait = Math.max(delayMs, lastAdvertise + Math.max(50, 10 * countingMs) - performance.now());
  const go = () => {
    adSoon = false;
    lastAdvertise = performance.now();
    void advertise();
  };
  if (wait > 0) adTimer = setTimeout(go, wait);
  else {
    adSoon = true;
    setImmediate(go);
  }
}
schedd.onQueueChanged = () => scheduleAdvertise();
schedd.watch(() => scheduleAdvertise());

// reconnecting to the jobs that ran before a restart asks their startds, which may be slow or gone: it
// runs in the background, so the ads go out and the queue is served at once
void schedd.reconnect().catch((e) => log.error({ err: e }, 'reconnecting to running jobs failed'));
schedd.settleDependents('all');
const dags = new DagRunner(schedd, queue, db, log, () => config.int('DAGMAN_MAX_NODES_PER_OWNER'));
schedd.dags = dags;
dags.resumeAll();
scheduleAdvertise(0);
const periodic = setInterval(() => scheduleAdvertise(0), config.int('UPDATE_INTERVAL') * 1000);
const leaseRenewal = new RepeatedFailure(log, 'recording lease renewals');
const leases = setInterval(
  () => void leaseRenewal.track(schedd.renewLeases()),
  Math.max(1000, (config.int('JOB_LEASE_DURATION') * 1000) / 3),
);
const policyEvaluation = new RepeatedFailure(log, 'periodic policy evaluation');
const policies = setInterval(
  () => void policyEvaluation.track(schedd.periodicPolicies()),
  config.int('PERIODIC_EXPR_INTERVAL') * 1000,
);
const trimHistory = () => {
  try {
    queue.trimHistory(config.int('MAX_HISTORY_JOBS'));
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'could not trim the history (tried again later)');
  }
};
const trim = setInterval(trimHistory, 600_000);
// a lowered limit applies at once, as a live knob should
onReconfig((changed) => {
  if (changed.includes('MAX_HISTORY_JOBS')) trimHistory();
});

onShutdown(ctx, async () => {
  for (const t of [periodic, leases, trim, policies]) clearInterval(t);
  const c = collector.get();
  await c?.invalidate('Scheduler', [name], ctx.instance).catch(() => {});
  await c
    ?.invalidate(
      'Submitter',
      [...advertised].map((u) => `${u}@${name}`),
      ctx.instance,
    )
    .catch(() => {});
  await server.shutdown();
  dags.close();
  queue.flush();
  db.close();
  schedd.close();
  collector.close();
});
