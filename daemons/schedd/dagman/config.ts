// A DAG's CONFIG file (HTCondor config syntax, `NAME = value` lines): the DAGMAN_* knobs the engine has.
// Command-line options (-maxjobs …) win over it, as in DAGMan; unknown knobs are reported, not fatal.
import type { DagEngineOptions } from './engine.js';

export interface DagmanConfig {
  engine: DagEngineOptions;
  /** DAGMAN_DEFAULT_APPEND_VARS, for parsing (DagParseOptions.appendVarsByDefault) */
  appendVarsByDefault?: boolean;
  /** knobs that were not understood, with their line numbers */
  ignored: Array<{ name: string; line: number }>;
}

const INT_KNOBS: Record<string, keyof DagEngineOptions> = {
  DAGMAN_MAX_JOBS_SUBMITTED: 'maxJobs',
  DAGMAN_MAX_JOBS_IDLE: 'maxIdle',
  DAGMAN_MAX_PRE_SCRIPTS: 'maxPre',
  DAGMAN_MAX_POST_SCRIPTS: 'maxPost',
  DAGMAN_MAX_SUBMIT_ATTEMPTS: 'maxSubmitAttempts',
  DAGMAN_MAX_RESCUE_NUM: 'maxRescue',
};

/** Read the DAGMAN_* settings of a CONFIG file's text. */
export function readDagmanConfig(text: string): DagmanConfig {
  const out: DagmanConfig = { engine: {}, ignored: [] };
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      out.ignored.push({ name: line, line: n + 1 });
      continue;
    }
    const name = m[1]!.toUpperCase();
    const value = m[2]!.trim();
    const intKey = INT_KNOBS[name];
    if (intKey && /^\d+$/.test(value)) {
      (out.engine as Record<string, number>)[intKey] = Number(value);
    } else if (name === 'DAGMAN_ALWAYS_RUN_POST' && isBool(value)) {
      out.engine.alwaysRunPost = toBool(value);
    } else if (name === 'DAGMAN_DEFAULT_APPEND_VARS' && isBool(value)) {
      out.appendVarsByDefault = toBool(value);
    } else {
      out.ignored.push({ name, line: n + 1 });
    }
  }
  return out;
}

/** Options from the command line over those from the CONFIG file (undefined means "not given"). */
export function mergeDagmanOptions(fromConfig: DagEngineOptions, fromCommandLine: DagEngineOptions): DagEngineOptions {
  const out: DagEngineOptions = { ...fromConfig };
  for (const [k, v] of Object.entries(fromCommandLine)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function isBool(v: string): boolean {
  return /^(true|false|yes|no|1|0)$/i.test(v);
}

function toBool(v: string): boolean {
  return /^(true|yes|1)$/i.test(v);
}
