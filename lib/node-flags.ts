// The V8 flags each daemon runs with, sized for its real work: every MB a daemon holds is taken from the
// jobs of its host. The young generation (semi-spaces) grows to 16 MB twice over under bursts of allocation
// (a burst of job starts) and stays committed; daemons whose live objects are small keep it at a few MB and
// pay a few more, short scavenges instead. Heap limits only where a daemon's work is bounded: the master
// holds one record per daemon, so a runaway there is a bug to stop.
// The master runs in V8's lite mode, which in node 20 is jitless: bytecode only, no optimizing compiler,
// feedback allocated lazily, heap growth sized for memory, no WebAssembly (said explicitly, or V8 warns at
// each start). It only waits for its daemons and a rare RPC, and so saves the optimized code and the pages of
// the node binary that hold the compilers (1-2 MB on every host). The startd does not: with 128 jobs it
// encodes their slot ads and evaluates their policy every few seconds, and in lite mode (or with a 1 MB young
// generation) it spent 10-20% more CPU per job and half as much again while they ran, all of it in more
// frequent collections. It runs without the optimizing compiler only (--max-opt=1: bytecode and V8's baseline
// compiler, Sparkplug, with the usual heap): TurboFan's code in the node binary is 3.3 MB of pages an idle
// startd touched all the same (a few functions of its start grow hot); without it an idle startd is 53.7-53.8
// instead of 57.3 MB RSS (bench/memory.ts), at the same CPU per job within the runs' spread (bench/pool-ab.mjs,
// 3 rounds: 2.22 against 2.31 ms). Its KFlops/Mips benchmarks, which must time the machine rather than its
// baseline code, run in a node process of their own (daemons/startd/resources.ts).
// The startd collects on its own thread (--single-threaded-gc), leaving the other cores to the jobs: an idle
// startd alone (no collector) kept 14.4 MB private instead of 16-20 MB, which V8's GC threads left behind at
// times; in bench/memory.ts's execute host the gain is small (58.0-58.2 against 58.3-58.4 MB RSS), and the
// CPU per job is the same (bench/pool-throughput.ts A/B). --optimize-for-size held 128 running jobs in 78 MB instead of 95-115 but cost the startd
// 20-25% more CPU per job start; --heap-growing-percent=50 (84 MB) 5-10%: neither is used.
// The startd also keeps one V8 worker thread instead of node's four (--v8-pool-size=1): with its collections on
// its own thread they only compile in the background, and each idle thread held its stack and malloc arena
// (an idle startd 56.9 MB RSS, 14.0 private, instead of 57.9 and 15.0 in bench/memory.ts).
// The central daemons (schedd, negotiator, collector) keep their young generation at 2 MB semi-spaces too: a
// burst of job starts grew it to 4-8 MB semi-spaces (16 MB committed in the negotiator), kept for as long
// as the daemon ran, while what survives a scavenge there is a few hundred KB. They keep one V8 worker thread
// too (--v8-pool-size=1): each of node's four held a malloc arena of its own that background compiles and
// marking grew to 1.2-1.4 MB once jobs ran and kept (5 MB of the collector's 6 MB growth with 128 running
// jobs, while its live heap grew by 0.5 MB); the memory each running job adds across all daemons went from
// 256 to 201 KiB in bench/memory.ts (collector 39 to 23, negotiator 51 to 28, schedd 93 to 75). Capping
// glibc's arenas (MALLOC_ARENA_MAX=2) did about as well (211 KiB) but is glibc's alone and an environment
// variable each way of starting a daemon would have to set. Their CPU per job did not grow (bench/pool-ab.mjs,
// 3 rounds: schedd 1.67 against 1.72 ms, collector 0.50 against 0.65, negotiator 0.43 both).
// What each running job then still added (bench/memory.ts, 128 sleeping jobs: 189-201 KiB across all daemons,
// startd 65-68, schedd 61-74) was little of it live objects: heap snapshots with 0 and 128 jobs, after a full
// collection, held 3.5 MB more in the startd (1.7 of it code compiled for the job path: baseline code, bytecode
// and feedback; 1.2 the jobs' ClassAds and records, about 9 KB a job), 2.0 MB more in the schedd (1.4 code),
// 1.9 in the negotiator, 0.5 in the collector. The rest was heap V8 kept committed after the burst of job
// starts: its last full collection in the burst left the startd and the schedd at 17 MB committed for 12-13 MB
// in use, and none followed (V8's memory reducer runs again only once committed memory grew by 10 MB, and the
// periodic work of 128 jobs allocates too little to start a full collection); a forced full collection alone
// gave nothing back, one that compacts every page did. So the startd and the central daemons run with
// --expose-gc, for one more full collection, compacting, once a burst is over (lib/heap-trim.ts):
// 117-129 KiB per running job instead of 189-201 (startd 32-36 instead of 65-68, schedd 36-39 instead of
// 61-74, negotiator 16-25 instead of 24-33, collector 21-22; three runs), and no more CPU per job (bench/pool-ab.mjs, 3 rounds
// on a loaded machine: 6.13 against 5.98 ms all processes, each daemon's within 0.03 ms of main's).
// Measured and not used: a 1 MB young generation on top (153 KiB, but more scavenges: rejected before for the
// startd's CPU; for the central daemons alone, with the trim: 122 and 122 KiB against 144 and 117, alternating,
// load average 8-21, their share 86 and 84 against 100 and 79, within the runs' spread, at the same CPU per job,
// bench/pool-ab.mjs 3 rounds: schedd 1.56 against 1.57 ms), SQLite's page cache cut to 256 KiB in the schedd (no change), --flush-baseline-code (within
// the runs' spread), --optimize-for-size for all (200 KiB), --no-sparkplug for the central daemons (V8's
// baseline code is about 1 MB of what the schedd grows by with 128 jobs; without it the schedd grew by as
// much, 37 KiB a job, and the collector and negotiator within their spread).
// With 128 running jobs the startd's young generation is what swings most (V8's heap statistics every 2 s):
// the trim leaves it at 0.27 MB committed, and the periodic work of 128 jobs (usage, slot ad renewals) grows
// it back to its cap, 4 MB for 2 MB semi-spaces, within 20 s: up to 30 KiB a job of bench/memory.ts's startd
// figure at 128 jobs, though none of it grows with the jobs. What each job keeps alive there is 6 KB now (its
// ad is kept packed: daemons/startd/job-ad.ts).
// Of what the central daemons grow by once 128 jobs run and that is not per job (the row against the slope),
// part is outside V8's heap, where heap snapshots do not see it (/proc/PID/smaps, one run): glibc's main
// arena ([heap]) grew from 4.0 to 6.2 MB in the schedd and by 0.8 MB in the collector and the negotiator, and
// the pages of the node binary each touched by 0.3-0.45 MB (shared between the daemons, though RSS counts them
// in each). No flag here gives those back, nor would glibc's settings: the arena is in use, not kept free (the
// schedd's 6.0 MB held 0.49 free; malloc_trim(0) called in the running daemons returned 0.06-0.31 MB each, about
// 7 KiB a job in all), and SQLite's page cache is not it (128 jobs' queue is 30 pages of 4 KiB). What the schedd
// held there (heaptrack) is V8's, OpenSSL's (its CA store, 0.8 MB) and node's code cache of its own modules loaded
// after the start (0.5 MB); the daemons keep no connection per job (docs/architecture.md). The collector's and negotiator's share fell with what the Watch
// stream carries instead: a renewal is told as its few texts (docs/architecture.md).
// DSCHED_DAEMON_NODE_ARGS comes after these and so overrides them.
const TRIM = ['--expose-gc'];
const CENTRAL = ['--max-semi-space-size=2', '--v8-pool-size=1', ...TRIM];
const FLAGS: Record<string, readonly string[]> = {
  master: ['--lite-mode', '--no-expose-wasm', '--max-semi-space-size=1', '--max-old-space-size=128'],
  startd: ['--max-semi-space-size=2', '--single-threaded-gc', '--v8-pool-size=1', '--max-opt=1', ...TRIM],
  schedd: CENTRAL,
  negotiator: CENTRAL,
  collector: CENTRAL,
};

/** Node flags to start the daemon (master, startd, …) with. */
export function daemonNodeFlags(daemon: string): string[] {
  return [...(FLAGS[daemon] ?? [])];
}
