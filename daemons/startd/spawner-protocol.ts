// What the startd and its job spawner (spawner/spawner.c, a native program) say to each other.
//
// Requests (the spawner's stdin): one netstring (`<len>:<bytes>,`) each, whose bytes are netstrings again,
// alternately a key and its value; list keys repeat (arg, env, file, xfile, group, run). Lengths let the C side
// parse without an escaping syntax and bound every field. Replies (its stdout): one JSON object per line.
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobProcess } from './launch-spec.js';
import type { FamilyRef } from './proc-family.js';
import type { ExitNote } from './spawner-journal.js';

export interface StartRequest extends JobProcess {
  op: 'start';
  id: string;
  exe: string;
  /** leave the sandbox when the job exits: its output is fetched from there (file transfer) */
  keepSandbox?: boolean;
  uid?: number;
  gid?: number;
  /** the job's process family (proc-family.ts): the job is born in it, and all of it goes when the job ends */
  family?: FamilyRef;
  /** the owner's supplementary groups: the job's files are opened, and the job runs, with all of them */
  groups?: number[];
  /** journal the job's end before reporting it: the run's key and what the startd reports it with */
  journal?: { run: string; note: ExitNote };
}
export interface SignalRequest {
  op: 'signal';
  id: string;
  signal: NodeJS.Signals;
}
/** The startd has journaled these runs' ends itself: the spawner's entries are done. */
export interface JournaledRequest {
  op: 'journaled';
  runs: string[];
}
export type SpawnerRequest = StartRequest | SignalRequest | JournaledRequest;

/** A file by device and inode (`dev:ino`): what dtail checks the file it reads against. */
export interface JobFiles {
  stdout?: string;
  stderr?: string;
}
export type SpawnerReply =
  | { id: string; event: 'started'; pid: number; parent: number; files?: JobFiles }
  | { id: string; event: 'failed'; holdCode: number; holdSubCode: number; message: string }
  | {
      id: string;
      event: 'exited';
      exitCode: number;
      signal?: number;
      stopped?: boolean;
      /** the sandbox's file system had no room left when the job ended: its writes there may have failed */
      sandboxFull?: boolean;
    };

/** The largest request the spawner takes (its MAX_FRAME): a job's ClassAd and sandbox files are far smaller. */
export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
/** The most keys and values one request may hold (its MAX_FIELDS): arguments and variables are one each. */
export const MAX_REQUEST_FIELDS = 1 << 20;

/** The spawner program: beside the bundled startd (dist/daemons/startd), or in dist/ when run from the sources. */
export const SPAWNER_PATH = ((here) =>
  [join(here, 'dsched-spawner'), resolve(here, '..', '..', 'dist', 'daemons', 'startd', 'dsched-spawner')].find(
    existsSync,
  ) ?? join(here, 'dsched-spawner'))(dirname(fileURLToPath(import.meta.url)));

const SIGNALS = constants.signals as Record<string, number>;

/** One request as the spawner reads it. */
export function encodeRequest(r: SpawnerRequest): Buffer & { fields?: number } {
  const f: Array<[string, string]> = [['op', r.op]];
  if (r.op === 'signal') f.push(['id', r.id], ['signal', String(SIGNALS[r.signal] ?? SIGNALS.SIGKILL)]);
  else if (r.op === 'journaled') for (const run of r.runs) f.push(['run', run]);
  else {
    f.push(['id', r.id], ['exe', r.exe], ...r.argv.map((a): [string, string] => ['arg', a]), ['cwd', r.cwd]);
    for (const [k, v] of Object.entries(r.env)) f.push(['env', `${k}=${v}`]);
    f.push(['stdin', r.stdin], ['stdout', r.stdout], ['stderr', r.stderr], ['sandbox', r.sandbox], ['ad', r.adText]);
    if (r.umask !== undefined) f.push(['umask', String(r.umask)]);
    // BigInt: digits alone, never 1e+21
    if (r.coreSize !== undefined)
      f.push(['core', r.coreSize === 'unlimited' ? 'unlimited' : BigInt(r.coreSize).toString()]);
    for (const [key, list] of [
      ['file', r.files],
      ['xfile', r.execFiles],
    ] as const)
      for (const [name, text] of Object.entries(list ?? {})) f.push([key, `${name}\0${text}`]);
    if (r.keepSandbox) f.push(['keep', '1']);
    if (r.watch) f.push(['watch', r.watch]);
    if (r.uid !== undefined)
      f.push(
        ['uid', String(r.uid)],
        ['gid', String(r.gid ?? r.uid)],
        ...(r.groups ?? []).map((g): [string, string] => ['group', String(g)]),
      );
    if (r.family) {
      f.push(['family', r.family.method], ['tag', r.family.tag]);
      if (r.family.cgroup) f.push(['cgroup', r.family.cgroup]);
      if (r.family.v1) f.push(['v1', r.family.v1]);
    }
    // the journal line's start, written by the spawner as it is: {"run":…,"note":{…}
    if (r.journal)
      f.push(
        ['run', r.journal.run],
        ['journal', `{"run":${JSON.stringify(r.journal.run)},"note":${JSON.stringify(r.journal.note)}`],
      );
  }
  // one string, one buffer: lengths are in bytes (UTF-8), as the spawner reads them
  let body = '';
  for (const [k, v] of f) body += `${Buffer.byteLength(k)}:${k},${Buffer.byteLength(v)}:${v},`;
  return Object.assign(Buffer.from(`${Buffer.byteLength(body)}:${body},`), { fields: f.length });
}
