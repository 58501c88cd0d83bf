#!/usr/bin/env node
// The PBS and HTCondor command names whose options differ from dsched's: `dshim.js qstat ARGS` maps qstat's
// options onto dq -pbs and runs it in this process. Not a command of its own (not on PATH):
// the scripts `dsched shims install DIR` writes call it.
import { DschedError } from '../lib/errors.js';
import { hostCommands, hosted, printError, runInProcess, type CommandMain } from './shared/run-cli.js';
import { io } from './shared/io.js';
import { renamedOf } from './shared/renamed.js';

const QSTAT_USAGE = 'usage: qstat [-f | -a | -n | -s] [-x] [-r | -i] [-t] [-J] [-u USER[,USER...]] [JOBID...]';
const QSELECT_USAGE =
  'usage: qselect [-u USER[,USER...]] [-s STATES] [-N NAME] [-q QUEUE] [-A ACCOUNT] [-h HOLD_TYPES] [-x]';

/** `-u alice,bob@host`: the user names, as dq takes them. */
function userList(v: string | undefined, usage: string): string[] {
  if (!v) throw new DschedError('USAGE', `-u needs a user name\n${usage}`);
  return v
    .split(',')
    .map((u) => u.replace(/@.*$/, ''))
    .filter(Boolean);
}

/** qstat's one-letter options that take no value, which PBS's qstat takes grouped (`qstat -fx 12`, `-xf`, `-an1`). */
const QSTAT_FLAGS = 'fxHritJansw1';

/** `-fx` as `-f -x`, and `-fu alice` as `-f -u alice` (a value-taking -u only last in the group); anything else as it is. */
function splitQstatFlags(a: string): string[] {
  const m = /^-([A-Za-z1]{2,})$/.exec(a);
  if (!m) return [a];
  const letters = [...m[1]!];
  const last = letters.at(-1) === 'u' ? letters.pop() : undefined;
  if (!letters.every((c) => QSTAT_FLAGS.includes(c))) return [a];
  return [...letters, ...(last ? [last] : [])].map((c) => `-${c}`);
}

/** qstat's arguments as dq's. */
export function qstatArgs(argv: string[]): { cmd: 'dq'; args: string[] } {
  let long = false;
  let history = false;
  let alt = '';
  let subjobs = false;
  const users: string[] = [];
  const ids: string[] = [];
  const constraints: string[] = [];
  argv = argv.flatMap(splitQstatFlags);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-f') long = true;
    else if (a === '-x' || a === '-H') history = true;
    // -r, -i and -u show PBS's alternate layout, as -a does (qstat's own rule: any of them picks it)
    else if (a === '-r') {
      constraints.push('JobStatus == 2');
      alt += 'a';
    } else if (a === '-i') {
      constraints.push('JobStatus == 1 || JobStatus == 5');
      alt += 'a';
    }
    // -t: an array's subjobs after its line; -J: array jobs only
    else if (a === '-t') subjobs = true;
    else if (a === '-J') constraints.push('PbsArrayId =!= undefined');
    else if (a === '-u') {
      users.push(...userList(argv[++i], QSTAT_USAGE));
      alt += 'a';
    }
    // -a is PBS's other layout, -n adds each job's hosts under it, -s its comment (-ns, -an: together)
    else if (a === '-a' || a === '-n' || a === '-s') alt += a.slice(1);
    // -w: the alternate layout's wider columns (PBS's qstat takes -w as picking that layout too)
    else if (a === '-w') alt += 'w';
    else if (a === '-1') {
      /* one line per job: the -n and -s lines stay under the job */
    } else if (a === '-Q' || a === '-q' || a === '-B')
      throw new DschedError(
        'USAGE',
        `qstat ${a}: queue and server status are not shown in qstat's form (dq -pbs -queue NAME lists a queue's jobs; dstatus shows the machines)`,
      );
    else if (a === '--help' || a === '-help') throw new DschedError('USAGE', QSTAT_USAGE);
    else if (a.startsWith('-')) throw new DschedError('USAGE', `qstat: unknown option ${a}\n${QSTAT_USAGE}`);
    else ids.push(a);
  }
  // one layout whatever the order and repetition of -a, -n, -s
  alt = alt ? `a${['n', 's', 'w'].filter((c) => alt.includes(c)).join('')}` : '';
  const args = [...ids, ...users];
  // PBS's qstat shows every user's jobs unless told otherwise
  if (!ids.length && !users.length) args.push('-allusers');
  for (const c of constraints) args.push('-constraint', c);
  // dq's own qstat views (its table, and -f's long form with PBS's names); -x adds the finished jobs
  return {
    cmd: 'dq',
    args: [
      ...args,
      '-pbs',
      ...(long ? ['-f'] : alt ? ['-pbs-alt', alt] : []),
      ...(history ? ['-x'] : []),
      ...(subjobs ? ['-pbs-subjobs'] : []),
    ],
  };
}

/** A subjob of a PBS array (`C[I]`), as qstat tells it from a plain job (cli/shared/pbs-view.ts). */
const SUBJOB = 'PbsArrayIndex =!= undefined && isString(PbsJobId) && regexp("\\\\[\\\\]", PbsJobId)';

/**
 * qselect's job states (-s), every letter PBS Pro's qselect takes, as constraints that pick what qstat shows with
 * that letter: F a finished job, X a finished subjob (both need -x, which they imply). A subjob is listed by its
 * own state, never an array's, so B (an array begun) selects nothing, as do W (waiting for a start time), T (in
 * transit), M (moved) and U (suspended for keyboard activity): states dsched's jobs are never in.
 */
const QSELECT_STATES: Record<string, string> = {
  B: 'false',
  E: 'JobStatus == 3 || JobStatus == 6',
  F: `(JobStatus == 3 || JobStatus == 4) && !(${SUBJOB})`,
  H: 'JobStatus == 5',
  M: 'false',
  Q: 'JobStatus == 1',
  R: 'JobStatus == 2',
  S: 'JobStatus == 7',
  T: 'false',
  U: 'false',
  W: 'false',
  X: `(JobStatus == 3 || JobStatus == 4) && ${SUBJOB}`,
};
const QSELECT_FINISHED = /[FX]/;
/** A held job's hold type as qstat -f's Hold_Types gives it (cli/shared/pbs-view.ts): an admin's o or s (qhold -h), else s for a hold the system placed, u for the owner's. */
const BY_OWNER = 'HoldReasonCode =?= undefined || HoldReasonCode == 1 || HoldReasonCode == 15';
const SYSTEM_HOLD = `DependencyHold =?= true || !(${BY_OWNER})`;
const QSELECT_HOLD_TYPES: Record<string, string> = {
  n: 'JobStatus != 5',
  u: `JobStatus == 5 && PbsHoldTypes =?= undefined && !(${SYSTEM_HOLD})`,
  o: 'JobStatus == 5 && (PbsHoldTypes =?= "o" || PbsHoldTypes =?= "os")',
  s: `JobStatus == 5 && (PbsHoldTypes =?= "s" || PbsHoldTypes =?= "os" || (PbsHoldTypes =?= undefined && (${SYSTEM_HOLD})))`,
};

/** A value for a ClassAd string: no quotes, backslashes or line breaks, so that it needs no escaping. */
function plainValue(option: string, v: string | undefined): string {
  if (!v || /["\\\n\r]/.test(v)) throw new DschedError('USAGE', `${option} needs a plain value\n${QSELECT_USAGE}`);
  return `"${v}"`;
}

/** qselect's arguments as dq's: the ids of the jobs that match, one a line (qdel $(qselect -u me)). */
export function qselectArgs(argv: string[]): { cmd: 'dq'; args: string[] } {
  const users: string[] = [];
  const constraints: string[] = [];
  let queue: string | undefined;
  let history = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-u') users.push(...userList(argv[++i], QSELECT_USAGE));
    else if (a === '-s') {
      const v = argv[++i] ?? '';
      const bad = [...v].filter((c) => !QSELECT_STATES[c]);
      if (!v || bad.length)
        throw new DschedError(
          'USAGE',
          `-s takes job states among ${Object.keys(QSELECT_STATES).join('')}\n${QSELECT_USAGE}`,
        );
      constraints.push([...new Set(v)].map((c) => `(${QSELECT_STATES[c]})`).join(' || '));
      if (QSELECT_FINISHED.test(v)) history = true;
    } else if (a === '-N') {
      const name = plainValue('-N', argv[++i]);
      constraints.push(`PbsJobName =?= ${name} || (PbsJobName =?= undefined && JobBatchName =?= ${name})`);
    } else if (a === '-A') constraints.push(`PbsAccount =?= ${plainValue('-A', argv[++i])}`);
    else if (a === '-q') queue = argv[++i] ?? '';
    else if (a === '-h') {
      const v = argv[++i] ?? '';
      if (!/^[uosn]+$/.test(v))
        throw new DschedError('USAGE', `-h takes hold types among u, o, s, n\n${QSELECT_USAGE}`);
      // the jobs whose Hold_Types (as qstat -f shows it) has any of the types named
      constraints.push([...new Set(v)].map((c) => `(${QSELECT_HOLD_TYPES[c]})`).join(' || '));
    } else if (a === '-x') history = true;
    else if (a === '--help' || a === '-help') throw new DschedError('USAGE', QSELECT_USAGE);
    else throw new DschedError('USAGE', `qselect: unknown option ${a}\n${QSELECT_USAGE}`);
  }
  const args = users.length ? [...users] : ['-allusers'];
  for (const c of constraints) args.push('-constraint', c);
  if (queue !== undefined) args.push('-queue', queue);
  return { cmd: 'dq', args: [...args, '-pbs', '-pbs-ids', ...(history ? ['-x'] : [])] };
}

type PbsValues = Pick<typeof import('../grammar/submit/pbs.js'), 'pbsSizeBytes' | 'pbsDurationSeconds'>;

const QALTER_USAGE =
  'usage: qalter [-l walltime=T,mem=M,ncpus=N | -l select=1:ncpus=N:mem=M] [-p PRIORITY] JOBID\n' +
  '  other attributes: dqedit JOBID ATTR VALUE (docs/commands/pbs.md)';

/** qalter -l: the job attributes of the resources it changes (a job's requests change while it is queued or held). */
function qalterResources(list: string, attrs: Record<string, string>, pbs: PbsValues): void {
  const bad = (why: string): never => {
    throw new DschedError('USAGE', `qalter -l ${list}: ${why}\n${QALTER_USAGE}`);
  };
  const memory = (v: string) => {
    const b = pbs.pbsSizeBytes(v);
    if (b === undefined || b <= 0) bad(`mem=${v} is not a size (e.g. 16gb, 512mb)`);
    return String(Math.ceil(b! / (1024 * 1024)));
  };
  const cpus = (v: string) => (/^[1-9]\d*$/.test(v) ? v : bad(`ncpus must be a whole number of cpus, found '${v}'`));
  for (const item of list.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) bad(`'${item}' is not resource=value`);
    const [k, v] = [item.slice(0, eq).toLowerCase(), item.slice(eq + 1)];
    if (k === 'walltime') {
      const t = pbs.pbsDurationSeconds(v);
      if (t === undefined) bad(`walltime '${v}' is not a duration ([[hours:]minutes:]seconds)`);
      attrs.AllowedJobDuration = String(t);
    } else if (k === 'mem') attrs.RequestMemory = memory(v);
    else if (k === 'ncpus') attrs.RequestCpus = cpus(v);
    else if (k === 'select') {
      // one chunk: its cpus and memory; more chunks would make it another (parallel) job
      const fields = v.split(':');
      if (/^\d+$/.test(fields[0]!) && fields.shift() !== '1') bad('only a select of one chunk (select=1:…) is changed');
      for (const f of fields) {
        const [fk, fv] = [f.slice(0, f.indexOf('=')).toLowerCase(), f.slice(f.indexOf('=') + 1)];
        if (fk === 'ncpus') attrs.RequestCpus = cpus(fv);
        else if (fk === 'mem') attrs.RequestMemory = memory(fv);
        else bad(`select's ${fk || f} is not changed by qalter here`);
      }
    } else bad(`${k} is not changed by qalter here (walltime, mem, ncpus, select are)`);
  }
}

/** qalter's arguments as dqedit's: the resources and priority of one queued or held job. */
export async function qalterArgs(argv: string[]): Promise<{ cmd: 'dqedit'; args: string[] }> {
  // PBS's size and duration words, loaded only here: qstat and qselect need none of the #PBS grammar
  const pbs = await import('../grammar/submit/pbs.js');
  const attrs: Record<string, string> = {};
  const ids: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const need = () => argv[++i] ?? bad(`${a} needs a value`);
    const bad = (why: string): never => {
      throw new DschedError('USAGE', `qalter: ${why}\n${QALTER_USAGE}`);
    };
    if (a === '-l') qalterResources(need(), attrs, pbs);
    else if (a === '-p') {
      const p = need();
      if (!/^-?\d+$/.test(p) || Math.abs(Number(p)) > 1024)
        bad(`-p ${p}: the priority is a whole number from -1024 to 1023`);
      attrs.JobPrio = String(Number(p));
    } else if (a === '--help' || a === '-help') throw new DschedError('USAGE', QALTER_USAGE);
    else if (a.startsWith('-'))
      bad(
        `${a} is not changed by qalter here (qhold/qrls hold and release; dqedit JOBID ATTR VALUE sets other attributes)`,
      );
    else ids.push(a);
  }
  if (ids.length !== 1) throw new DschedError('USAGE', `qalter: name one job id\n${QALTER_USAGE}`);
  if (!Object.keys(attrs).length) throw new DschedError('USAGE', `qalter: say what to change\n${QALTER_USAGE}`);
  return { cmd: 'dqedit', args: [ids[0]!, ...Object.entries(attrs).flat()] };
}

/** The commands dshim maps onto, loaded only when used (into this program, as the command agent loads them). */
const COMMANDS: Record<string, () => Promise<unknown>> = {
  dq: () => import('./dq.js'),
  dqedit: () => import('./dqedit.js'),
  dsubmit: () => import('./dsubmit.js'),
  drm: () => import('./drm.js'),
  dhold: () => import('./dhold.js'),
  drelease: () => import('./drelease.js'),
  dstatus: () => import('./dstatus.js'),
  dhistory: () => import('./dhistory.js'),
  dwait: () => import('./dwait.js'),
  'dsubmit-dag': () => import('./dsubmit-dag.js'),
  dprio: () => import('./dprio.js'),
  duserprio: () => import('./duserprio.js'),
  dtail: () => import('./dtail.js'),
  dchirp: () => import('./dchirp.js'),
};

async function main(): Promise<void> {
  const [name, ...words] = io().argv;
  // --debug is the command's (runCommand reads it), not qstat's or qselect's: as the command agent runs them
  const debug = words.includes('--debug') || !!io().env.DSCHED_DEBUG;
  const rest = words.filter((a) => a !== '--debug');
  try {
    const renamed = name === undefined ? undefined : renamedOf(name);
    const m = renamed
      ? { cmd: renamed[0]!, args: [...renamed.slice(1), ...rest] }
      : name === 'qstat'
        ? qstatArgs(rest)
        : name === 'qselect'
          ? qselectArgs(rest)
          : name === 'qalter'
            ? await qalterArgs(rest)
            : undefined;
    if (!m) throw new DschedError('USAGE', `dshim: no mapping for ${name ?? '(none)'}`);
    // the command registers its main instead of running it, so that it runs, and reports, as the name the user
    // typed (qstat: error[...], not dq: error[...])
    let command: CommandMain | undefined;
    hostCommands((_, loaded) => void (command = loaded));
    await COMMANDS[m.cmd]!();
    if (!command) throw new Error(`${m.cmd} did not register its command`);
    runInProcess(name!, command, { ...io(), argv: debug ? [...m.args, '--debug'] : m.args });
  } catch (e) {
    process.exitCode = printError(name ?? 'dshim', e, debug);
  }
}

// the command agent imports the mappings and runs qstat and qselect as dq itself (cli/dsched-agent.ts)
if (!hosted()) void main();
