// The schedd's half of file transfer: which files a job takes along (read as its owner, but for the spooled
// checkpoint the schedd keeps itself), and where each output file lands on the submit host (the job's initial
// directory, transfer_output_remaps applied, written as its owner).
import { readdirSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { asUser, type Owner } from '../../lib/as-user.js';
import { DschedError } from '../../lib/errors.js';
import { errnoText, fileList, STDERR_NAME, STDOUT_NAME, type SendEntry } from '../../lib/transfer.js';

type Lookup = (attr: string) => unknown;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The executable (unless transfer_executable = false), stdin, transfer_input_files, and a spooled checkpoint. */
export function inputEntries(value: Lookup, spoolDir: string | undefined, owner?: Owner): SendEntry[] {
  const iwd = str(value('Iwd')) ?? '/';
  const out: SendEntry[] = [];
  const cmd = str(value('Cmd'));
  if (cmd && value('TransferExecutable') !== false) out.push({ path: resolve(iwd, cmd), name: basename(cmd) });
  const input = str(value('In'));
  if (input && input !== '/dev/null') out.push({ path: resolve(iwd, input), name: basename(input) });
  for (const item of fileList(value('TransferInput'))) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(item)) throw new DschedError('TRANSFER_REFUSED', `transfer_input_files: '${item}' is a URL; dsched transfers files and directories only`);
    const path = resolve(iwd, item);
    // "dir/" sends what is in the directory, "dir" the directory itself (as HTCondor does)
    if (item.endsWith('/')) {
      let children: string[];
      try {
        children = asUser(owner, () => readdirSync(path));
      } catch (e) {
        throw new DschedError('TRANSFER_FAILED', `reading from directory ${path}: ${errnoText(e)}`);
      }
      for (const c of children.sort()) out.push({ path: join(path, c), name: c });
    } else out.push({ path, name: basename(path) });
  }
  if (spoolDir) {
    let spooled: string[] = [];
    try {
      spooled = readdirSync(spoolDir);
    } catch {
      /* nothing spooled */
    }
    for (const c of spooled.sort()) out.push({ path: join(spoolDir, c), name: c, daemons: true });
  }
  return out;
}

/** transfer_output_remaps: "name = newname; name2 = /abs/path" (`\;` is a literal semicolon). */
export function parseRemaps(text: unknown): Map<string, string> {
  const m = new Map<string, string>();
  if (typeof text !== 'string') return m;
  for (const part of text.split(/(?<!\\);/)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const from = part.slice(0, eq).trim().replace(/\\;/g, ';');
    const to = part.slice(eq + 1).trim().replace(/\\;/g, ';');
    if (from && to) m.set(from, to);
  }
  return m;
}

/** Where each output name lands; to a spool directory (an evicted job's checkpoint) everything but stdout/stderr. */
export function outputDest(value: Lookup, spoolDir?: string): (name: string) => string | undefined {
  const iwd = str(value('Iwd')) ?? '/';
  const remaps = parseRemaps(value('TransferOutputRemaps'));
  const std = (attr: string) => {
    const v = str(value(attr));
    return v && v !== '/dev/null' ? resolve(iwd, v) : undefined;
  };
  return (name) => {
    if (spoolDir) return name === STDOUT_NAME || name === STDERR_NAME ? undefined : join(spoolDir, name);
    if (name === STDOUT_NAME) return std('Out');
    if (name === STDERR_NAME) return std('Err');
    const top = name.split('/')[0]!;
    const to = remaps.get(top);
    if (to === undefined) return resolve(iwd, name);
    const base = isAbsolute(to) ? to : resolve(iwd, to);
    return top === name ? base : join(base, name.slice(top.length + 1));
  };
}
