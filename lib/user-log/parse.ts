// Reads HTCondor's user job event log text back into typed events (used by the DAG runner and dwait).
//
// The reader is tolerant the way HTCondor's is: an event ends at a line `...`; an event it cannot read is skipped
// (and reported in `problems`); an event still being written (no `...` yet) is left in `rest` so a tailing
// reader can finish it later. Dates may be ISO (`2025-11-23 14:05:00`, with optional `.mmm`, `Z` or offset, or
// a `T`) or the pre-8.8 `11/23 14:05:00` (the year is then taken from `year`, default the current year).
import {
  eventTypeOf,
  type EvictedEvent,
  type ResourceRow,
  type Rusage,
  type TerminatedEvent,
  type UserLogEvent,
} from './events.js';

export interface ParseOptions {
  /** Year for legacy `MM/DD` dates (default: the current year, as HTCondor does). */
  year?: number;
}

export interface ParseProblem {
  /** 1-based line of the event's header (counted across everything pushed into one parser). */
  line: number;
  message: string;
  /** The event's lines as read. */
  text: string;
}

export interface ParseResult {
  events: UserLogEvent[];
  problems: ParseProblem[];
  /** Text after the last complete event (an event still being written). */
  rest: string;
}

const HEADER =
  /^(\d{3}) \((-?\d+)\.(-?\d+)\.(-?\d+)\) (?:(\d{4})-(\d{2})-(\d{2})[ T]|(\d{1,2})\/(\d{1,2}) )(\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?(?: (.*))?$/;

/** Parses a header line; undefined when it is not one. */
export function parseHeader(
  line: string,
  opts: ParseOptions = {},
): { code: number; cluster: number; proc: number; subproc: number; time: number; text: string } | undefined {
  const m = HEADER.exec(line);
  if (!m) return undefined;
  const [, code, cluster, proc, subproc, Y, Mo, D, lMo, lD, h, mi, s, zone, text] = m;
  const year = Y ? Number(Y) : (opts.year ?? new Date().getFullYear());
  const month = Number(Mo ?? lMo) - 1;
  const day = Number(D ?? lD);
  const [H, Mi, S] = [Number(h), Number(mi), Number(s)];
  if (month < 0 || month > 11 || day < 1 || day > 31 || H > 24 || Mi > 59 || S > 61) return undefined;
  let ms: number;
  if (zone === undefined) {
    ms = new Date(year, month, day, H, Mi, S).getTime();
  } else {
    ms = Date.UTC(year, month, day, H, Mi, S);
    if (zone !== 'Z') {
      const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
      const off = (Number(z[2]) * 60 + Number(z[3])) * (z[1] === '+' ? 1 : -1);
      ms -= off * 60_000;
    }
  }
  return {
    code: Number(code),
    cluster: Number(cluster),
    proc: Number(proc),
    subproc: Number(subproc),
    time: Math.floor(ms / 1000),
    text: (text ?? '').replace(/\r$/, ''),
  };
}

const RUSAGE = /^\s*Usr (\d+) (\d+):(\d+):(\d+), Sys (\d+) (\d+):(\d+):(\d+)\s+-\s+(.+?)\s*$/;
const BYTES = /^\s*(-?\d+(?:\.\d+)?)\s+-\s+(Run|Total) Bytes (Sent|Received) By Job\s*$/;
const TERMINATION =
  /^\s*\((\d)\) (?:Normal termination \(return value (-?\d+)\)|Abnormal termination \(signal (-?\d+)\))\s*$/;

function rusage(m: RegExpExecArray): Rusage {
  const n = m.slice(1, 9).map(Number) as [number, number, number, number, number, number, number, number];
  return { user: n[0] * 86400 + n[1] * 3600 + n[2] * 60 + n[3], sys: n[4] * 86400 + n[5] * 3600 + n[6] * 60 + n[7] };
}

function resourceValue(s: string): number | string | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

/** Reads the partitionable-resources table starting at `lines[i]` (its header). Returns rows and the next index. */
function parseResources(lines: readonly string[], i: number): { rows: ResourceRow[]; next: number } {
  const head = lines[i]!;
  const colon = head.indexOf(':');
  const table = head.slice(colon + 1);
  // Right edges of the Usage and Request columns, and of Allocated; Assigned runs to the end of the line.
  let p = 0;
  const skip = (pred: (c: string) => boolean): void => {
    while (p < table.length && pred(table[p]!)) p++;
  };
  skip((c) => c === ' ');
  skip((c) => c !== ' ');
  const ixUse = p + 1;
  skip((c) => c === ' ');
  skip((c) => c !== ' ');
  const ixReq = p + 1;
  const allocAt = table.indexOf('Allocated', p);
  const ixAlloc = allocAt >= 0 ? allocAt + 9 + 1 : -1;
  const assignedAt = table.indexOf('Assigned', p);
  const rows: ResourceRow[] = [];
  let j = i + 1;
  for (; j < lines.length; j++) {
    const line = lines[j]!;
    const c = line.indexOf(':');
    if (c < 0) break;
    const name = line.slice(0, c).trim().split(/\s+/)[0] ?? '';
    const t = line.slice(c + 1);
    const row: ResourceRow = { name };
    const usage = resourceValue(t.slice(0, ixUse));
    const request = resourceValue(t.slice(ixUse, ixReq));
    const allocated = ixAlloc > 0 ? resourceValue(t.slice(ixReq, ixAlloc)) : undefined;
    const assigned = assignedAt >= 0 ? t.slice(assignedAt).trim() : '';
    if (usage !== undefined) row.usage = usage;
    if (request !== undefined) row.request = request;
    if (allocated !== undefined) row.allocated = allocated;
    if (assigned) row.assigned = assigned;
    rows.push(row);
  }
  return { rows, next: j };
}

/** Reads the usage, bytes, reason and resource lines shared by 004 and 005, from `lines[i]` on. */
function parseRunDetails(lines: readonly string[], i: number, into: TerminatedEvent | EvictedEvent): void {
  const usageKey: Record<string, 'runRemoteUsage' | 'runLocalUsage' | 'totalRemoteUsage' | 'totalLocalUsage'> = {
    'Run Remote Usage': 'runRemoteUsage',
    'Run Local Usage': 'runLocalUsage',
    'Total Remote Usage': 'totalRemoteUsage',
    'Total Local Usage': 'totalLocalUsage',
  };
  const bytesKey: Record<string, 'sentBytes' | 'receivedBytes' | 'totalSentBytes' | 'totalReceivedBytes'> = {
    RunSent: 'sentBytes',
    RunReceived: 'receivedBytes',
    TotalSent: 'totalSentBytes',
    TotalReceived: 'totalReceivedBytes',
  };
  for (let j = i; j < lines.length; j++) {
    const line = lines[j]!;
    let m: RegExpExecArray | null;
    if ((m = RUSAGE.exec(line))) {
      const k = usageKey[m[9]!];
      if (k) (into as TerminatedEvent)[k] = rusage(m);
    } else if ((m = BYTES.exec(line))) {
      (into as TerminatedEvent)[bytesKey[m[2]! + m[3]!]!] = Number(m[1]);
    } else if (/^\s*Partitionable Resources\s*:/.test(line) || /^\s*Resources\s*:/.test(line)) {
      const { rows, next } = parseResources(lines, j);
      into.resources = rows;
      j = next - 1;
    } else if (into.type === 'evicted' && (m = TERMINATION.exec(line))) {
      into.normal = m[1] === '1';
      if (into.normal) into.returnValue = Number(m[2]);
      else into.signal = Number(m[3]);
    } else if (/^\s*\(1\) Corefile in: /.test(line)) {
      into.coreFile = line.replace(/^\s*\(1\) Corefile in: /, '');
    } else if (/^\s*\(0\) No core file\s*$/.test(line)) {
      // nothing
    } else if (into.type === 'evicted' && line.startsWith('\tReason: ')) {
      into.reason = line.slice('\tReason: '.length).trim();
    } else if (into.type === 'evicted' && line.trim() !== '') {
      into.reason = line.trim();
    }
  }
}

/** Parses one event from its lines (header first, without the closing `...`). Throws on what it cannot read. */
export function parseEventLines(lines: readonly string[], opts: ParseOptions = {}): UserLogEvent {
  const h = parseHeader(lines[0] ?? '', opts);
  if (!h) throw new Error(`not an event header: ${JSON.stringify(lines[0] ?? '')}`);
  const body = lines.slice(1).map((l) => l.replace(/\r$/, ''));
  const base = { cluster: h.cluster, proc: h.proc, subproc: h.subproc, time: h.time };
  const type = eventTypeOf(h.code);
  const expect = (prefix: string): string => {
    if (!h.text.startsWith(prefix))
      throw new Error(`event ${String(h.code).padStart(3, '0')} should start with "${prefix}"`);
    return h.text.slice(prefix.length);
  };
  const unbracket = (s: string): string => {
    const t = s.trim();
    return t.startsWith('<') && t.endsWith('>') ? t.slice(1, -1) : t;
  };
  const tabbed = (i: number): string | undefined => {
    const l = body[i];
    return l === undefined ? undefined : l.replace(/^\t/, '');
  };

  switch (type) {
    case 'submit': {
      const e: UserLogEvent = { ...base, type, host: unbracket(expect('Job submitted from host:')) };
      let n = 0;
      for (const raw of body) {
        const l = raw.trim();
        if (l.startsWith('WARNING: ')) {
          e.warnings = l.replace(
            /^WARNING: (Committed job submission into the queue with the following warning\(s\): )?/,
            '',
          );
          continue;
        }
        n++;
        if (n === 1 && l) e.logNotes = l;
        else if (n === 2 && l) e.userNotes = l;
      }
      return e;
    }
    case 'execute': {
      const e: UserLogEvent = { ...base, type, host: unbracket(expect('Job executing on host:')) };
      for (const l of body) {
        const m = /^\s*SlotName:\s*(.*?)\s*$/.exec(l);
        if (m) e.slotName = m[1]!.replace(/^"(.*)"$/, '$1');
      }
      return e;
    }
    case 'terminated': {
      expect('Job terminated.');
      const m = TERMINATION.exec(body[0] ?? '');
      if (!m) throw new Error('005 event without "(1) Normal termination" or "(0) Abnormal termination" line');
      const normal = m[1] === '1';
      const e: TerminatedEvent = normal
        ? { ...base, type, normal, returnValue: Number(m[2]) }
        : { ...base, type, normal, signal: Number(m[3]) };
      parseRunDetails(body, 1, e);
      return e;
    }
    case 'evicted': {
      const rest = expect('Job was evicted.');
      const e: EvictedEvent = { ...base, type };
      const code = /Code (-?\d+) Subcode (-?\d+)/.exec(rest);
      if (code) {
        e.reasonCode = Number(code[1]);
        e.reasonSubCode = Number(code[2]);
      }
      const first = (body[0] ?? '').trim();
      e.terminatedAndRequeued = first.startsWith('(0) Job terminated and was requeued');
      e.checkpointed = first.startsWith('(1)');
      parseRunDetails(body, 1, e);
      return e;
    }
    case 'image_size': {
      const size = Number(expect('Image size of job updated:').trim());
      if (!Number.isFinite(size)) throw new Error('006 event without a size');
      const e: UserLogEvent = { ...base, type, imageSizeKb: size };
      for (const l of body) {
        const m = /^\s*(-?\d+)\s+-\s+(\S+)/.exec(l);
        if (!m) break;
        const v = Number(m[1]);
        const label = m[2]!.toLowerCase();
        if (label === 'memoryusage') e.memoryUsageMb = v;
        else if (label === 'residentsetsize') e.residentSetSizeKb = v;
        else if (label === 'proportionalsetsize') e.proportionalSetSizeKb = v;
      }
      return e;
    }
    case 'aborted': {
      expect('Job was aborted');
      const reason = tabbed(0)?.trim();
      return reason ? { ...base, type, reason } : { ...base, type };
    }
    case 'suspended': {
      expect('Job was suspended.');
      const m = /Number of processes actually suspended:\s*(-?\d+)/.exec(body[0] ?? '');
      return { ...base, type, numPids: m ? Number(m[1]) : -1 };
    }
    case 'unsuspended':
      expect('Job was unsuspended.');
      return { ...base, type };
    case 'held': {
      expect('Job was held.');
      const reason = tabbed(0)?.trim();
      const m = /^\s*Code (-?\d+) Subcode (-?\d+)/.exec(body[1] ?? '');
      const e: UserLogEvent = { ...base, type, code: m ? Number(m[1]) : 0, subCode: m ? Number(m[2]) : 0 };
      if (reason && reason !== 'Reason unspecified') e.reason = reason;
      return e;
    }
    case 'released': {
      expect('Job was released.');
      const reason = tabbed(0)?.trim();
      return reason ? { ...base, type, reason } : { ...base, type };
    }
    case 'disconnected': {
      expect('Job disconnected, attempting to reconnect');
      const m = /^\s*Trying to reconnect to (\S+)(?: <([^>]*)>)?\s*$/.exec(body[1] ?? '');
      const e: UserLogEvent = { ...base, type, reason: body[0]?.trim() ?? '', startdName: m?.[1] ?? '' };
      if (m?.[2]) e.startdAddress = m[2];
      return e;
    }
    case 'reconnected': {
      const e: UserLogEvent = { ...base, type, startdName: expect('Job reconnected to').trim() };
      for (const l of body) {
        const m = /^\s*(startd|starter) address: <([^>]*)>\s*$/.exec(l);
        if (m?.[1] === 'startd') e.startdAddress = m[2];
        else if (m) e.starterAddress = m[2];
      }
      return e;
    }
    case 'reconnect_failed': {
      expect('Job reconnection failed');
      const m = /^\s*Can not reconnect to (\S+), rescheduling job\s*$/.exec(body[1] ?? '');
      return { ...base, type, reason: body[0]?.trim() ?? '', startdName: m?.[1] ?? '' };
    }
    case 'job_ad': {
      expect('Job ad information event triggered.');
      const attributes: Record<string, string> = {};
      for (const l of body) {
        const m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$/.exec(l);
        if (!m) throw new Error(`028 event line is not "Attr = expr": ${JSON.stringify(l)}`);
        attributes[m[1]!] = m[2]!;
      }
      return { ...base, type, attributes };
    }
    case 'other':
      return { ...base, type, code: h.code, text: h.text, body };
  }
}

/**
 * Incremental reader: push text as it arrives (e.g. chunks of a growing log), get back the events completed so
 * far. Keeps the unfinished tail for the next push.
 */
export class UserLogParser {
  private buffer = '';
  private lineNo = 0;
  readonly problems: ParseProblem[] = [];

  constructor(private readonly opts: ParseOptions = {}) {}

  /** Adds text; returns the events it completed. */
  push(text: string): UserLogEvent[] {
    this.buffer += text;
    const buf = this.buffer;
    const events: UserLogEvent[] = [];
    let consumed = 0;
    for (;;) {
      // Find the next complete event: lines up to a `...` line.
      let start = consumed;
      let lines: string[] | undefined;
      let lineCount = 0;
      const acc: string[] = [];
      while (start < buf.length) {
        const nl = buf.indexOf('\n', start);
        if (nl < 0) break;
        const line = buf.slice(start, nl).replace(/\r$/, '');
        start = nl + 1;
        lineCount++;
        if (line === '...') {
          lines = acc;
          break;
        }
        acc.push(line);
      }
      if (!lines) break;
      consumed = start;
      const headerLine = this.lineNo + 1;
      this.lineNo += lineCount;
      // Blank lines before a header are tolerated.
      while (lines.length && lines[0]!.trim() === '') lines.shift();
      if (lines.length === 0) continue;
      try {
        events.push(parseEventLines(lines, this.opts));
      } catch (err) {
        this.problems.push({ line: headerLine, message: (err as Error).message, text: lines.join('\n') });
      }
    }
    this.buffer = buf.slice(consumed);
    return events;
  }

  /** The unfinished tail (an event without its `...` yet). */
  get rest(): string {
    return this.buffer;
  }
}

/** Parses a whole log text. */
export function parseUserLog(text: string, opts: ParseOptions = {}): ParseResult {
  const p = new UserLogParser(opts);
  const events = p.push(text);
  return { events, problems: p.problems, rest: p.rest };
}
