// A DAG's settings from its layers, as DAGMan takes them (later wins): the built-in defaults, the DAG's CONFIG
// file (grammar/dag/dagman-config.ts reads it), then the dsubmit-dag options (-maxjobs …). The pool
// configuration has no DAGMAN_* knobs: every DAG's defaults are DAGMan's.
import type { DagEngineOptions } from './engine.js';

/** Options from the command line over those from the CONFIG file (undefined means "not given"). */
export function mergeDagmanOptions(fromConfig: DagEngineOptions, fromCommandLine: DagEngineOptions): DagEngineOptions {
  const out: DagEngineOptions = { ...fromConfig };
  for (const [k, v] of Object.entries(fromCommandLine)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
