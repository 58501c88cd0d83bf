// A DAG's own configuration file (DAGMan's `CONFIG file` line, or `dsubmit-dag --config file`): HTCondor config
// syntax, `NAME = value` lines, of which only the DAGMAN_* knobs the DAG manager has take effect. Read at submit
// (so a bad line is refused there, at its file:line, before anything is queued) and again by the schedd each
// time it starts or resumes the DAG.
import { SourceError } from '../../lib/errors.js';
import { MAX_RESCUE_NUM } from './rescue.js';
import { readSourceFile } from '../source.js';

/** What a CONFIG file sets; fields are named as the DAG engine's options, and absent when not set. */
export interface DagmanSettings {
  maxJobs?: number;
  maxIdle?: number;
  maxPre?: number;
  maxPost?: number;
  maxSubmitAttempts?: number;
  maxRescue?: number;
  alwaysRunPost?: boolean;
  retrySubmitFirst?: boolean;
  retryNodeFirst?: boolean;
}

export interface DagmanConfig {
  engine: DagmanSettings;
  /** DAGMAN_DEFAULT_APPEND_VARS, for parsing the DAG (DagParseOptions.appendVarsByDefault) */
  appendVarsByDefault?: boolean;
  /**
   * settings that are not DAGMan knobs of dsched, with their line numbers: ignored, as DAGMan ignores them, and
   * warned of (at submit and in the DAG's dagman.out) with `why`
   */
  ignored: Array<{ name: string; line: number; why: string }>;
}

/** The integer knobs, with the least value each accepts. */
const INT_KNOBS: Record<string, { key: keyof DagmanSettings; min: number; max?: number }> = {
  DAGMAN_MAX_JOBS_SUBMITTED: { key: 'maxJobs', min: 0 },
  DAGMAN_MAX_JOBS_IDLE: { key: 'maxIdle', min: 0 },
  DAGMAN_MAX_PRE_SCRIPTS: { key: 'maxPre', min: 0 },
  DAGMAN_MAX_POST_SCRIPTS: { key: 'maxPost', min: 0 },
  DAGMAN_MAX_SUBMIT_ATTEMPTS: { key: 'maxSubmitAttempts', min: 1 },
  DAGMAN_MAX_RESCUE_NUM: { key: 'maxRescue', min: 0, max: MAX_RESCUE_NUM },
};

/** The true/false knobs: the engine's option, or the DAG reader's (DAGMAN_DEFAULT_APPEND_VARS). */
const BOOL_KNOBS: Record<string, keyof DagmanSettings | 'appendVarsByDefault'> = {
  DAGMAN_ALWAYS_RUN_POST: 'alwaysRunPost',
  DAGMAN_RETRY_SUBMIT_FIRST: 'retrySubmitFirst',
  DAGMAN_RETRY_NODE_FIRST: 'retryNodeFirst',
  DAGMAN_DEFAULT_APPEND_VARS: 'appendVarsByDefault',
};

/** Every knob this file takes, for the warning about the others. */
export const DAGMAN_KNOBS = [...Object.keys(INT_KNOBS), ...Object.keys(BOOL_KNOBS)].sort();

/** A CONFIG file is a handful of lines; a bigger one (or a device) is a mistake or an attack on the schedd. */
export const MAX_DAGMAN_CONFIG_BYTES = 64 * 1024;

/**
 * Read the DAGMAN_* settings of a CONFIG file's text. A line that is not `NAME = value`, or a knob of ours
 * with a value it cannot take, is an error at its line; other names are listed in `ignored`.
 */
export function readDagmanConfig(text: string, file = 'CONFIG'): DagmanConfig {
  const out: DagmanConfig = { engine: {}, ignored: [] };
  const lines = text.split('\n');
  const fail = (n: number, column: number, message: string): never => {
    throw new SourceError('CONFIG_INVALID', message, { file, line: n + 1, column }, lines[n]!.replace(/\r$/, ''), {
      hint: 'a DAG CONFIG file holds `DAGMAN_NAME = value` lines (HTCondor config syntax); see dsubmit-dag --help',
    });
  };
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!.replace(/\r$/, '');
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) fail(n, raw.indexOf(line) + 1, 'expected `NAME = value`');
    const name = m![1]!.toUpperCase();
    const value = m![2]!.trim();
    const valueColumn = raw.length - raw.trimStart().length + line.length - m![2]!.length + 1;
    const int = INT_KNOBS[name];
    if (int) {
      const v = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
      if (!(v >= int.min && v <= (int.max ?? Infinity)))
        fail(
          n,
          valueColumn,
          `${name} must be an integer ${int.max !== undefined ? `from ${int.min} to ${int.max}` : `of at least ${int.min}`}, not '${value}'`,
        );
      out.engine[int.key] = v as never;
    } else if (BOOL_KNOBS[name]) {
      if (!/^(true|false|yes|no|t|f|1|0)$/i.test(value))
        fail(n, valueColumn, `${name} must be true or false, not '${value}'`);
      const b = /^(true|yes|t|1)$/i.test(value);
      const key = BOOL_KNOBS[name];
      if (key === 'appendVarsByDefault') out.appendVarsByDefault = b;
      else out.engine[key] = b as never;
    } else {
      out.ignored.push({
        name,
        line: n + 1,
        why: name.startsWith('DAGMAN_')
          ? `${name} is not a setting dsched's DAG manager has (it takes ${DAGMAN_KNOBS.join(', ')}); ignored`
          : `${name} is not a DAGMan setting; ignored`,
      });
    }
  }
  return out;
}

/**
 * Read and check a CONFIG file with the caller's rights (the schedd calls this as the DAG's owner): a regular
 * file of at most MAX_DAGMAN_CONFIG_BYTES. Synchronous, so that it can run inside asUser.
 */
export function readDagmanConfigFile(path: string): DagmanConfig {
  return readDagmanConfig(readSourceFile(path, MAX_DAGMAN_CONFIG_BYTES, 'the DAG CONFIG file', 'CONFIG_INVALID'), path);
}
