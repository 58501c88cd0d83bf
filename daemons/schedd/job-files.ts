// The files a job names (initial directory, executable, standard streams, event log, transferred files, a
// DAG) are all opened with the owner's rights; in addition the pool's own directories ($DSCHED_HOME and the
// authentication challenge directory) are refused outright at submit for users who are not pool
// administrators, so that no daemon ever creates or writes a file there on a user's behalf.
import { closeSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { asUser, openFileAs, type Owner } from '../../lib/as-user.js';
import { DschedError } from '../../lib/errors.js';
import { errnoText, fileList, inside } from '../../lib/transfer.js';
import { isExpressionText, litValue } from './queue.js';
import { parseRemaps } from './transfer.js';

/** Job attributes that name one file or directory, with the submit command that sets each. */
const PATH_ATTRS: Record<string, string> = {
  Iwd: 'initialdir',
  Cmd: 'executable',
  In: 'input',
  Out: 'output',
  Err: 'error',
  UserLog: 'log',
  DAGManDagFile: 'the DAG file',
};

const FILE_ATTRS = [...Object.keys(PATH_ATTRS), 'TransferInput', 'TransferOutputRemaps'];

/** The path itself, or where it leads once links are followed (as far as it exists). */
function real(path: string): string {
  let p = path;
  for (let i = 0; i < 64; i++) {
    try {
      const r = realpathSync(p);
      return p === path ? r : resolve(r, path.slice(p.length + 1));
    } catch {
      const up = dirname(p);
      if (up === p) return path;
      p = up;
    }
  }
  return path;
}

/**
 * Refuse a submission of a user who is not an administrator when a file of one of its jobs (a proc's
 * attributes over the cluster's) lies inside one of `protectedDirs`, lexically or once links
 * are followed (as the owner), or when its initial directory is relative. Each distinct path is looked at
 * once, so a large cluster costs what its distinct file names cost.
 */
export function checkJobFiles(
  cluster: Record<string, string>,
  procs: ReadonlyArray<Record<string, string>>,
  owner: Owner | undefined,
  protectedDirs: readonly string[],
): void {
  const roots = protectedDirs.map((d) => ({ dir: d, forms: [resolve(d), real(resolve(d))] }));
  const named = new Map<string, string>(); // full path -> what names it
  const seen = new Set<string>();
  for (const proc of procs.length ? procs : [{}]) {
    const raw = (name: string) => proc[name] ?? cluster[name];
    // procs that name the same files (most of a large cluster) are looked at once
    const key = JSON.stringify(FILE_ATTRS.map(raw));
    if (seen.has(key)) continue;
    seen.add(key);
    const str = (name: string) => {
      const text = raw(name);
      // an expression's file is known only in the job's ad, where this check would not see it
      if (text !== undefined && isExpressionText(text))
        throw new DschedError('JOB_FILE_REFUSED', `${name} = ${text} is not a file name (a string)`);
      const v = text === undefined ? undefined : litValue(text);
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    const iwd = str('Iwd');
    if (iwd !== undefined && !isAbsolute(iwd))
      throw new DschedError('JOB_FILE_REFUSED', `initialdir ${iwd} is not an absolute path`);
    const add = (what: string, path: string) => {
      const full = resolve(iwd ?? '/', path);
      if (!named.has(full)) named.set(full, `${what} ${path}`);
    };
    for (const [attr, what] of Object.entries(PATH_ATTRS)) {
      const v = str(attr);
      if (v !== undefined && v !== '/dev/null') add(what, v);
    }
    for (const item of fileList(str('TransferInput'))) add('transfer_input_files entry', item);
    for (const to of parseRemaps(str('TransferOutputRemaps')).values()) add('transfer_output_remaps target', to);
  }
  if (!roots.length || !named.size) return;
  const paths = [...named.keys()];
  // links are followed with the owner's rights: what the owner cannot see is not revealed either way
  const reals = asUser(owner, () => paths.map(real));
  paths.forEach((full, i) => {
    const root = roots.find((r) => r.forms.some((f) => inside(f, full) || inside(f, reals[i]!)));
    if (root)
      throw new DschedError(
        'JOB_FILE_REFUSED',
        `${named.get(full)} lies inside the pool's own directory ${root.dir}; jobs may not name files there`,
      );
  });
}

/**
 * The submit event goes into each job's event log before the submission returns: a log the owner may not open
 * for appending refuses the submission (as condor_submit does), rather than jobs that run without their log.
 */
export function checkEventLogs(attrSets: ReadonlyArray<Record<string, string>>, owner: Owner | undefined): void {
  const seen = new Set<string>();
  for (const attrs of attrSets) {
    if (attrs.UserLog !== undefined && isExpressionText(attrs.UserLog))
      throw new DschedError('JOB_FILE_REFUSED', `UserLog = ${attrs.UserLog} is not a file name (a string)`);
    const v = attrs.UserLog === undefined ? undefined : litValue(attrs.UserLog);
    if (typeof v !== 'string' || v === '' || seen.has(v)) continue;
    seen.add(v);
    if (!isAbsolute(v)) throw new DschedError('JOB_FILE_REFUSED', `log ${v} is not an absolute path`);
    try {
      closeSync(openFileAs(owner, v, 'append'));
    } catch (e) {
      throw new DschedError('JOB_FILE_REFUSED', `cannot open the event log ${v}: ${errnoText(e)}`);
    }
  }
}
