// Rescue DAGs, in DAGMan's partial format: `file.dag.rescue001`, `…002`, … each recording the nodes that finished
// (DONE lines) and the RETRY settings, read together with the original DAG file when it is submitted again.
// Here because both the submit side (find the newest, -force, -dorescuefrom) and the DAG manager (write one) use them.
import { existsSync, lstatSync, readdirSync, renameSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DschedError } from '../../lib/errors.js';
import type { Dag, DagNode } from './graph.js';
import { parseDagFile, type DagParseOptions } from './graph.js';

/** DAGMAN_MAX_RESCUE_NUM: past it, the last rescue DAG is overwritten. */
export const MAX_RESCUE_NUM = 100;

/** `diamond.dag` + 3 → `diamond.dag.rescue003` */
export function rescueDagName(dagFile: string, n: number): string {
  return `${dagFile}.rescue${String(n).padStart(3, '0')}`;
}

/** The rescue DAGs that exist for `dagFile`, oldest first. */
export function findRescueDags(dagFile: string): Array<{ n: number; file: string }> {
  const dir = dirname(dagFile);
  const prefix = `${basename(dagFile)}.rescue`;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: Array<{ n: number; file: string }> = [];
  for (const e of entries) {
    if (!e.startsWith(prefix)) continue;
    const digits = e.slice(prefix.length);
    if (!/^\d{3,}$/.test(digits)) continue;
    out.push({ n: Number(digits), file: join(dir, e) });
  }
  return out.sort((a, b) => a.n - b.n);
}

/** The newest rescue DAG of `dagFile`, if any. */
export function newestRescueDag(dagFile: string): { n: number; file: string } | undefined {
  const all = findRescueDags(dagFile);
  return all[all.length - 1];
}

/** The name the next rescue DAG gets (the number after the newest, capped at MAX_RESCUE_NUM). */
export function nextRescueDagName(dagFile: string, maxRescue = MAX_RESCUE_NUM): string {
  const last = newestRescueDag(dagFile)?.n ?? 0;
  return rescueDagName(dagFile, Math.min(last + 1, maxRescue));
}

/**
 * Why a rescue DAG is not the reader's own (its effective uid's regular file, not a link), or undefined when it
 * is. A rescue DAG is applied as the word of the run that wrote it, so only one the DAG's owner wrote counts:
 * another user may place files beside a DAG in a folder others may write (/tmp, a shared project folder).
 */
export function notOwnRescueDag(file: string): string | undefined {
  try {
    const st = lstatSync(file);
    if (st.isSymbolicLink()) return 'it is a link';
    if (!st.isFile()) return 'it is not a regular file';
    if (st.uid !== process.geteuid!())
      return `it belongs to uid ${st.uid}, not to the DAG's owner (uid ${process.geteuid!()})`;
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}

/**
 * Rename this user's rescue DAGs numbered above `keepUpTo` to `….old` (DAGMan does this for -force, which keeps
 * none, and for -dorescuefrom N); another user's are left, as they are never applied. Returns the renamed files.
 */
export function retireRescueDags(dagFile: string, keepUpTo = 0): string[] {
  const renamed: string[] = [];
  for (const r of findRescueDags(dagFile)) {
    if (r.n <= keepUpTo || notOwnRescueDag(r.file)) continue;
    renameSync(r.file, `${r.file}.old`);
    renamed.push(r.file);
  }
  return renamed;
}

export interface LoadDagOptions extends DagParseOptions {
  /** start over: ignore (and retire) every rescue DAG */
  force?: boolean;
  /** resume from this rescue DAG number instead of the newest (retires the newer ones) */
  doRescueFrom?: number;
  /** told of each rescue DAG passed over as not the owner's own (notOwnRescueDag), with why */
  onForeignRescue?: (file: string, why: string) => void;
}

/**
 * Parse a DAG for running, as `condor_submit_dag file.dag` does: with the newest rescue DAG of the caller's own
 * applied (its DONE nodes do not run again), unless `force`. The rescue DAG used, if any, is `dag.rescueFile`.
 */
export function loadDagForRun(path: string, opts: LoadDagOptions = {}): Dag {
  return parseDagFile(path, dagOptionsForRun(path, opts));
}

/**
 * What loadDagForRun parses `path` with (the rescue DAG to apply), once it has retired the rescue DAGs that
 * -force or -DoRescueFrom set aside: for a caller that parses the DAG itself (in slices).
 */
export function dagOptionsForRun(path: string, opts: LoadDagOptions = {}): DagParseOptions {
  const { force, doRescueFrom, onForeignRescue, ...parseOpts } = opts;
  const abs = resolve(parseOpts.cwd ?? process.cwd(), path);
  if (force) {
    retireRescueDags(abs, 0);
    return parseOpts;
  }
  let rescue: string | undefined;
  if (doRescueFrom !== undefined) {
    rescue = rescueDagName(abs, doRescueFrom);
    if (!existsSync(rescue)) throw new DschedError('USAGE', `rescue DAG ${rescue} does not exist`);
    const why = notOwnRescueDag(rescue);
    if (why) throw new DschedError('PERMISSION_DENIED', `rescue DAG ${rescue} is not applied: ${why}`);
    retireRescueDags(abs, doRescueFrom);
  } else {
    // the newest of the owner's own: another user's, however numbered, is passed over
    for (const r of findRescueDags(abs).reverse()) {
      const why = notOwnRescueDag(r.file);
      if (!why) {
        rescue = r.file;
        break;
      }
      onForeignRescue?.(r.file, why);
    }
  }
  return rescue ? { ...parseOpts, rescueFile: rescue } : parseOpts;
}

export interface RescueNodeInfo {
  /** finished successfully (premarked DONE included) */
  done: boolean;
  failed: boolean;
}

/**
 * The text of a partial rescue DAG: a commented header with statistics and the failed nodes, a `DONE name` line
 * for each finished node (never the FINAL node), and a RETRY line for each node that has retries (reset to the
 * full count, DAGMan's DAGMAN_RESET_RETRIES_UPON_RESCUE default).
 */
export function formatRescueDag(dag: Dag, info: (node: DagNode) => RescueNodeInfo, now: Date = new Date()): string {
  const done: string[] = [];
  const failed: string[] = [];
  const body: string[] = [];
  for (const node of dag.nodes) {
    const i = info(node);
    if (i.failed) failed.push(node.name);
    if (i.done && node.type !== 'FINAL') {
      done.push(node.name);
      body.push(`DONE ${node.name}`);
    }
    if (node.retries > 0 && !i.done) {
      body.push(
        `RETRY ${node.name} ${node.retries}${node.unlessExit !== undefined ? ` UNLESS-EXIT ${node.unlessExit}` : ''}`,
      );
    }
  }
  const d = now;
  const created = `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} UTC`;
  const head = [
    '# Rescue DAG file, created after running',
    `#   the ${dag.file} DAG file`,
    `# Created ${created}`,
    '# Rescue DAG version: 2.0.1 (partial)',
    '#',
    `# Total number of Nodes: ${dag.nodes.length}`,
    `# Nodes premarked DONE: ${done.length}`,
    `# Nodes that failed: ${failed.length}`,
    `#   ${failed.map((n) => `${n},`).join('')}<ENDLIST>`,
    '',
  ];
  return `${head.join('\n')}\n${body.join('\n')}${body.length ? '\n' : ''}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
