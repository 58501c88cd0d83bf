// Jobs read from a file instead of the schedd: an event log (dq -userlog, dhistory -userlog, as condor_q and
// condor_history read one) and a file of job ads (dhistory -file). The command reads the file itself, with the
// rights of whoever runs it: nothing a daemon holds is read, so a user sees only what the file system already
// lets them read. The pool's own history lives in the schedd's database, which only the schedd (and through
// it, dhistory) reads; -file reads ads a user saved (dhistory -long > FILE) or HTCondor history files.
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseClassAd, quoteString } from '../../grammar/classad/index.js';
import { readBoundedFile } from '../../lib/bounded-read.js';
import { DschedError } from '../../lib/errors.js';
import { JobStatus } from '../../lib/job-status.js';
import { detectFormat, parseUserLog, parseUserLogJsonl, type UserLogEvent } from '../../lib/user-log/index.js';
import { userNameOf } from '../../lib/users.js';
import { io } from './io.js';

type Attrs = Record<string, string>;

/** Files read whole into memory: past this the command says so instead of running out of memory. */
const MAX_FILE_BYTES = 256 << 20;

/** The file's text, read as the user running the command; `what` names it in errors. */
function readUserFile(path: string, what: string): { text: string; owner: string } {
  const full = isAbsolute(path) ? path : join(io().cwd, path);
  let text: string;
  let uid: number;
  try {
    text = readBoundedFile(full, MAX_FILE_BYTES, what, 'FILE_UNREADABLE');
    // the owner of the file stands for the owner of its jobs where the log does not say
    uid = statSync(full).uid;
  } catch (e) {
    if (e instanceof DschedError) throw e;
    throw new DschedError('FILE_UNREADABLE', `cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  return { text, owner: userNameOf(uid) };
}

const lit = (v: string | number | boolean): string =>
  typeof v === 'string' ? quoteString(v) : typeof v === 'boolean' ? String(v) : String(Math.trunc(v));

/**
 * The jobs of an event log as job ads, in the order they were submitted: what each event says of its job
 * (status, dates, host, exit, hold reason, image size; a job ad event's attributes as they are).
 */
export function jobsOfUserLog(path: string): Attrs[] {
  const { text, owner } = readUserFile(path, 'the event log');
  let events: UserLogEvent[];
  try {
    events = detectFormat(text) === 'jsonl' ? parseUserLogJsonl(text).events : parseUserLog(text).events;
  } catch (e) {
    throw new DschedError('FILE_UNREADABLE', `${path} is not an event log: ${(e as Error).message}`);
  }
  const jobs = new Map<string, Attrs>();
  const wall = new Map<string, number>();
  for (const e of events) {
    if (e.cluster < 0 || e.proc < 0) continue;
    const key = `${e.cluster}.${e.proc}`;
    let ad = jobs.get(key);
    if (!ad) {
      ad = {
        ClusterId: lit(e.cluster),
        ProcId: lit(e.proc),
        Owner: lit(owner),
        JobStatus: lit(JobStatus.Idle),
        QDate: lit(e.time),
        EnteredCurrentStatus: lit(e.time),
      };
      jobs.set(key, ad);
    }
    const status = (s: number) => {
      ad!.JobStatus = lit(s);
      ad!.EnteredCurrentStatus = lit(e.time);
    };
    const endRun = () => {
      const start = Number(ad!.JobCurrentStartDate ?? NaN);
      if (Number.isFinite(start)) wall.set(key, (wall.get(key) ?? 0) + Math.max(0, e.time - start));
      ad!.RemoteWallClockTime = lit(wall.get(key) ?? 0);
      if (ad!.RemoteHost) ad!.LastRemoteHost = ad!.RemoteHost;
      delete ad!.RemoteHost;
    };
    switch (e.type) {
      case 'submit': {
        ad.QDate = lit(e.time);
        status(JobStatus.Idle);
        const node = /^DAG Node: (.+)$/.exec(e.logNotes ?? '');
        if (node) ad.DAGNodeName = lit(node[1]!.trim());
        break;
      }
      case 'execute':
        status(JobStatus.Running);
        ad.JobStartDate ??= lit(e.time);
        ad.JobCurrentStartDate = lit(e.time);
        ad.RemoteHost = lit(e.slotName || e.host);
        break;
      case 'evicted':
      case 'reconnect_failed': // 024: the run was given up on, the job is idle again
        endRun();
        status(JobStatus.Idle);
        break;
      case 'terminated':
        endRun();
        status(JobStatus.Completed);
        ad.CompletionDate = lit(e.time);
        ad.ExitBySignal = lit(!e.normal);
        if (e.normal) ad.ExitCode = lit(e.returnValue ?? 0);
        else ad.ExitSignal = lit(e.signal ?? 0);
        break;
      case 'aborted':
        if (ad.RemoteHost) endRun();
        status(JobStatus.Removed);
        if (e.reason) ad.RemoveReason = lit(e.reason);
        break;
      case 'held':
        if (ad.RemoteHost) endRun();
        status(JobStatus.Held);
        ad.HoldReason = lit(e.reason ?? '');
        ad.HoldReasonCode = lit(e.code);
        ad.HoldReasonSubCode = lit(e.subCode);
        break;
      case 'released':
        status(JobStatus.Idle);
        delete ad.HoldReason;
        break;
      case 'suspended':
        status(JobStatus.Suspended);
        break;
      case 'unsuspended':
        status(JobStatus.Running);
        break;
      case 'image_size':
        ad.ImageSize = lit(e.imageSizeKb);
        if (e.memoryUsageMb !== undefined) ad.MemoryUsage = lit(e.memoryUsageMb);
        break;
      case 'job_ad':
        for (const [k, v] of Object.entries(e.attributes)) if (!/^(ClusterId|ProcId)$/i.test(k)) ad[k] = v;
        break;
      default:
        break;
    }
  }
  return [...jobs.values()];
}

/** Whether a job of an event log has left the queue (it completed or was removed). */
export function leftQueue(attrs: Attrs): boolean {
  const s = Number(attrs.JobStatus);
  return s === JobStatus.Completed || s === JobStatus.Removed;
}

/**
 * The job ads of a file of ads in the long form (`Attr = expr` lines), one ad after another, each ended by a
 * blank line or a `*** ...` line: what `dhistory -long` and `dq -long` print, and HTCondor's history files.
 * Newest last, as a history file grows.
 */
export function jobsOfAdFile(path: string): Attrs[] {
  const { text } = readUserFile(path, 'the history file');
  const ads: Attrs[] = [];
  let chunk: string[] = [];
  let first = 1;
  const flush = (next: number) => {
    if (chunk.some((l) => l.trim() !== '')) {
      try {
        ads.push(parseClassAd(chunk.join('\n'), { file: path, line: first, column: 1 }).toRecord());
      } catch (e) {
        throw new DschedError('FILE_UNREADABLE', `${path} is not a file of job ads: ${(e as Error).message}`);
      }
    }
    chunk = [];
    first = next;
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('***') || l.trim() === '') flush(i + 2);
    else chunk.push(l);
  }
  flush(lines.length + 1);
  return ads;
}
