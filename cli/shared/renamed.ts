// The HTCondor and PBS names whose options are dsched's own (`dsched shims install` writes them): each runs
// its dsched command, with these words first, under the name the user typed, so that its messages say
// `qsub: error[...]` or `condor_q: ...`, as the command the user knows would. qstat, qselect and qalter,
// whose options differ, are mapped by dshim.ts.
export const RENAMED: Readonly<Record<string, readonly string[]>> = {
  condor_submit: ['dsubmit'],
  condor_q: ['dq'],
  condor_rm: ['drm'],
  condor_hold: ['dhold'],
  condor_release: ['drelease'],
  condor_status: ['dstatus'],
  condor_history: ['dhistory'],
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
