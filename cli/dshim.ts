#!/usr/bin/env node
// The PBS and HTCondor command names whose options differ from dsched's: `dshim.js qstat ARGS` maps qstat's
// options onto dq -pbs (or dhistory for -x) and runs it in this process. Not a command of its own (not on PATH):
// the scripts `dsched shims install DIR` writes call it.
import { join } from 'node:path';
import { DschedError } from '../lib/errors.js';
import { printError } from './shared/run-cli.js';
import { distCliDir } from './shared/shims.js';

const QSTAT_USAGE = 'usage: qstat [-f] [-x] [-r | -i] [-u USER[,USER...]] [JOBID...]';

// qstat's columns: Job id, Name, User, Time Use, S (Q R H E F), Queue
const ID = 'ifThenElse(isUndefined(PbsJobId), strcat(ClusterId, ".", ProcId), PbsJobId)';
const NAME = 'ifThenElse(isUndefined(PbsJobName), split(Cmd, "/")[size(split(Cmd, "/")) - 1], PbsJobName)';
// CPU time as HH:MM:SS
const SECS = 'int(ifThenElse(isUndefined(RemoteUserCpu), 0, RemoteUserCpu))';
const two = (n: string) => `ifThenElse(${n} < 10, "0", ""), ${n}`;
const CPU = `strcat(${two(`(${SECS} / 3600)`)}, ":", ${two(`((${SECS} % 3600) / 60)`)}, ":", ${two(`(${SECS} % 60)`)})`;
const STATE =
  'ifThenElse(JobStatus == 1, "Q", ifThenElse(JobStatus == 2, "R", ifThenElse(JobStatus == 5, "H", ifThenElse(JobStatus == 3, "E", "F"))))';
const QUEUE = 'ifThenElse(isUndefined(PbsQueue), "workq", PbsQueue)';
const HEADER =
  'Job id            Name             User              Time Use S Queue\n' +
  '----------------  ---------------- ----------------  -------- - -----\n';

/** qstat's arguments as dq's (or dhistory's); `header` says whether to print qstat's column titles first. */
export function qstatArgs(argv: string[]): { cmd: 'dq' | 'dhistory'; args: string[]; header: boolean } {
  let long = false;
  let history = false;
  const users: string[] = [];
  const ids: string[] = [];
  const constraints: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-f') long = true;
    else if (a === '-x' || a === '-H') history = true;
    else if (a === '-r') constraints.push('JobStatus == 2');
    else if (a === '-i') constraints.push('JobStatus == 1 || JobStatus == 5');
    else if (a === '-u') {
      const v = argv[++i];
      if (!v) throw new DschedError('USAGE', `-u needs a user name\n${QSTAT_USAGE}`);
      users.push(
        ...v
          .split(',')
          .map((u) => u.replace(/@.*$/, ''))
          .filter(Boolean),
      );
    } else if (a === '-a' || a === '-w' || a === '-1' || a === '-n' || a === '-s') {
      /* other layouts of the same listing: the standard one serves */
    } else if (a === '-Q' || a === '-q' || a === '-B')
      throw new DschedError(
        'USAGE',
        `qstat ${a}: queue and server status are not shown in qstat's form (dq -pbs -queue NAME lists a queue's jobs; dstatus shows the machines)`,
      );
    else if (a === '--help' || a === '-help') throw new DschedError('USAGE', QSTAT_USAGE);
    else if (a.startsWith('-')) throw new DschedError('USAGE', `qstat: unknown option ${a}\n${QSTAT_USAGE}`);
    else ids.push(a);
  }
  const args = [...ids, ...users];
  // PBS's qstat shows every user's jobs unless told otherwise
  if (!ids.length && !users.length && !history) args.push('-allusers');
  for (const c of constraints) args.push('-constraint', c);
  // the queue: dq's own qstat views (its table, and -f's long form with PBS's names)
  if (!history) return { cmd: 'dq', args: [...args, '-pbs', ...(long ? ['-f'] : [])], header: false };
  if (long) return { cmd: 'dhistory', args: [...args, '-long'], header: false };
  args.push(
    '-format',
    '%-17.17s ',
    ID,
    '-format',
    '%-16.16s ',
    NAME,
    '-format',
    '%-17.17s ',
    'Owner',
    '-format',
    '%8s ',
    CPU,
    '-format',
    '%s ',
    STATE,
    '-format',
    '%s\n',
    QUEUE,
  );
  return { cmd: history ? 'dhistory' : 'dq', args, header: true };
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  try {
    if (name !== 'qstat') throw new DschedError('USAGE', `dshim: no mapping for ${name ?? '(none)'}`);
    const m = qstatArgs(rest);
    const file = join(distCliDir(), `${m.cmd}.js`);
    if (m.header) process.stdout.write(HEADER);
    // the command reads its arguments from process.argv when it loads
    process.argv = [process.argv[0]!, file, ...m.args];
    await import(file);
  } catch (e) {
    process.exitCode = printError(name ?? 'dshim', e, !!process.env.DSCHED_DEBUG);
  }
}

void main();
