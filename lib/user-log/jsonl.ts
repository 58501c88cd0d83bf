// The event log as JSON lines: one event per line, with the attribute names of HTCondor's event ClassAds
// (`MyType`, `EventTypeNumber`, `EventTime`, `Cluster`, `Proc`, `Subproc`, `ReturnValue`, `TerminatedBySignal`,
// `HoldReasonCode`, …, as ULogEvent::toClassAd names them), so it maps one-to-one onto what
// `htcondor.JobEventLog` gives Python users. Each line starts with `"$schema": "dsched.userlog.v1"`. EventTime is
// ISO 8601 UTC. The 028 event merges the job attributes into the line (literals as JSON values, other
// expressions as `"/Expr(<text>)/"`, as condor_q -json writes them).
import { classAdString, formatRusage } from './format.js';
import {
  EVENT_MYTYPES,
  eventCode,
  eventTypeOf,
  normalizeEvent,
  type EvictedEvent,
  type ResourceRow,
  type Rusage,
  type TerminatedEvent,
  type UserLogEvent,
} from './events.js';

export const USERLOG_SCHEMA = 'dsched.userlog.v1';

const BASE_KEYS = new Set(['$schema', 'MyType', 'EventTypeNumber', 'EventTime', 'Cluster', 'Proc', 'Subproc']);

function isoUtc(epochSeconds: number): string {
  return new Date(Math.floor(epochSeconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const rusageText = (r: Rusage | undefined): string => formatRusage(r ?? { user: 0, sys: 0 }).trimStart();

function parseRusageText(s: unknown): Rusage | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^\s*Usr (\d+) (\d+):(\d+):(\d+), Sys (\d+) (\d+):(\d+):(\d+)/.exec(s);
  if (!m) return undefined;
  const n = m.slice(1).map(Number) as number[];
  return {
    user: n[0]! * 86400 + n[1]! * 3600 + n[2]! * 60 + n[3]!,
    sys: n[4]! * 86400 + n[5]! * 3600 + n[6]! * 60 + n[7]!,
  };
}

/** Resource rows as HTCondor merges the usage ad into the event ad: `<Res>Usage`, `Request<Res>`, `<Res>`, `Assigned<Res>`. */
function resourceAttrs(rows: readonly ResourceRow[] | undefined, out: Record<string, unknown>): void {
  for (const r of rows ?? []) {
    if (r.usage !== undefined) out[`${r.name}Usage`] = r.usage;
    if (r.request !== undefined) out[`Request${r.name}`] = r.request;
    if (r.allocated !== undefined) out[r.name] = r.allocated;
    if (r.assigned !== undefined) out[`Assigned${r.name}`] = r.assigned;
  }
}

function readResources(o: Record<string, unknown>): ResourceRow[] | undefined {
  // Rows are named by Request<Res> keys, and by numeric <Res>Usage keys (not the Run/Total CPU usage strings).
  const names = new Set<string>();
  for (const [k, v] of Object.entries(o)) {
    const m = /^Request(.+)$/.exec(k);
    if (m) names.add(m[1]!);
    const u = /^(.+)Usage$/.exec(k);
    if (u && typeof v === 'number' && !/^(Run|Total)(Local|Remote)$/.test(u[1]!)) names.add(u[1]!);
  }
  if (names.size === 0) return undefined;
  const val = (v: unknown): number | string | undefined =>
    typeof v === 'number' || typeof v === 'string' ? v : undefined;
  const rows: ResourceRow[] = [];
  for (const name of [...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))) {
    const row: ResourceRow = { name };
    const usage = val(o[`${name}Usage`]);
    const request = val(o[`Request${name}`]);
    const allocated = val(o[name]);
    const assigned = o[`Assigned${name}`];
    if (usage !== undefined) row.usage = usage;
    if (request !== undefined) row.request = request;
    if (allocated !== undefined) row.allocated = allocated;
    if (typeof assigned === 'string') row.assigned = assigned;
    rows.push(row);
  }
  return rows;
}

/** A ClassAd expression text as a JSON value when it is a plain literal, else `/Expr(text)/`. */
function exprToJson(text: string): unknown {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) return Number(t);
  if (/^-?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) || /^-?\d+[eE][-+]?\d+$/.test(t)) return Number(t);
  if (/^true$/i.test(t)) return true;
  if (/^false$/i.test(t)) return false;
  if (/^undefined$/i.test(t)) return null;
  const s = /^"((?:[^"\\]|\\.)*)"$/.exec(t);
  if (s) {
    try {
      return JSON.parse(`"${s[1]!.replace(/\\'/g, "'")}"`);
    } catch {
      // fall through: not a JSON-compatible escape sequence
    }
  }
  return `/Expr(${t})/`;
}

function jsonToExpr(v: unknown): string {
  if (v === null) return 'undefined';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') {
    const m = /^\/Expr\((.*)\)\/$/s.exec(v);
    return m ? m[1]! : classAdString(v);
  }
  return `/Expr(${JSON.stringify(v)})/`;
}

/** One event as a JSON object (HTCondor event ClassAd attribute names). */
export function eventToJson(event: UserLogEvent): Record<string, unknown> {
  const e = normalizeEvent(event);
  const o: Record<string, unknown> = {
    $schema: USERLOG_SCHEMA,
    MyType: e.type === 'other' ? 'FutureEvent' : EVENT_MYTYPES[e.type],
    EventTypeNumber: eventCode(e),
    EventTime: isoUtc(e.time),
    Cluster: e.cluster,
    Proc: e.proc,
    Subproc: e.subproc ?? 0,
  };
  switch (e.type) {
    case 'submit':
      o.SubmitHost = `<${e.host}>`;
      if (e.logNotes) o.LogNotes = e.logNotes;
      if (e.userNotes) o.UserNotes = e.userNotes;
      if (e.warnings) o.Warnings = e.warnings;
      break;
    case 'execute':
      o.ExecuteHost = `<${e.host}>`;
      if (e.slotName) o.SlotName = e.slotName;
      break;
    case 'evicted':
      o.Checkpointed = e.checkpointed ?? false;
      o.RunLocalUsage = rusageText(e.runLocalUsage);
      o.RunRemoteUsage = rusageText(e.runRemoteUsage);
      o.SentBytes = e.sentBytes ?? 0;
      o.ReceivedBytes = e.receivedBytes ?? 0;
      o.TerminatedAndRequeued = e.terminatedAndRequeued ?? false;
      o.TerminatedNormally = e.normal ?? false;
      if (e.returnValue !== undefined) o.ReturnValue = e.returnValue;
      if (e.signal !== undefined) o.TerminatedBySignal = e.signal;
      if (e.reason) o.Reason = e.reason;
      if (e.reasonCode) o.ReasonCode = e.reasonCode;
      if (e.reasonCode) o.ReasonSubCode = e.reasonSubCode ?? 0;
      if (e.coreFile) o.CoreFile = e.coreFile;
      resourceAttrs(e.resources, o);
      break;
    case 'terminated':
      resourceAttrs(e.resources, o);
      o.TerminatedNormally = e.normal;
      if (e.returnValue !== undefined) o.ReturnValue = e.returnValue;
      if (e.signal !== undefined) o.TerminatedBySignal = e.signal;
      if (e.coreFile) o.CoreFile = e.coreFile;
      o.RunLocalUsage = rusageText(e.runLocalUsage);
      o.RunRemoteUsage = rusageText(e.runRemoteUsage);
      o.TotalLocalUsage = rusageText(e.totalLocalUsage);
      o.TotalRemoteUsage = rusageText(e.totalRemoteUsage);
      o.SentBytes = e.sentBytes ?? 0;
      o.ReceivedBytes = e.receivedBytes ?? 0;
      o.TotalSentBytes = e.totalSentBytes ?? 0;
      o.TotalReceivedBytes = e.totalReceivedBytes ?? 0;
      break;
    case 'image_size':
      o.Size = e.imageSizeKb;
      if (e.memoryUsageMb !== undefined) o.MemoryUsage = e.memoryUsageMb;
      if (e.residentSetSizeKb !== undefined) o.ResidentSetSize = e.residentSetSizeKb;
      if (e.proportionalSetSizeKb !== undefined) o.ProportionalSetSize = e.proportionalSetSizeKb;
      break;
    case 'aborted':
    case 'released':
      if (e.reason) o.Reason = e.reason;
      break;
    case 'disconnected':
      o.DisconnectReason = e.reason;
      o.StartdName = e.startdName;
      if (e.startdAddress) o.StartdAddr = `<${e.startdAddress}>`;
      break;
    case 'reconnected':
      o.StartdName = e.startdName;
      if (e.startdAddress) o.StartdAddr = `<${e.startdAddress}>`;
      if (e.starterAddress) o.StarterAddr = `<${e.starterAddress}>`;
      break;
    case 'reconnect_failed':
      o.Reason = e.reason;
      o.StartdName = e.startdName;
      break;
    case 'suspended':
      o.NumberOfPIDs = e.numPids;
      break;
    case 'unsuspended':
      break;
    case 'held':
      if (e.reason) o.HoldReason = e.reason;
      o.HoldReasonCode = e.code;
      o.HoldReasonSubCode = e.subCode;
      break;
    case 'job_ad':
      for (const [k, v] of Object.entries(e.attributes)) if (!BASE_KEYS.has(k)) o[k] = exprToJson(v);
      break;
    case 'other':
      o.EventHead = e.text;
      if (e.body.length) o.EventBody = e.body;
      break;
  }
  return o;
}

/** One event as one JSON line (newline-terminated). */
export function formatEventJson(event: UserLogEvent): string {
  return JSON.stringify(eventToJson(event)) + '\n';
}

const int = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const optInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const optStr = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const host = (v: unknown): string => {
  const s = typeof v === 'string' ? v : '';
  return s.startsWith('<') && s.endsWith('>') ? s.slice(1, -1) : s;
};

/** Reads one event back from its JSON object. Throws when it is not an event. */
export function eventFromJson(o: Record<string, unknown>): UserLogEvent {
  const code = o.EventTypeNumber;
  if (typeof code !== 'number') throw new Error('not an event: no EventTypeNumber');
  const t = typeof o.EventTime === 'string' ? Date.parse(o.EventTime) : NaN;
  if (!Number.isFinite(t)) throw new Error('not an event: no valid EventTime');
  const base = { cluster: int(o.Cluster), proc: int(o.Proc), subproc: int(o.Subproc), time: Math.floor(t / 1000) };
  const type = eventTypeOf(code);
  const drop = <T extends object>(x: T): T => {
    for (const k of Object.keys(x) as (keyof T)[]) if (x[k] === undefined) delete x[k];
    return x;
  };
  switch (type) {
    case 'submit':
      return drop({
        ...base,
        type,
        host: host(o.SubmitHost),
        logNotes: optStr(o.LogNotes),
        userNotes: optStr(o.UserNotes),
        warnings: optStr(o.Warnings),
      });
    case 'execute':
      return drop({ ...base, type, host: host(o.ExecuteHost), slotName: optStr(o.SlotName) });
    case 'evicted': {
      const requeued = o.TerminatedAndRequeued === true;
      const e: EvictedEvent = drop({
        ...base,
        type,
        checkpointed: o.Checkpointed === true,
        terminatedAndRequeued: requeued,
        normal: requeued ? o.TerminatedNormally === true : undefined,
        returnValue: optInt(o.ReturnValue),
        signal: optInt(o.TerminatedBySignal),
        coreFile: optStr(o.CoreFile),
        runRemoteUsage: parseRusageText(o.RunRemoteUsage),
        runLocalUsage: parseRusageText(o.RunLocalUsage),
        sentBytes: optInt(o.SentBytes),
        receivedBytes: optInt(o.ReceivedBytes),
        reason: optStr(o.Reason),
        reasonCode: optInt(o.ReasonCode),
        reasonSubCode: optInt(o.ReasonSubCode),
        resources: readResources(o),
      });
      return e;
    }
    case 'terminated': {
      const normal = o.TerminatedNormally === true;
      const e: TerminatedEvent = drop({
        ...base,
        type,
        normal,
        returnValue: normal ? optInt(o.ReturnValue) : undefined,
        signal: normal ? undefined : optInt(o.TerminatedBySignal),
        coreFile: optStr(o.CoreFile),
        runRemoteUsage: parseRusageText(o.RunRemoteUsage),
        runLocalUsage: parseRusageText(o.RunLocalUsage),
        totalRemoteUsage: parseRusageText(o.TotalRemoteUsage),
        totalLocalUsage: parseRusageText(o.TotalLocalUsage),
        sentBytes: optInt(o.SentBytes),
        receivedBytes: optInt(o.ReceivedBytes),
        totalSentBytes: optInt(o.TotalSentBytes),
        totalReceivedBytes: optInt(o.TotalReceivedBytes),
        resources: readResources(o),
      });
      return e;
    }
    case 'image_size':
      return drop({
        ...base,
        type,
        imageSizeKb: int(o.Size),
        memoryUsageMb: optInt(o.MemoryUsage),
        residentSetSizeKb: optInt(o.ResidentSetSize),
        proportionalSetSizeKb: optInt(o.ProportionalSetSize),
      });
    case 'aborted':
    case 'released':
      return drop({ ...base, type, reason: optStr(o.Reason) });
    case 'disconnected':
      return drop({
        ...base,
        type,
        reason: optStr(o.DisconnectReason) ?? '',
        startdName: optStr(o.StartdName) ?? '',
        startdAddress: optStr(host(o.StartdAddr)),
      });
    case 'reconnected':
      return drop({
        ...base,
        type,
        startdName: optStr(o.StartdName) ?? '',
        startdAddress: optStr(host(o.StartdAddr)),
        starterAddress: optStr(host(o.StarterAddr)),
      });
    case 'reconnect_failed':
      return { ...base, type, reason: optStr(o.Reason) ?? '', startdName: optStr(o.StartdName) ?? '' };
    case 'suspended':
      return { ...base, type, numPids: int(o.NumberOfPIDs, -1) };
    case 'unsuspended':
      return { ...base, type };
    case 'held':
      return drop({
        ...base,
        type,
        reason: optStr(o.HoldReason),
        code: int(o.HoldReasonCode),
        subCode: int(o.HoldReasonSubCode),
      });
    case 'job_ad': {
      const attributes: Record<string, string> = {};
      for (const [k, v] of Object.entries(o)) if (!BASE_KEYS.has(k)) attributes[k] = jsonToExpr(v);
      return { ...base, type, attributes };
    }
    case 'other':
      return {
        ...base,
        type,
        code,
        text: typeof o.EventHead === 'string' ? o.EventHead : '',
        body: Array.isArray(o.EventBody) ? o.EventBody.filter((l): l is string => typeof l === 'string') : [],
      };
  }
}

/** Reads one JSON line. */
export function parseEventJson(line: string): UserLogEvent {
  const o: unknown = JSON.parse(line);
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('not an event: not a JSON object');
  return eventFromJson(o as Record<string, unknown>);
}

/** Reads a JSON-lines log: complete lines only; the unfinished last line is returned in `rest`. */
export function parseUserLogJsonl(text: string): {
  events: UserLogEvent[];
  problems: { line: number; message: string; text: string }[];
  rest: string;
} {
  const events: UserLogEvent[] = [];
  const problems: { line: number; message: string; text: string }[] = [];
  const end = text.lastIndexOf('\n');
  const complete = end < 0 ? '' : text.slice(0, end);
  const rest = end < 0 ? text : text.slice(end + 1);
  if (complete !== '') {
    complete.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line === '') return;
      try {
        events.push(parseEventJson(line));
      } catch (err) {
        problems.push({ line: i + 1, message: (err as Error).message, text: raw });
      }
    });
  }
  return { events, problems, rest };
}
