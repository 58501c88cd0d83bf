// dsched negotiator: matchmaking on events (a new idle job, a freed or new slot), with a timer as fallback.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOnReconfig, CollectorLink, daemonContext, onShutdown, serveDaemon } from '../../lib/daemon.js';
import { checkConfigExprs } from '../../grammar/classad/config-exprs.js';
import { literal, parseExpr, unparse } from '../../grammar/classad/index.js';
import { proto } from '../../lib/rpc/proto.js';
import { DschedError } from '../../lib/errors.js';
import type { CallContext } from '../../lib/rpc/server.js';
import { Negotiator, preemptionRequirements, type CyclePolicy } from './cycle.js';
import { writeFileAtomic } from '../../lib/rpc/address-file.js';
import { FairShare, type SavedAccounts } from './fair-share.js';
import { AccountingGroups, ROOT_GROUP } from './groups.js';
import { ConcurrencyLimits } from './limits.js';
import { accountingName } from './matchmaker.js';
import { AdMirror } from './ad-mirror.js';
import type { AdChange__Output } from '../../lib/rpc/generated/dsched/v1/AdChange.js';

const ctx = daemonContext('negotiator');
// an edit of START, RANK, PREEMPTION_REQUIREMENTS… that does not parse is refused, not died on
checkOnReconfig(checkConfigExprs);
const { config, log } = ctx;
const fairShare = new FairShare();
// Usage and priority factors outlive a restart (HTCondor's accountant log): saved after cycles and changes.
const accountsFile = join(config.paths.spool, 'accountant.json');
try {
  fairShare.restore(JSON.parse(readFileSync(accountsFile, 'utf8')) as SavedAccounts);
} catch (e) {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
    log.warn({ file: accountsFile, err: (e as Error).message }, 'fair-share accounts not read: everyone starts equal');
}
let lastSave = 0;
function saveAccounts(now = false) {
  if (!now && performance.now() - lastSave < 5000) return;
  lastSave = performance.now();
  try {
    writeFileAtomic(accountsFile, JSON.stringify(fairShare.save()), 0o600);
  } catch (e) {
    log.warn({ file: accountsFile, err: (e as Error).message }, 'fair-share accounts not saved');
  }
}
const limits = new ConcurrencyLimits((name) => {
  const v = config.lookup(`${name.toUpperCase()}_LIMIT`)?.raw ?? config.lookup('CONCURRENCY_LIMIT_DEFAULT')?.raw;
  const n = Number(v);
  return v !== undefined && v.trim() !== '' && Number.isFinite(n) ? n : Infinity;
});

/** A number knob that is not in the table (its name carries a group name): undefined when unset or bad. */
function numberKnob(name: string): number | undefined {
  const v = config.lookup(name)?.raw.trim();
  if (!v) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) {
    log.warn({ knob: name, value: v }, 'not a number: ignored');
    return undefined;
  }
  return n;
}
function boolKnob(name: string, dflt: boolean): boolean {
  const v = config.lookup(name)?.raw.trim().toLowerCase();
  return v === undefined || v === '' ? dflt : v === 'true' || v === '1' || v === 'yes';
}

/** The configuration as the next cycle applies it (every knob here is live). */
let policyError = '';
function cyclePolicy(): CyclePolicy {
  const groups = new AccountingGroups({
    names: config.list('GROUP_NAMES'),
    staticQuota: (g) => numberKnob(`GROUP_QUOTA_${g}`),
    dynamicQuota: (g) => numberKnob(`GROUP_QUOTA_DYNAMIC_${g}`),
    acceptSurplus: (g) => boolKnob(`GROUP_ACCEPT_SURPLUS_${g}`, config.bool('GROUP_ACCEPT_SURPLUS')),
    allowOversubscription: config.bool('NEGOTIATOR_ALLOW_QUOTA_OVERSUBSCRIPTION'),
  });
  let requirements;
  let rank;
  try {
    requirements = preemptionRequirements(config.str('PREEMPTION_REQUIREMENTS'));
    rank = config.str('PREEMPTION_RANK')
      ? parseExpr(config.str('PREEMPTION_RANK'), { file: 'PREEMPTION_RANK', line: 1, column: 1 })
      : undefined;
    policyError = '';
  } catch (e) {
    // a broken expression must not stop matchmaking: no priority preemption until it is fixed
    const msg = (e as Error).message;
    if (msg !== policyError)
      log.error({ err: msg }, 'PREEMPTION_REQUIREMENTS or PREEMPTION_RANK does not parse: no priority preemption');
    policyError = msg;
  }
  return {
    groups,
    considerPreemption: config.bool('NEGOTIATOR_CONSIDER_PREEMPTION'),
    preemptionRequirements: requirements,
    preemptionRank: rank,
    maxTimePerSubmitterMs: config.int('NEGOTIATOR_MAX_TIME_PER_SUBMITTER') * 1000,
  };
}

const negotiator = new Negotiator(log, ctx.creds, fairShare, limits, cyclePolicy);
const collector = new CollectorLink(config, ctx.creds);
const pool = new AdMirror();

let running = false;
/** Cycle statistics for the Negotiator ad (HTCondor's LastNegotiationCycle*0), totals for /metrics. */
const cycles = {
  count: 0,
  seconds: 0,
  matches: 0,
  last: undefined as { durationMs: number; matches: number } | undefined,
};
let again = false;
let queued = false;
let lastCycleEnd = 0;

async function runCycle(): Promise<void> {
  queued = false;
  if (running) {
    again = true;
    return;
  }
  if (!pool.ready) return; // the watch stream calls again once it has the pool
  running = true;
  again = false;
  // a cycle that found no idle jobs or no free slot asked no schedd anything: it does not space the next
  let worked = true;
  try {
    const r = await negotiator.cycle(pool);
    cycles.count++;
    cycles.seconds += r.durationMs / 1000;
    cycles.matches += r.matches;
    cycles.last = r;
    worked = r.submitters > 0 && r.slots > 0;
    saveAccounts();
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'negotiation cycle failed');
  } finally {
    running = false;
    if (worked) lastCycleEnd = performance.now();
    if (again) schedule();
  }
}

/**
 * A cycle once the events read together have been applied (every ad change of one read of the stream
 * makes one cycle), with no timer on a quiet pool; on a busy one, at most one per minimum interval. Events
 * during a cycle make exactly one more.
 */
function schedule(delay = config.int('NEGOTIATOR_CYCLE_DELAY_MS')) {
  if (running) {
    again = true;
    return;
  }
  if (queued) return;
  queued = true;
  const wait = Math.max(delay, lastCycleEnd + config.int('NEGOTIATOR_MIN_INTERVAL_MS') - performance.now());
  if (wait <= 0) setImmediate(() => void runCycle());
  else setTimeout(() => void runCycle(), wait);
}

const server = await serveDaemon(ctx, config.int('NEGOTIATOR_PORT'), [
  {
    definition: proto().Negotiator.service,
    impl: {
      unary: {
        Reschedule() {
          schedule(0);
          return {};
        },
        GetPriorities() {
          const groups = cyclePolicy().groups;
          const submitters = fairShare
            .list()
            .map((s) => ({ ...s, accounting_group: groups.enabled ? groups.groupOf(accountingName(s.name)) : '' }));
          const tree = negotiator.lastGroups;
          return {
            submitters,
            groups: groups.enabled
              ? [...(tree?.values() ?? groups.tree(0).values())].map((g) => ({
                  name: g.name,
                  quota: g.name === ROOT_GROUP ? 0 : g.quota,
                  config_quota: g.configQuota,
                  dynamic: g.dynamic,
                  accept_surplus: g.acceptSurplus,
                  usage: g.usage,
                  requested: g.requested,
                }))
              : [],
          };
        },
        SetFactor(req: { submitter: string; factor: number }, ctx: CallContext) {
          if (!(req.factor >= 1)) throw new DschedError('USAGE', 'a priority factor is a number ≥ 1');
          fairShare.setFactor(req.submitter, req.factor);
          saveAccounts(true);
          log.info({ submitter: req.submitter, factor: req.factor, by: ctx.identity.name }, 'priority factor set');
          schedule(0);
          return {};
        },
      },
    },
  },
]);

// The collector's Watch stream keeps our copy of the pool and wakes us; it is re-opened whenever it breaks
// (collector restart), and the copy is rebuilt from what the new stream sends first.
let watchBackoff = 250;
function watch() {
  const c = collector.get();
  if (!c) {
    setTimeout(watch, 1000).unref();
    return;
  }
  const stream = c.watch(['Machine', 'Submitter', 'Scheduler'], { renewals: true });
  pool.streamOpened();
  stream.on('data', (ch: AdChange__Output) => {
    watchBackoff = 250;
    const before = pool.apply(ch);
    // only what can lead to a match: a slot with room, a submitter with more idle jobs than it had (or the
    // stream's hello). Fewer idle jobs (a busy schedd starting them on the claims it holds) open no match.
    const attrs = ch.ad?.attrs ?? {};
    // a renewal's texts (load averages moved) say nothing of the slot's State: the ad as it is now does
    const state = () => (ch.kind === 'renewed' ? pool.get(ch.type, ch.name)?.text('State') : attrs.State);
    if (ch.kind === 'hello') {
      schedule();
      // a collector just reached (started after us, or restarted) has no Negotiator ad yet: without it
      // dq -analyze cannot tell a user's fair share until the next periodic update (a minute by default)
      void advertise();
    } else if (!pool.ready || ch.kind === 'removed') return;
    else if (
      ch.type === 'Machine'
        ? state() === '"Unclaimed"'
        : ch.type === 'Submitter' && Number(attrs.IdleJobs) > Number(before?.text('IdleJobs') ?? 0)
    )
      schedule();
  });
  const retry = () => {
    stream.removeAllListeners();
    pool.streamLost();
    setTimeout(watch, watchBackoff).unref();
    watchBackoff = Math.min(5000, watchBackoff * 2);
  };
  stream.on('error', retry);
  stream.on('end', retry);
}
watch();

async function advertise() {
  const c = collector.get();
  if (!c) return;
  await c
    .advertise([
      {
        type: 'Negotiator',
        name: ctx.hostName,
        instance: ctx.instance,
        lifetime: 3 * config.int('UPDATE_INTERVAL'),
        ad: {
          attrs: {
            MyType: unparse(literal('Negotiator')),
            Name: unparse(literal(ctx.hostName)),
            MyAddress: unparse(literal(server.address)),
            NegotiationCycles: String(cycles.count),
            NegotiationCycleSecondsTotal: String(cycles.seconds),
            NegotiationMatchesTotal: String(cycles.matches),
            ...(cycles.last
              ? {
                  LastNegotiationCycleDuration0: String(cycles.last.durationMs / 1000),
                  LastNegotiationCycleMatches0: String(cycles.last.matches),
                }
              : {}),
          },
        },
      },
    ])
    .catch(() => {});
}
void advertise();
const periodic = setInterval(
  () => {
    void advertise();
    schedule(0);
  },
  config.int('NEGOTIATOR_INTERVAL') * 1000,
);
const ads = setInterval(() => void advertise(), config.int('UPDATE_INTERVAL') * 1000);

onShutdown(ctx, async () => {
  saveAccounts(true);
  clearInterval(periodic);
  clearInterval(ads);
  await server.shutdown();
  negotiator.close();
  collector.close();
});
