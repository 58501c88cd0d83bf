// The startd's half of file transfer: whether a job runs with transferred files, fetching its input into
// the sandbox before it starts, and listing the output it leaves there for the schedd to fetch.
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ClassAd } from '../../grammar/classad/index.js';
import type { MatchExpansion } from '../../grammar/submit/match-expand.js';
import { DschedError } from '../../lib/errors.js';
import {
  checkName,
  errnoText,
  fileList,
  receiveFiles,
  STDERR_NAME,
  STDOUT_NAME,
  TRANSFER_INPUT_ATTRS,
  type SendEntry,
} from '../../lib/transfer.js';
import type { FileChunk__Output } from '../../lib/rpc/generated/dsched/v1/FileChunk.js';

const str = (ad: ClassAd, n: string) => {
  const v = ad.lookupJS(n);
  return typeof v === 'string' ? v : undefined;
};

/** YES always; IF_NEEDED when the job comes from another file system domain (no shared file system). */
export function wantsTransfer(job: ClassAd, fileSystemDomain: string): boolean {
  const stf = (str(job, 'ShouldTransferFiles') ?? '').toUpperCase();
  if (stf === 'YES') return true;
  if (stf === 'IF_NEEDED') return (str(job, 'FileSystemDomain') ?? '') !== fileSystemDomain;
  return false;
}

/**
 * The input attributes (executable, stdin, transfer_input_files) whose `$$()` references were filled in for
 * this slot: the schedd reads the files they name, and its copy of the job has only the references.
 */
export function transferExpanded(expanded: MatchExpansion | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!expanded || !('ad' in expanded)) return out;
  // attribute names are case-insensitive: the record is spelled as the job's ad spells the attribute
  const filled = new Set(Object.keys(expanded.attrs).map((k) => k.toLowerCase()));
  for (const attr of TRANSFER_INPUT_ATTRS)
    if (filled.has(`match_exp_${attr.toLowerCase()}`)) out[attr] = String(expanded.ad.lookupJS(attr));
  return out;
}

/** Create the sandbox for the job's owner and fill it with the input files the schedd sends. */
export async function fetchInput(
  source: AsyncIterable<FileChunk__Output>,
  sandbox: string,
  owner: { uid: number; gid: number } | undefined,
): Promise<string[]> {
  // a folder that is there already is another job's (or a link someone put there): never made this owner's
  if (mkdirSync(sandbox, { recursive: true, mode: 0o700 }) === undefined)
    throw new DschedError('INTERNAL', `the sandbox ${sandbox} exists already`);
  if (owner) chownSync(sandbox, owner.uid, owner.gid);
  return receiveFiles(source, { dest: (name) => join(sandbox, name), owner, makeParents: true });
}

/** The wording of HTCondor's hold reasons for transfer failures (codes 13 and 12). */
export function inputFailure(slot: string, schedd: string, e: unknown): string {
  return `Transfer input files failure at execution point ${slot} while receiving files from access point ${schedd}. Details: ${e instanceof DschedError ? e.message : errnoText(e)}`;
}

export interface OutputList {
  entries: SendEntry[];
  /** why some asked-for output cannot be sent (the job is then held with code 12) */
  error?: string;
}

/**
 * What goes back: stdout and stderr, then transfer_output_files (each by its base name, as HTCondor puts
 * them at the top of the initial directory), or without that list every top-level file the job created or
 * changed. Names that climb out of the sandbox are refused, never followed.
 */
export function outputFiles(
  job: ClassAd,
  sandbox: string,
  inputs: ReadonlyMap<string, number>,
  exitedOk: boolean,
): OutputList {
  const entries: SendEntry[] = [];
  for (const n of [STDOUT_NAME, STDERR_NAME])
    if (existsSync(join(sandbox, n))) entries.push({ path: join(sandbox, n), name: n });
  // ON_SUCCESS: files come back only when the job succeeded
  if ((str(job, 'WhenToTransferOutput') ?? '').toUpperCase() === 'ON_SUCCESS' && !exitedOk) return { entries };
  const listed = job.lookupJS('TransferOutput');
  const problems: string[] = [];
  if (typeof listed === 'string') {
    for (const item of fileList(listed)) {
      let name: string;
      try {
        name = checkName(item, 'transfer_output_files entry');
      } catch (e) {
        problems.push((e as Error).message);
        continue;
      }
      const path = join(sandbox, name);
      try {
        lstatSync(path);
      } catch (e) {
        problems.push(`reading from file ${path}: ${errnoText(e)}`);
        continue;
      }
      entries.push({ path, name: basename(name) });
    }
    return { entries, error: problems.length ? problems.join('; ') : undefined };
  }
  const skip = new Set([
    STDOUT_NAME,
    STDERR_NAME,
    '.job.ad',
    '.chirp.config',
    '.machine.ad',
    '.pbs_nodefile',
    '.pbs_script',
  ]);
  for (const name of readdirSync(sandbox).sort()) {
    if (skip.has(name)) continue;
    const st = lstatSync(join(sandbox, name));
    // HTCondor's automatic output: new or changed plain files at the top of the sandbox
    if (!st.isFile()) continue;
    if (inputs.get(name) === st.mtimeMs) continue;
    entries.push({ path: join(sandbox, name), name });
  }
  return { entries };
}
