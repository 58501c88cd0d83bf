#!/usr/bin/env node
// The PBS and HTCondor command names whose options differ from dsched's: `dshim.js qstat ARGS` maps qstat's
// options onto dq -pbs and runs it in this process. Not a command of its own (not on PATH):
// the scripts `dsched shims install DIR` writes call it.
import { join } from 'node:path';
import { DschedError } from '../lib/errors.js';
import { printError } from './shared/run-cli.js';
import { distCliDir } from './shared/shims.js';

const QSTAT_USAGE = 'usage: qstat [-f] [-x] [-r | -i] [-t] [-J] [-u USER[,USER...]] [JOBID...]';

/** qstat's arguments as dq's. */
export function qstatArgs(argv: string[]): { cmd: 'dq'; args: string[] } {
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
    // -t (subjobs too): dq -pbs lists an array's subjobs anyway; -J: array jobs only
    else if (a === '-t') continue;
    else if (a === '-J') constraints.push('PbsArrayId =!= undefined');
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
  if (!ids.length && !users.length) args.push('-allusers');
  for (const c of constraints) args.push('-constraint', c);
  // dq's own qstat views (its table, and -f's long form with PBS's names); -x adds the finished jobs
  return { cmd: 'dq', args: [...args, '-pbs', ...(long ? ['-f'] : []), ...(history ? ['-x'] : [])] };
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  try {
    if (name !== 'qstat') throw new DschedError('USAGE', `dshim: no mapping for ${name ?? '(none)'}`);
    const m = qstatArgs(rest);
    const file = join(distCliDir(), `${m.cmd}.js`);
    // the command reads its arguments from process.argv when it loads
    process.argv = [process.argv[0]!, file, ...m.args];
    await import(file);
  } catch (e) {
    process.exitCode = printError(name ?? 'dshim', e, !!process.env.DSCHED_DEBUG);
  }
}

void main();
