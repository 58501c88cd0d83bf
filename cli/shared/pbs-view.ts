// dq -pbs: the queue as PBS users read it (qstat's table: Job id, Name, User, Time Use, S, Queue) and,
// with -f, qstat -f's long form (`attribute = value` with PBS's names). Job ids are the ones dsubmit printed
// for #PBS jobs (C.host, C[I].host for a subjob) and cluster.proc for the others.
import { basename } from 'node:path';
import { ClassAd } from '../../grammar/classad/index.js';
import { DschedError } from '../../lib/errors.js';
import { adOfRecord } from '../../grammar/classad/json-text.js';
import { io } from './io.js';
import { UnreadableAttrs } from './unreadable-attrs.js';
import { idText, type Selection } from './job-selection.js';
import type { Session } from './session.js';

type Ad = ClassAd;

const str = (ad: Ad, name: string): string | undefined => {
  const v = ad.lookupJS(name);
  return v === undefined || v === null ? undefined : String(v);
};
const num = (ad: Ad, name: string): number | undefined => {
  const v = ad.lookupJS(name);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

/** The id PBS users know the job by: its PBS id (a subjob's with its index), or cluster.proc. */
export function pbsJobId(ad: Ad): string {
  const pbs = str(ad, 'PbsJobId');
  const index = num(ad, 'PbsArrayIndex');
  if (pbs && index !== undefined) return pbs.replace('[]', `[${index}]`);
  return pbs ?? `${num(ad, 'ClusterId')}.${num(ad, 'ProcId')}`;
}

/** The ads that come from the history (qstat -x): finished, whether they completed or were deleted. */
const finished = new WeakSet<Ad>();

/** The state of an array job's line (made by arrayLines), from its subjobs'. */
const arrayStates = new WeakMap<Ad, string>();

/** A subjob of an array (`C[I]`), not the array's own line nor a plain job. */
const isSubjob = (ad: Ad): boolean =>
  num(ad, 'PbsArrayIndex') !== undefined && (str(ad, 'PbsJobId')?.includes('[]') ?? false);

/**
 * qstat's one-letter state: Q queued, R running, H held, S suspended, E exiting, F finished; B an array begun;
 * X a subjob finished (completed or deleted: PBS Pro keeps F for whole jobs).
 */
export function pbsState(ad: Ad): string {
  const array = arrayStates.get(ad);
  if (array) return array;
  if (finished.has(ad)) return isSubjob(ad) ? 'X' : 'F';
  switch (num(ad, 'JobStatus')) {
    case 1:
      return 'Q';
    case 2:
      return 'R';
    case 3:
      return 'E';
    case 4:
      return isSubjob(ad) ? 'X' : 'F';
    case 5:
      return 'H';
    case 6:
      return 'E';
    case 7:
      return 'S';
    default:
      return '?';
  }
}

/**
 * qstat's view of array jobs: an array is one line, `C[].host`, its subjobs left out, unless `subjobs` (qstat
 * -t), which lists them after it. The array's state is Q until a subjob has begun, then B, F once all have
 * finished (H while all are held); its time is its subjobs' together.
 */
export function arrayLines(ads: Ad[], subjobs: boolean, onlySubjobsOf: ReadonlySet<number> = new Set()): Ad[] {
  const out: Ad[] = [];
  const arrays = new Map<string, { ad: Ad; members: Ad[] }>();
  for (const ad of ads) {
    const pbs = str(ad, 'PbsJobId');
    if (!pbs?.includes('[]') || num(ad, 'PbsArrayIndex') === undefined) {
      out.push(ad);
      continue;
    }
    let array = arrays.get(pbs);
    if (!array) {
      arrays.set(pbs, (array = { ad: arrayAd(ad), members: [] }));
      // `qstat C[I]` shows that subjob alone, as PBS does: the array's line only when the array is named
      if (!onlySubjobsOf.has(num(ad, 'ClusterId') ?? -1)) out.push(array.ad);
    }
    array.members.push(ad);
    if (subjobs) out.push(ad);
  }
  for (const { ad, members } of arrays.values()) {
    arrayMembers.set(ad, members);
    const states = members.map(pbsState);
    arrayStates.set(
      ad,
      states.every((s) => s === 'X')
        ? 'F'
        : states.some((s) => s !== 'Q' && s !== 'H')
          ? 'B'
          : states.every((s) => s === 'H')
            ? 'H'
            : 'Q',
    );
    ad.setValue(
      'RemoteUserCpu',
      members.reduce((t, m) => t + cpuTime(m), 0),
    );
  }
  return out;
}

/** The subjobs (those listed) of an array's line made by arrayLines, for qstat -f's array_state_count. */
const arrayMembers = new WeakMap<Ad, Ad[]>();

/**
 * An array's own ad, from one of its subjobs': what belongs to that subjob alone (its index, host, times, exit,
 * its PBS_JOBID and index in the environment) left out, and the array's own paths (^array_index^ in them).
 */
function arrayAd(subjob: Ad): Ad {
  const r = subjob.toRecord();
  const own =
    /^(pbsarrayindex|remoteusercpu|remotesyscpu|remotehosts?|lastremotehost|jobcurrentstartdate|jobstartdate|residentsetsize|remotewallclocktime|exitcode|exitsignal|exitbysignal|out|err)$/i;
  for (const k of Object.keys(r)) if (own.test(k)) delete r[k];
  const ad = ClassAd.fromRecord(r);
  // queued before these attributes were written: no paths rather than the subjob's
  const out = str(subjob, 'PbsArrayOut');
  const err = str(subjob, 'PbsArrayErr');
  if (out !== undefined) ad.setValue('Out', out);
  if (err !== undefined) ad.setValue('Err', err);
  const env = str(subjob, 'Environment');
  if (env !== undefined)
    ad.setValue('Environment', env.replace(/ ?\b(PBS_JOBID|PBS_ARRAY_INDEX|PBS_ARRAYID)=\S*/g, ''));
  return ad;
}

/** HH:MM:SS, as qstat prints times (hours may pass 99). */
export function hms(seconds: number | undefined): string {
  const s = Math.max(0, Math.floor(seconds ?? 0));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}

function jobName(ad: Ad): string {
  return str(ad, 'PbsJobName') ?? str(ad, 'JobBatchName') ?? basename(str(ad, 'Cmd') ?? '');
}

/** dq -queue NAME: the constraint selecting that queue's jobs. */
export function queueConstraint(name: string | undefined): string[] {
  if (name === undefined) return [];
  if (!/^[\w.-]+$/.test(name)) throw new DschedError('USAGE', `-queue: '${name}' is not a queue name`);
  return [`Queue == "${name}"`];
}

export function queueOf(ad: Ad): string {
  return str(ad, 'Queue') ?? str(ad, 'PbsQueue') ?? '';
}

function cpuTime(ad: Ad): number {
  return (num(ad, 'RemoteUserCpu') ?? 0) + (num(ad, 'RemoteSysCpu') ?? 0);
}

/** qstat's default table; long values are cut as qstat cuts them (with a trailing '*'). */
export function renderPbsTable(ads: Ad[]): string {
  const cut = (s: string, w: number) => (s.length > w ? s.slice(0, w - 1) + '*' : s.padEnd(w));
  const lines = [
    'Job id            Name             User              Time Use S Queue',
    '----------------  ---------------- ----------------  -------- - -----',
  ];
  for (const ad of ads) {
    lines.push(
      `${cut(pbsJobId(ad), 16)}  ${cut(jobName(ad), 16)} ${cut(str(ad, 'Owner') ?? '', 16)}  ${hms(cpuTime(ad)).padStart(8)} ${pbsState(ad)} ${queueOf(ad)}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** PBS's ctime style: "Sun Dec  6 07:40:58 2026". */
function pbsDate(epoch: number | undefined): string | undefined {
  if (epoch === undefined) return undefined;
  const d = new Date(epoch * 1000);
  const parts = d.toString().split(' '); // Sun Dec 06 2026 07:40:58 GMT+0000 …
  return `${parts[0]} ${parts[1]} ${String(d.getDate()).padStart(2)} ${parts[4]} ${parts[3]}`;
}

/** qstat -f: one block per job, PBS's attribute names, values from the job ad. */
export function renderPbsFull(ads: Ad[], server: string): string {
  const blocks: string[] = [];
  for (const ad of ads) {
    const rows: Array<[string, string | undefined]> = [];
    const host = str(ad, 'PbsJobId')?.replace(/^[^.]*\./, '') ?? server;
    const owner = str(ad, 'Owner') ?? '';
    const running = num(ad, 'JobStatus') === 2;
    const start = num(ad, 'JobCurrentStartDate');
    const wall =
      (num(ad, 'RemoteWallClockTime') ?? 0) + (running && start ? Math.max(0, Date.now() / 1000 - start) : 0);
    const iwd = str(ad, 'Iwd') ?? '';
    const path = (p: string | undefined) =>
      p === undefined ? undefined : `${host}:${p.startsWith('/') ? p : `${iwd}/${p}`}`;
    const walltime = num(ad, 'AllowedJobDuration');
    const r = pbsResources(ad);
    rows.push(
      ['Job_Name', jobName(ad)],
      ['Job_Owner', `${owner}@${host}`],
      ['resources_used.cput', hms(cpuTime(ad))],
      ['resources_used.mem', num(ad, 'ResidentSetSize') !== undefined ? `${num(ad, 'ResidentSetSize')}kb` : undefined],
      ['resources_used.walltime', hms(wall)],
      ['job_state', pbsState(ad)],
      ['queue', queueOf(ad) || undefined],
      ['server', server],
      ['Account_Name', str(ad, 'PbsAccount')],
      ['ctime', pbsDate(num(ad, 'QDate'))],
      ['depend', str(ad, 'PbsDepend')],
      ['Error_Path', path(str(ad, 'Err'))],
      ['exec_host', pbsExecHosts(ad)],
      ['Hold_Types', holdTypes(ad)],
      ['Join_Path', str(ad, 'Out') !== undefined && str(ad, 'Out') === str(ad, 'Err') ? 'oe' : 'n'],
      ['Mail_Points', str(ad, 'PbsMailPoints')],
      ['Mail_Users', str(ad, 'NotifyUser')],
      ['mtime', pbsDate(num(ad, 'EnteredCurrentStatus'))],
      ['Output_Path', path(str(ad, 'Out'))],
      ['Priority', String(num(ad, 'JobPrio') ?? 0)],
      ['qtime', pbsDate(num(ad, 'QDate'))],
      ['Rerunable', str(ad, 'PbsRerunable') === 'false' ? 'False' : 'True'],
      ['Resource_List.ncpus', String(r.ncpus)],
      ['Resource_List.mem', r.mem !== undefined ? `${r.mem}mb` : undefined],
      ...(r.nodes > 1
        ? ([
            ['Resource_List.nodect', String(r.nodes)],
            ['Resource_List.place', str(ad, 'GangPlacement')],
            ['Resource_List.select', r.select],
          ] as Array<[string, string | undefined]>)
        : []),
      ['Resource_List.walltime', walltime !== undefined ? hms(walltime) : undefined],
      ['stime', pbsDate(start ?? num(ad, 'JobStartDate'))],
      ['comment', removedOrHeldWhy(ad) ?? notRunning(ad)],
      // PBS Professional's spelling, and Torque's, which scripts written for it grep for
      ['Exit_status', pbsExitStatus(ad)],
      ['exit_status', pbsExitStatus(ad)],
      ['array_index', num(ad, 'PbsArrayIndex') !== undefined ? String(num(ad, 'PbsArrayIndex')) : undefined],
      ...arrayRows(ad),
      ['Variable_List', environmentList(str(ad, 'Environment'))],
      ['project', str(ad, 'AcctGroup')],
    );
    const body = rows
      .filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '')
      .map(([k, v]) => `    ${k} = ${v}`);
    blocks.push(`Job Id: ${pbsJobId(ad)}\n${body.join('\n')}\n`);
  }
  return blocks.join('\n');
}

/** An array's own rows in qstat -f: array, array_indices_submitted, array_state_count (of the subjobs listed). */
function arrayRows(ad: Ad): Array<[string, string | undefined]> {
  const members = arrayMembers.get(ad);
  if (!members) return [];
  const count = (states: string) => members.filter((m) => states.includes(pbsState(m))).length;
  // subjobs that left the queue are not listed without -x: the array's total says how many
  const total = num(ad, 'TotalSubmitProcs');
  const expired = total !== undefined ? total - members.length + count('XF') : count('XF');
  return [
    ['array', 'True'],
    ['array_indices_submitted', str(ad, 'PbsArrayIndices')],
    ['array_state_count', `Queued:${count('QH')} Running:${count('RS')} Exiting:${count('E')} Expired:${expired}`],
  ];
}

/**
 * PBS's Hold_Types: n not held; u held by its owner (qhold, qsub -h); s held by the system (waiting for a
 * dependency, or a policy or failure held it), which qstat -f tells apart; o and s as an administrator's
 * qhold -h placed them (PbsHoldTypes).
 */
function holdTypes(ad: Ad): string {
  if (num(ad, 'JobStatus') !== 5) return 'n';
  const admin = str(ad, 'PbsHoldTypes');
  if (admin) return admin;
  const code = num(ad, 'HoldReasonCode');
  const byOwner = code === undefined || code === 1 || code === 15; // UserRequest, SubmittedOnHold
  return ad.lookupJS('DependencyHold') === true || !byOwner ? 's' : 'u';
}

/** A job's exit status as PBS reports it: the exit code, or 256 + the signal that killed it; none while it runs. */
export function pbsExitStatus(ad: Ad): string | undefined {
  const signal = num(ad, 'ExitSignal');
  if (ad.lookupJS('ExitBySignal') === true && signal !== undefined) return String(256 + signal);
  const code = num(ad, 'ExitCode');
  return code === undefined ? undefined : String(code);
}

/**
 * The hosts of a running job as PBS's exec_host names them, `host/N` (slot N+1 of the host) joined by `+`:
 * a parallel job's every slot (RemoteHosts), else its one (RemoteHost); a finished job's last one
 * (LastRemoteHost), as PBS's qstat -x keeps exec_host.
 */
export function pbsExecHosts(ad: Ad): string | undefined {
  const status = num(ad, 'JobStatus');
  const last = status === 3 || status === 4 ? str(ad, 'LastRemoteHost') : undefined;
  const slots = (str(ad, 'RemoteHosts') ?? str(ad, 'RemoteHost') ?? last)?.split(',').filter(Boolean);
  if (!slots?.length) return undefined;
  return slots
    .map((s) => {
      const m = /^slot(\d+)(?:_(\d+))?@(.+)$/.exec(s.trim());
      return m ? `${m[3]}/${Number(m[2] ?? m[1]) - 1}` : s.trim();
    })
    .join('+');
}

/** HH:MM, as qstat -a prints requested and elapsed times; -- when there is none. */
const hm = (seconds: number | undefined) => (seconds === undefined ? '--' : hms(seconds).slice(0, -3));

/** What qstat -s shows under a job: why it is held, or where and since when it runs. */
/**
 * Why a removed job went (its dependency can never be met, who removed it), else why it is held: a job removed
 * while held keeps its HoldReason, which would say it still waits.
 */
function removedOrHeldWhy(ad: Ad): string | undefined {
  return (num(ad, 'JobStatus') === 3 && str(ad, 'RemoveReason')) || str(ad, 'HoldReason');
}

/**
 * A queued job's comment: PBS's scheduler writes why it does not run ("Not Running: …"); here the negotiator
 * keeps no such reason on the job, so the comment says where to read it.
 */
function notRunning(ad: Ad): string | undefined {
  if (num(ad, 'JobStatus') !== 1) return undefined;
  return `Not Running: waiting for a slot (dq -better-analyze ${pbsJobId(ad)} says why)`;
}

function pbsComment(ad: Ad): string | undefined {
  if (num(ad, 'JobStatus') === 1) return notRunning(ad);
  if (num(ad, 'JobStatus') === 3) return removedOrHeldWhy(ad);
  const held = str(ad, 'HoldReason');
  if (num(ad, 'JobStatus') === 5 && held) return `job held: ${held}`;
  const hosts = pbsExecHosts(ad);
  const start = num(ad, 'JobCurrentStartDate');
  if (num(ad, 'JobStatus') === 2 && hosts) return `Job run at ${pbsDate(start) ?? '?'} on (${hosts})`;
  return undefined;
}

/**
 * qstat -a's layout (also -n and -s): Job ID, Username, Queue, Jobname, SessID, NDS, TSK, Req'd Memory, Req'd
 * Time, S, Elap Time; with `nodes` each job's exec_host on the line after it (qstat -n), with `comments` its
 * comment (qstat -s).
 */
export function renderPbsAlt(
  ads: Ad[],
  server: string,
  o: { nodes?: boolean; comments?: boolean; wide?: boolean } = {},
): string {
  const cut = (s: string, w: number) => (s.length > w ? s.slice(0, w - 1) + '*' : s.padEnd(w));
  const right = (s: string, w: number) => (s.length > w ? s.slice(0, w - 1) + '*' : s.padStart(w));
  // the widths of Job ID, Username, Queue, Jobname, SessID, NDS and TSK (qstat -w widens them)
  const [id, user, queue, name, sess, nds, tsk] = o.wide ? [30, 15, 15, 15, 8, 4, 5] : [15, 8, 8, 10, 6, 3, 3];
  const head = (cells: string[]) =>
    [id, user, queue, name, sess, nds, tsk].map((w, i) => cells[i]!.padEnd(w).slice(0, w)).join(' ') + ' ';
  const lines = [
    '',
    `${server}: `,
    `${head(['', '', '', '', '', '', ''])}Req'd  Req'd   Elap`,
    `${head(['Job ID', 'Username', 'Queue', 'Jobname', 'SessID', 'NDS', 'TSK'])}Memory Time  S Time`,
    `${head([id, user, queue, name, sess, nds, tsk].map((w) => '-'.repeat(w)))}------ ----- - -----`,
  ];
  const now = Date.now() / 1000;
  for (const ad of ads) {
    const { ncpus, mem, nodes } = pbsResources(ad);
    const start = num(ad, 'JobCurrentStartDate');
    const running = num(ad, 'JobStatus') === 2;
    const elapsed =
      running && start ? Math.max(0, now - start) : finished.has(ad) ? num(ad, 'RemoteWallClockTime') : undefined;
    lines.push(
      [
        cut(pbsJobId(ad), id),
        cut(str(ad, 'Owner') ?? '', user),
        cut(queueOf(ad), queue),
        cut(jobName(ad), name),
        right('--', sess),
        right(String(nodes), nds),
        right(String(ncpus), tsk),
        right(mem !== undefined ? `${mem}mb` : '--', 6),
        right(hm(num(ad, 'AllowedJobDuration')), 5),
        pbsState(ad),
        right(hm(elapsed), 5),
      ].join(' '),
    );
    if (o.nodes) lines.push(`   ${pbsExecHosts(ad) ?? '--'}`);
    if (o.comments) lines.push(`   ${pbsComment(ad) ?? ''}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * A job's resources as PBS totals them: a parallel job (select=N:ncpus=C:mem=M, nodes=N:ppn=C) asks for N
 * chunks, and its ncpus and mem are the sum over them (each chunk's in RequestCpus and RequestMemory).
 */
function pbsResources(ad: Ad): { nodes: number; ncpus: number; mem?: number; select: string } {
  const nodes = Math.max(1, num(ad, 'MachineCount') ?? 1);
  const cpus = num(ad, 'RequestCpus') ?? 1;
  const mem = num(ad, 'RequestMemory');
  return {
    nodes,
    ncpus: nodes * cpus,
    mem: mem === undefined ? undefined : nodes * mem,
    select: `${nodes}:ncpus=${cpus}${mem === undefined ? '' : `:mem=${mem}mb`}`,
  };
}

/** qstat -f shows the job's environment as NAME=value pairs joined by commas. */
function environmentList(env: string | undefined): string | undefined {
  if (!env) return undefined;
  // the V2 form: space-separated NAME=value, values with spaces in single quotes
  const pairs = env.match(/[^\s=]+=(?:'(?:[^']|'')*'|\S*)/g) ?? [];
  return pairs.map((p) => p.replace(/='(.*)'$/, (_m, v: string) => `=${v.replace(/''/g, "'")}`)).join(',');
}

/**
 * dq -pbs [-f] [-x]: every user's jobs (as qstat lists them) unless users or ids are named; with -x the
 * finished ones too, all in job id order as PBS's qstat -x lists them. Returns the exit code: 1 when a named
 * job is not there ("Unknown Job Id", as qstat says).
 */
export async function showPbsQueue(
  session: Session,
  sel: Selection,
  opts: {
    full: boolean;
    limit: number;
    server: string;
    finished?: boolean;
    /** qstat -a, -n, -s: the alternate layout, with the hosts and/or the comment under each job */
    alt?: { nodes?: boolean; comments?: boolean; wide?: boolean };
    /** qselect: the job ids only, one a line */
    idsOnly?: boolean;
    /** qstat -t (or a subjob named): an array job's subjobs after its line */
    subjobs?: boolean;
    /** the clusters named only by subjobs (C[I]): their subjobs without the array's line */
    onlySubjobsOf?: ReadonlySet<number>;
  },
): Promise<number> {
  const schedd = await session.schedd();
  const q = { ids: sel.ids, owners: sel.owners, constraint: sel.constraint, projection: [], limit: opts.limit };
  // a job with an attribute that does not parse (an older version's queue) is shown without it, and said
  const unreadable = new UnreadableAttrs(io().command ?? 'dq');
  const adOf = (r: Record<string, string>) => adOfRecord(r, unreadable.of(r));
  let ads = (await schedd.query({ ...q, history: false })).map(adOf);
  if (opts.finished) {
    const done = (await schedd.query({ ...q, history: true })).map(adOf);
    for (const ad of done) finished.add(ad);
    // a job that left the queue between the two queries is shown once, finished
    const doneIds = new Set(done.map(idKey));
    ads = [...ads.filter((a) => !doneIds.has(idKey(a))), ...done].sort(
      (a, b) =>
        (num(a, 'ClusterId') ?? 0) - (num(b, 'ClusterId') ?? 0) || (num(a, 'ProcId') ?? 0) - (num(b, 'ProcId') ?? 0),
    );
    if (opts.limit > 0) ads = ads.slice(0, opts.limit);
  }
  let code = 0;
  // each job named, as named: a subjob (C[I]) by its index, not as its cluster
  const named = [
    ...sel.ids
      .filter((id) => !sel.subjobs?.some((s) => s.cluster === id.cluster))
      .map((id) => ({
        text: idText(id),
        ids: [id],
        constraint: q.constraint,
        is: (a: Ad) => num(a, 'ClusterId') === id.cluster && (id.proc < 0 || num(a, 'ProcId') === id.proc),
      })),
    ...(sel.subjobs ?? []).map((s) => ({
      text: `${s.cluster}[${s.index}].${opts.server}`,
      ids: [{ cluster: s.cluster, proc: -1 }],
      constraint: q.constraint ? `(${q.constraint}) && PbsArrayIndex == ${s.index}` : `PbsArrayIndex == ${s.index}`,
      is: (a: Ad) => num(a, 'ClusterId') === s.cluster && num(a, 'PbsArrayIndex') === s.index,
    })),
  ];
  for (const n of named) {
    if (!ads.some(n.is)) {
      // PBS Professional's qstat says a finished job is shown with -x; Torque's says only that it is unknown
      const done =
        !opts.finished &&
        (await schedd.query({ ...q, ids: n.ids, constraint: n.constraint, history: true, limit: 1 })).length;
      io().stderr.write(
        `${io().command ?? 'dq'}: Unknown Job Id ${n.text}${done ? ': the job has finished; qstat -x (dq -pbs -x) shows it' : ''}\n`,
      );
      code = 1;
    }
  }
  // qselect lists the subjobs that match, each: `qdel $(qselect -s H)` must not remove an array's others
  if (!opts.idsOnly) ads = arrayLines(ads, !!opts.subjobs, opts.onlySubjobsOf);
  if (ads.length)
    io().stdout.write(
      opts.idsOnly
        ? ads.map((a) => pbsJobId(a) + '\n').join('')
        : opts.full
          ? renderPbsFull(ads, opts.server)
          : opts.alt
            ? renderPbsAlt(ads, opts.server, opts.alt)
            : renderPbsTable(ads),
    );
  unreadable.check();
  return code;
}

const idKey = (ad: Ad) => `${num(ad, 'ClusterId')}.${num(ad, 'ProcId')}`;
