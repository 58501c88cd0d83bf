// The schedd's half of file transfer: which files a job takes along (read as its owner, but for the spooled
// checkpoint the schedd keeps itself), and where each output file lands on the submit host (the job's initial
// directory, transfer_output_remaps applied, written as its owner).
import { readdirSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { asUser, type Owner } from '../../lib/as-user.js';
import { DschedError } from '../../lib/errors.js';
import { fillsTemplate } from '../../grammar/submit/match-expand.js';
import {
  errnoText,
  fileList,
  STDERR_NAME,
  STDOUT_NAME,
  TRANSFER_INPUT_ATTRS,
  type SendEntry,
} from '../../lib/transfer.js';

type Lookup = (attr: string) => unknown;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * The input attributes as the startd filled in their `$$()` references (FetchInputRequest.expanded). Each must
 * be an input attribute whose stored value has references, and a filling-in of them (the text around them kept):
 * a startd can choose only what the job left to the slot, never name other files of the owner's. What it names
 * is still read with the owner's rights.
 */
export function filledInputs(stored: Lookup, expanded: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [attr, value] of Object.entries(expanded)) {
    const template = (TRANSFER_INPUT_ATTRS as readonly string[]).includes(attr) ? str(stored(attr)) : undefined;
    if (template === undefined || !template.includes('$$(') || !fillsTemplate(template, value))
      throw new DschedError(
        'TRANSFER_REFUSED',
        `the execute host sent '${attr}' filled in as a value the job's ${attr} cannot take: no file is sent`,
      );
    out.set(attr, value);
  }
  return out;
}

/** The executable (unless transfer_executable = false), stdin, transfer_input_files, and a spooled checkpoint. */
export function inputEntries(value: Lookup, spoolDir: string | undefined, owner?: Owner): SendEntry[] {
  const iwd = str(value('Iwd')) ?? '/';
  const out: SendEntry[] = [];
  const cmd = str(value('Cmd'));
  if (cmd && value('TransferExecutable') !== false) out.push({ path: resolve(iwd, cmd), name: basename(cmd) });
  const input = str(value('In'));
  if (input && input !== '/dev/null') out.push({ path: resolve(iwd, input), name: basename(input) });
  for (const item of fileList(value('TransferInput'))) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(item))
      throw new DschedError(
        'TRANSFER_REFUSED',
        `transfer_input_files: '${item}' is a URL; dsched transfers files and directories only`,
      );
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
    const to = part
      .slice(eq + 1)
      .trim()
      .replace(/\\;/g, ';');
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

/**
 * The bytes file transfer moved for a job's current run, for its terminate event: to the job (input) and from
 * it (output). The job ad keeps the totals over all runs (BytesSent, BytesRecvd, as HTCondor names them).
 */
export class RunBytes {
  private runs = new Map<string, { toJob: number; fromJob: number }>();

  /** Count the data of the chunks that pass through, then report the sum. */
  static async *counted<T extends { data?: Uint8Array | Buffer | null }>(
    source: AsyncIterable<T>,
    done: (bytes: number) => void,
  ): AsyncIterable<T> {
    let n = 0;
    for await (const c of source) {
      n += c.data?.length ?? 0;
      yield c;
    }
    done(n);
  }

  /** The input of a run was sent: a new run begins. */
  sentToJob(key: string, bytes: number): void {
    this.runs.set(key, { toJob: bytes, fromJob: 0 });
  }

  receivedFromJob(key: string, bytes: number): void {
    const r = this.runs.get(key) ?? { toJob: 0, fromJob: 0 };
    r.fromJob += bytes;
    this.runs.set(key, r);
  }

  /** This run's bytes, forgotten once read (undefined after a restart: the totals are reported then). */
  take(key: string): { toJob: number; fromJob: number } | undefined {
    const r = this.runs.get(key);
    this.runs.delete(key);
    return r;
  }
}
