// The HTCondor and PBS names whose options are dsched's own (`dsched shims install` writes them): each runs
// its dsched command, with these words first, under the name the user typed, so that its messages say
// `qsub: error[...]` or `condor_q: ...`, as the command the user knows would. qstat, qselect and qalter,
// whose options differ, are mapped by dshim.ts.
import { io } from './io.js';

export const RENAMED: Readonly<Record<string, readonly string[]>> = {
  condor_submit: ['dsubmit'],
  condor_q: ['dq'],
  condor_rm: ['drm'],
  condor_hold: ['dhold'],
  condor_release: ['drelease'],
  condor_status: ['dstatus'],
  condor_history: ['dhistory'],
  // condor_wait exits 0 once every job has ended, however it ended (dwait -any-end)
  condor_wait: ['dwait', '-any-end'],
  condor_submit_dag: ['dsubmit-dag'],
  condor_prio: ['dprio'],
  condor_userprio: ['duserprio'],
  condor_qedit: ['dqedit'],
  condor_tail: ['dtail'],
  condor_chirp: ['dchirp'],
  qsub: ['dsubmit'],
  // PBS's qdel, qhold and qrls print nothing when they succeed (errors only)
  qdel: ['drm', '-pbs'],
  qhold: ['dhold', '-pbs'],
  qrls: ['drelease', '-pbs'],
};

/** The command and first words a renamed name runs, or undefined for any other name. */
export const renamedOf = (name: string): readonly string[] | undefined =>
  Object.hasOwn(RENAMED, name) ? RENAMED[name] : undefined;

/** The dsched command a name runs (itself when it is not a renamed one). */
export const commandOf = (name: string): string => renamedOf(name)?.[0] ?? name;

/**
 * The name `cmd` runs under: a renamed one (condor_q for dq, qsub for dsubmit) is the name the user typed, and
 * its --version and usage lines say it, as its errors do.
 */
export function typedName(cmd: string): string {
  const typed = io().command;
  return typed !== undefined && typed !== cmd && commandOf(typed) === cmd ? typed : cmd;
}

/** `usage` with its usage lines (`usage: CMD ...` and those under it) naming the command as typed. */
export function usageAs(cmd: string, usage: string): string {
  const name = typedName(cmd);
  if (name === cmd) return usage;
  return usage.replace(new RegExp(`^(usage: |       )${cmd} `, 'gm'), `$1${name} `);
}
