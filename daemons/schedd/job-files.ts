// The files a job names (initial directory, executable, standard streams, event log, transferred files, a
// DAG) are all opened with the owner's rights; in addition the pool's own directories ($DSCHED_HOME and the
// authentication challenge directory) are refused outright at submit for users who are not pool
// administrators, so that no daemon ever creates or writes a file there on a user's behalf.
import { closeSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { asUser, openAs, type Owner } from '../../lib/as-user.js';
import { DschedError } from '../../lib/errors.js';
import { errnoText, fileList, inside } from '../../lib/transfer.js';
import { litValue } from './queue.js';
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

/** The path itself, or where it leads once links are followed (as the owner, as far as it exists). */
function real(path: string, owner: Owner | undefined): string {
  let p = path;
  for (let i = 0; i < 64; i++) {
    try {
      const r = asUser(owner, () => realpathSync(p));
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
 * Refuse a submission of a user who is not an administrator when a file of one of its jobs lies inside one
 * of `protectedDirs` (lexically or once links are followed), or when its initial directory is relative.
 */
export function checkJobFiles(attrs: Record<string, string>, owner: Owner | undefined, protectedDirs: readonly string[]): void {
  const roots = protectedDirs.flatMap((d) => [resolve(d), real(resolve(d), undefined)]);
  const str = (name: string) => {
    const v = attrs[name] === undefined ? undefined : litValue(attrs[name]!);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const iwd = str('Iwd');
  if (iwd !== undefined && !isAbsolute(iwd)) throw new DschedError('JOB_FILE_REFUSED', `initialdir ${iwd} is not an absolute path`);
  const check = (what: string, path: string) => {
    const full = resolve(iwd ?? '/', path);
    for (const target of [full, real(full, owner)])
      if (roots.some((root) => inside(root, target)))
        throw new DschedError('JOB_FILE_REFUSED', `${what} ${path} lies inside the pool's own directory ${protectedDirs.find((d) => inside(resolve(d), target) || inside(real(resolve(d), undefined), target)) ?? ''}; jobs may not name files there`);
  };
  for (const [attr, what] of Object.entries(PATH_ATTRS)) {
    const v = str(attr);
    if (v !== undefined && v !== '/dev/null') check(what, v);
  }
  for (const item of fileList(str('TransferInput'))) check('transfer_input_files entry', item);
  for (const to of parseRemaps(str('TransferOutputRemaps')).values()) check('transfer_output_remaps target', to);
}

/**
 * The submit event goes into each job's event log before the submission returns: a log the owner may not open
 * for appending refuses the submission (as condor_submit does), rather than jobs that run without their log.
 */
export function checkEventLogs(attrSets: ReadonlyArray<Record<string, string>>, owner: Owner | undefined): void {
  const seen = new Set<string>();
  for (const attrs of attrSets) {
    const v = attrs.UserLog === undefined ? undefined : litValue(attrs.UserLog);
    if (typeof v !== 'string' || v === '' || seen.has(v)) continue;
    seen.add(v);
    if (!isAbsolute(v)) throw new DschedError('JOB_FILE_REFUSED', `log ${v} is not an absolute path`);
    try {
      closeSync(openAs(owner, v, 'a', 0o644));
    } catch (e) {
      throw new DschedError('JOB_FILE_REFUSED', `cannot open the event log ${v}: ${errnoText(e)}`);
    }
  }
}
