// A full collection with compaction once a burst of work is over, so that a daemon gives back the heap the
// burst grew. V8's own memory reducer compacts a process's heap only once its committed memory grew by more
// than 10 MB since its last run: a daemon whose heap grows by 4-7 MB in a burst of job starts kept the burst's
// garbage and half-empty pages for as long as it ran, since its periodic work afterwards allocates too little
// to start another full collection. When a full collection V8 makes on its own leaves more than TRIM_SLACK
// bytes committed beyond what is in use, the daemon makes one more, TRIM_DELAY_MS after it, pushed back by any
// later one: one per burst, none while work goes on (made 10 s after each, it cost the schedd 10-20% more CPU per
// job in a burst of 2000 jobs). A heap that grew by TRIM_SLACK since the last trim with no full collection
// of V8's own for TRIM_DELAY_MS (the negotiator's and collector's bursts are scavenged away) is trimmed too:
// one trim per TRIM_SLACK of growth at most. Only a trim compacts every page (--compact-on-every-full-gc at
// each collection gave back as much, at the same cost).
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

export const TRIM_DELAY_MS = 20_000;
export const TRIM_SLACK = 3 << 20;

/** Start trimming the heap after bursts; nothing without --expose-gc (a daemon not started by a master). */
export function trimHeapAfterBursts(delayMs = TRIM_DELAY_MS, slack = TRIM_SLACK): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  const trim = () => {
    setFlagsFromString('--compact-on-every-full-gc');
    try {
      gc();
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc');
    }
  };
  let timer: NodeJS.Timeout | undefined;
  /** when V8 last made a full collection of its own */
  let lastMajor = 0;
  /** what was committed after the last trim */
  let floor = getHeapStatistics().total_physical_size;
  const trimNow = () => {
    timer = undefined;
    trim();
    floor = getHeapStatistics().total_physical_size;
  };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { detail } = entry as PerformanceEntry & { detail?: { kind?: number; flags?: number } };
      // a forced one is this trim's own
      if (detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      if ((detail.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) continue;
      lastMajor = Date.now();
      clearTimeout(timer);
      timer = undefined;
      const heap = getHeapStatistics();
      if (heap.total_physical_size - heap.used_heap_size < slack) continue;
      timer = setTimeout(trimNow, delayMs);
      timer.unref();
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  // a heap that grew by `slack` with no full collection at all (a burst small enough for scavenges alone)
  setInterval(() => {
    if (timer || Date.now() - lastMajor < delayMs) return;
    if (getHeapStatistics().total_physical_size - floor >= slack) trimNow();
  }, delayMs).unref();
}
