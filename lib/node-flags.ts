// The V8 flags each daemon runs with, sized for its real work: every MB a daemon holds is taken from the
// jobs of its host. The young generation (semi-spaces) grows to 16 MB twice over under bursts of allocation
// (a burst of job starts) and stays committed; daemons whose live objects are small keep it at a few MB and
// pay a few more, short scavenges instead. Heap limits only where a daemon's work is bounded: the master
// holds one record per daemon, so a runaway there is a bug to stop.
// DSCHED_DAEMON_NODE_ARGS comes after these and so overrides them.
const FLAGS: Record<string, readonly string[]> = {
  master: ['--max-semi-space-size=1', '--max-old-space-size=128'],
  startd: ['--max-semi-space-size=2'],
};

/** Node flags to start the daemon (master, startd, …) with. */
export function daemonNodeFlags(daemon: string): string[] {
  return [...(FLAGS[daemon] ?? [])];
}
