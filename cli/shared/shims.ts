// `dsched shims install DIR`: the HTCondor and PBS command names, for scripts and workflow tools that call
// them (condor_submit job.sub, A=`qsub job.sh`, qstat). Each is a small sh script that runs the dsched
// command with this node and this installation's files, so it keeps working whatever PATH a job or a cron
// line has: through the commands' launcher (dist/cli/dcmd, told the node by DSCHED_NODE), so a workflow tool's
// thousands of qsub and qstat calls are served by the command agent as dsubmit's are. Those the launcher runs
// go by their own name (dshim.ts), so their messages say qsub: or condor_q:; the options are the dsched
// command's (cli/shared/renamed.ts) except qstat's, qselect's and qalter's, which dshim maps.
import { existsSync, lstatSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DschedError } from '../../lib/errors.js';
import { commandOf } from './renamed.js';
import { EXIT } from './run-cli.js';

/** name → [dsched command, what the name is] */
export const SHIMS: Record<string, [string, string]> = {
  condor_submit: ['dshim.js condor_submit', 'HTCondor: queue jobs from a submit description'],
  condor_q: ['dshim.js condor_q', 'HTCondor: the job queue'],
  condor_rm: ['dshim.js condor_rm', 'HTCondor: remove jobs'],
  condor_hold: ['dshim.js condor_hold', 'HTCondor: hold jobs'],
  condor_release: ['dshim.js condor_release', 'HTCondor: release held jobs'],
  condor_status: ['dshim.js condor_status', 'HTCondor: the machines'],
  condor_wait: ['dshim.js condor_wait', 'HTCondor: wait for the jobs of a log file (exit 0 once all have ended)'],
  condor_history: ['dshim.js condor_history', 'HTCondor: finished jobs'],
  condor_submit_dag: ['dshim.js condor_submit_dag', 'HTCondor: run a DAG'],
  condor_prio: ['dshim.js condor_prio', 'HTCondor: job priority'],
  condor_userprio: ['dshim.js condor_userprio', 'HTCondor: user priorities'],
  condor_chirp: ['dshim.js condor_chirp', 'HTCondor: a job updates its own ad'],
  condor_qedit: ['dshim.js condor_qedit', 'HTCondor: change attributes of queued jobs'],
  condor_tail: ['dshim.js condor_tail', "HTCondor: a running job's output"],
  qsub: ['dshim.js qsub', 'PBS: queue a script (prints the job id)'],
  qstat: ['dshim.js qstat', "PBS: the job queue in qstat's columns"],
  qselect: ['dshim.js qselect', 'PBS: the ids of the jobs that match (qdel $(qselect -u me))'],
  qalter: ['dshim.js qalter', "PBS: change a queued job's resources or priority"],
  // PBS's qdel, qhold and qrls print nothing when they succeed (errors only): cli/shared/renamed.ts
  qdel: ['dshim.js qdel', 'PBS: remove jobs'],
  qhold: ['dshim.js qhold', 'PBS: hold jobs'],
  qrls: ['dshim.js qrls', 'PBS: release held jobs'],
};

/**
 * PBS and HTCondor commands dsched has no counterpart for: their shims refuse at once (exit 2), saying what to
 * do instead, rather than leaving a script's `qrerun` to fail as a command not found.
 */
export const REFUSING_SHIMS: Record<string, string> = {
  qsig: 'dsched sends no signal to a job: qdel JOBID ends it; qhold JOBID stops it and holds it, qrls JOBID runs it again',
  qmove: 'dsched moves no job between queues: qdel the job and qsub it again with -q QUEUE',
  qorder: "dsched swaps no jobs: qalter -p PRIORITY JOBID orders a user's own jobs (higher starts first)",
  qrerun: 'dsched requeues no running job: qhold JOBID, then qrls JOBID, runs it again from its start',
  qmsg: "dsched writes no message into a job's output files",
  tracejob:
    'dsched keeps no server log per job to trace: qstat -xf JOBID shows when the job was queued, started and ended, where it ran, its exit status and comment',
  // an admin's first commands on a PBS server
  qmgr: "dsched has no server to manage: queues and their limits are settings in the pool's configuration file (QUEUES, QUEUE_<NAME>_MAX_WALLTIME, ...; dsched config -v QUEUES says which), applied with dsched reconfig; dsched drain HOST takes a host out of service",
  pbsnodes:
    'dsched keeps no node list: dstatus (condor_status) lists the execute hosts and their slots, dstatus -long every attribute; dsched drain HOST takes a host out of service',
  condor_vacate_job:
    'dsched sends no running job back to idle by itself: condor_hold JOBID stops it, then condor_release JOBID lets it run again, from its start',
  condor_transfer_data:
    "dsched spools no job (condor_submit -spool is refused): a job's output comes back to the paths it names as it ends",
  condor_config_val:
    'dsched config NAME prints a setting of the pool, dsched config -v NAME where it is set, dsched config all of them',
};

/** The folder of the built commands (dist/cli): where this file was bundled, or dist/cli beside the sources. */
export function distCliDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const d of [here, join(here, '..', 'dist', 'cli'), join(here, '..', '..', 'dist', 'cli')]) {
    if (existsSync(join(d, 'dq.js'))) return resolve(d);
  }
  throw new DschedError('USAGE', 'the built commands (dist/cli) are not there: run npm run build first');
}

/** sh single quotes: the only character to escape is ' itself. */
const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function shimScript(name: string, cliDir: string, node = process.execPath): string {
  const refusal = REFUSING_SHIMS[name];
  if (refusal !== undefined)
    return [
      '#!/bin/sh',
      `# ${name} (${name.startsWith('condor_') ? 'HTCondor' : 'PBS'}) has no dsched counterpart; written by dsched shims install`,
      `echo ${shQuote(`${name}: error[USAGE]: ${refusal}`)} >&2`,
      'exit 2',
      '',
    ].join('\n');
  const [target, what] = SHIMS[name]!;
  const [file, ...fixed] = target.split(' ');
  const launcher = join(cliDir, 'dcmd');
  // the launcher runs dsched's commands, and the names dshim.js runs (qstat, qsub, condor_q, …)
  const launched = file === 'dshim.js' ? fixed : file!.endsWith('.js') ? undefined : [file!, ...fixed];
  const run =
    launched && existsSync(launcher)
      ? `DSCHED_NODE=${shQuote(node)} exec ${shQuote(launcher)} ${launched.map(shQuote).join(' ')} "$@"`
      : `exec ${shQuote(node)} ${shQuote(join(cliDir, file!.endsWith('.js') ? file! : `${file}.js`))} ${fixed.map(shQuote).join(' ')}${fixed.length ? ' ' : ''}"$@"`;
  return [
    '#!/bin/sh',
    `# ${name} (${what}) runs dsched's ${file === 'dshim.js' ? commandOf(fixed[0]!) : file}; written by dsched shims install`,
    run,
    '',
  ].join('\n');
}

export function installShims(dir: string, force: boolean): number {
  const target = resolve(dir);
  const cliDir = distCliDir();
  mkdirSync(target, { recursive: true });
  const names = [...Object.keys(SHIMS), ...Object.keys(REFUSING_SHIMS)];
  const clash = names.filter((n) => {
    try {
      lstatSync(join(target, n));
      return true;
    } catch {
      return false;
    }
  });
  // a real HTCondor or PBS installation's command must not be replaced by accident
  if (clash.length && !force)
    throw new DschedError('USAGE', `${target} already has ${clash.join(', ')}`, {
      hint: 'dsched shims install DIR --force replaces them',
    });
  for (const name of names) {
    const p = join(target, name);
    // written beside and renamed over: a script running the old one never reads half a file
    writeFileSync(`${p}.tmp`, shimScript(name, cliDir), { mode: 0o755 });
    renameSync(`${p}.tmp`, p);
  }
  process.stdout.write(`dsched: wrote ${names.join(', ')} into ${target}\n`);
  if (!(process.env.PATH ?? '').split(':').some((d) => d && resolve(d) === target))
    process.stdout.write(`dsched: ${target} is not on your PATH; add it: export PATH="${target}:$PATH"\n`);
  return EXIT.ok;
}
