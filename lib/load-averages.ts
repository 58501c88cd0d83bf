// The load averages a slot ad carries: the machine's (LoadAvg, TotalLoadAvg), its jobs' (CondorLoadAvg,
// TotalCondorLoadAvg). They move all the time, so they are no change of an ad's version, and a renewal
// of an unchanged ad carries them (the collector sets them and nothing else a renewal carries).
export const LOAD_AVERAGES: ReadonlySet<string> = new Set([
  'LoadAvg',
  'TotalLoadAvg',
  'CondorLoadAvg',
  'TotalCondorLoadAvg',
]);
