// Writes events in HTCondor's user job event log text format:
//
//   005 (123.000.000) 2025-11-23 14:05:00 Job terminated.
//           (1) Normal termination (return value 2)
//                   Usr 0 00:00:00, Sys 0 00:00:00  -  Run Remote Usage
//   ...
//
// A header `NNN (CCC.PPP.SSS) date time text`, body lines indented with tabs, and `...` closing the event. The
// date is local time `YYYY-MM-DD HH:MM:SS` (HTCondor's default ISO_DATE format); `utc` writes UTC with a `Z`,
// `legacy` the pre-8.8 `MM/DD HH:MM:SS`. Field layout follows HTCondor's condor_event.cpp so its readers
// (condor_wait, DAGMan, htcondor.JobEventLog) and ours read the same bytes.
import {
  eventCode,
  normalizeEvent,
  type EvictedEvent,
  type ResourceRow,
  type Rusage,
  type TerminatedEvent,
  type UserLogEvent,
} from './events.js';

export interface LogTimeOptions {
  /** UTC with a trailing `Z` instead of local time. */
  utc?: boolean;
  /** `MM/DD HH:MM:SS` (no year), as HTCondor before 8.8. */
  legacy?: boolean;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** The header's date and time. */
export function formatLogTime(epochSeconds: number, opts: LogTimeOptions = {}): string {
  const d = new Date(Math.floor(epochSeconds) * 1000);
  const [Y, M, D, h, m, s] = opts.utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  const time = `${pad(h)}:${pad(m)}:${pad(s)}${opts.utc ? 'Z' : ''}`;
  return opts.legacy ? `${pad(M)}/${pad(D)} ${time}` : `${pad(Y, 4)}-${pad(M)}-${pad(D)} ${time}`;
}

/** `NNN (CCC.PPP.SSS) <date> <time> ` */
function header(e: UserLogEvent, opts: LogTimeOptions): string {
  return `${pad(eventCode(e), 3)} (${pad(e.cluster, 3)}.${pad(e.proc, 3)}.${pad(e.subproc ?? 0, 3)}) ${formatLogTime(e.time, opts)} `;
}

/** `\tUsr d hh:mm:ss, Sys d hh:mm:ss` */
export function formatRusage(r: Rusage): string {
  const part = (secs: number): string => {
    let s = Math.max(0, Math.floor(secs));
    const days = Math.floor(s / 86400);
    s -= days * 86400;
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    return `${days} ${pad(h)}:${pad(m)}:${pad(s - m * 60)}`;
  };
  return `\tUsr ${part(r.user)}, Sys ${part(r.sys)}`;
}

function resourceValue(v: number | string | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

const isBareInteger = (s: string): boolean => /^\d+$/.test(s);

/** The `Partitionable Resources : Usage Request Allocated` table, laid out as HTCondor lays it out. */
export function formatResources(rows: readonly ResourceRow[]): string {
  if (rows.length === 0) return '';
  type Cells = { name: string; use: string; req: string; alloc: string; assigned: string };
  const cells: Cells[] = rows.map((r) => ({
    name: r.name,
    use: resourceValue(r.usage),
    req: resourceValue(r.request),
    alloc: resourceValue(r.allocated),
    assigned: r.assigned ?? '',
  }));
  // Integers in a column that also has fractions get three spaces so they line up with the decimal point.
  const hasFraction = (k: keyof Cells): boolean => cells.some((c) => /\.\d/.test(c[k]) && !isBareInteger(c[k]));
  for (const k of ['use', 'req', 'alloc'] as const) {
    if (hasFraction(k)) for (const c of cells) if (isBareInteger(c[k])) c[k] += '   ';
  }
  let cchRes = 'Memory (MB)'.length + 1;
  let cchUse = 8;
  let cchReq = 8;
  let cchAlloc = 0;
  let cchAssigned = 0;
  for (const c of cells) {
    cchRes = Math.max(cchRes, c.name.length);
    cchUse = Math.max(cchUse, c.use.length);
    cchReq = Math.max(cchReq, c.req.length);
    cchAlloc = Math.max(cchAlloc, c.alloc.length);
    cchAssigned = Math.max(cchAssigned, c.assigned.length);
  }
  const allocW = Math.max(cchAlloc, 9);
  let out =
    `\tPartitionable Resources : ${'Usage'.padStart(cchUse)} ${'Request'.padStart(cchReq)} ` +
    `${(cchAlloc ? 'Allocated' : '').padStart(allocW)} ${cchAssigned ? 'Assigned' : ''}\n`;
  const sorted = [...cells].sort((a, b) => {
    const x = a.name.toLowerCase();
    const y = b.name.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
  for (const c of sorted) {
    let label = c.name;
    if (label === 'Memory' || label === 'GpusMemory') label += ' (MB)';
    else if (label === 'Disk') label += ' (KB)';
    else if (label === 'Gpus') label += ' (Average)';
    out += `\t   ${label.padEnd(cchRes + 8)} : ${c.use.padStart(cchUse)} ${c.req.padStart(cchReq)} ${c.alloc.padStart(allocW)} ${c.assigned}\n`;
  }
  return out;
}

const bytes = (n: number | undefined): string => String(Math.round(n ?? 0));

function terminationLines(
  normal: boolean,
  returnValue: number | undefined,
  signal: number | undefined,
  coreFile: string | undefined,
): string {
  if (normal) return `\t(1) Normal termination (return value ${returnValue ?? 0})\n`;
  return (
    `\t(0) Abnormal termination (signal ${signal ?? 0})\n` +
    (coreFile ? `\t(1) Corefile in: ${coreFile}\n` : `\t(0) No core file\n`)
  );
}

function terminatedBody(e: TerminatedEvent): string {
  const zero = { user: 0, sys: 0 };
  let out = 'Job terminated.\n' + terminationLines(e.normal, e.returnValue, e.signal, e.coreFile);
  out += `\t${formatRusage(e.runRemoteUsage ?? zero)}  -  Run Remote Usage\n`;
  out += `\t${formatRusage(e.runLocalUsage ?? zero)}  -  Run Local Usage\n`;
  out += `\t${formatRusage(e.totalRemoteUsage ?? zero)}  -  Total Remote Usage\n`;
  out += `\t${formatRusage(e.totalLocalUsage ?? zero)}  -  Total Local Usage\n`;
  out += `\t${bytes(e.sentBytes)}  -  Run Bytes Sent By Job\n`;
  out += `\t${bytes(e.receivedBytes)}  -  Run Bytes Received By Job\n`;
  out += `\t${bytes(e.totalSentBytes)}  -  Total Bytes Sent By Job\n`;
  out += `\t${bytes(e.totalReceivedBytes)}  -  Total Bytes Received By Job\n`;
  out += formatResources(e.resources ?? []);
  return out;
}

function evictedBody(e: EvictedEvent): string {
  const zero = { user: 0, sys: 0 };
  let out = e.reasonCode
    ? `Job was evicted. Code ${e.reasonCode} Subcode ${e.reasonSubCode ?? 0}\n`
    : 'Job was evicted.\n';
  if (e.terminatedAndRequeued) out += '\t(0) Job terminated and was requeued\n';
  else if (e.checkpointed) out += '\t(1) Job was checkpointed.\n';
  else out += '\t(0) CPU times\n';
  out += `\t${formatRusage(e.runRemoteUsage ?? zero)}  -  Run Remote Usage\n`;
  out += `\t${formatRusage(e.runLocalUsage ?? zero)}  -  Run Local Usage\n`;
  out += `\t${bytes(e.sentBytes)}  -  Run Bytes Sent By Job\n`;
  out += `\t${bytes(e.receivedBytes)}  -  Run Bytes Received By Job\n`;
  if (e.terminatedAndRequeued) out += terminationLines(e.normal ?? false, e.returnValue, e.signal, e.coreFile);
  if (e.reason) out += e.terminatedAndRequeued ? `\t${e.reason}\n` : `\tReason: ${e.reason}\n`;
  out += formatResources(e.resources ?? []);
  return out;
}

/** One event as text, from its header line to the closing `...` line (newline-terminated). */
export function formatEvent(event: UserLogEvent, opts: LogTimeOptions = {}): string {
  const e = normalizeEvent(event);
  let body: string;
  switch (e.type) {
    case 'submit':
      body = `Job submitted from host: <${e.host}>\n`;
      if (e.logNotes) body += `    ${e.logNotes}\n`;
      if (e.userNotes) body += `${e.logNotes ? '' : '    \n'}    ${e.userNotes}\n`;
      if (e.warnings)
        body += `    WARNING: Committed job submission into the queue with the following warning(s): ${e.warnings}\n`;
      break;
    case 'execute':
      body = `Job executing on host: <${e.host}>\n`;
      if (e.slotName) body += `\tSlotName: ${e.slotName}\n`;
      break;
    case 'evicted':
      body = evictedBody(e);
      break;
    case 'terminated':
      body = terminatedBody(e);
      break;
    case 'image_size':
      body = `Image size of job updated: ${Math.round(e.imageSizeKb)}\n`;
      if (e.memoryUsageMb !== undefined && e.memoryUsageMb >= 0)
        body += `\t${Math.round(e.memoryUsageMb)}  -  MemoryUsage of job (MB)\n`;
      if (e.residentSetSizeKb !== undefined && e.residentSetSizeKb >= 0)
        body += `\t${Math.round(e.residentSetSizeKb)}  -  ResidentSetSize of job (KB)\n`;
      if (e.proportionalSetSizeKb !== undefined && e.proportionalSetSizeKb >= 0) {
        body += `\t${Math.round(e.proportionalSetSizeKb)}  -  ProportionalSetSize of job (KB)\n`;
      }
      break;
    case 'aborted':
      body = 'Job was aborted.\n' + (e.reason ? `\t${e.reason}\n` : '');
      break;
    case 'suspended':
      body = `Job was suspended.\n\tNumber of processes actually suspended: ${e.numPids}\n`;
      break;
    case 'unsuspended':
      body = 'Job was unsuspended.\n';
      break;
    case 'held':
      body = `Job was held.\n\t${e.reason ?? 'Reason unspecified'}\n\tCode ${e.code} Subcode ${e.subCode}\n`;
      break;
    case 'released':
      body = 'Job was released.\n' + (e.reason ? `\t${e.reason}\n` : '');
      break;
    // laid out as condor_event.cpp: four-space indents, the addresses in <>
    case 'disconnected':
      body =
        `Job disconnected, attempting to reconnect\n    ${e.reason}\n` +
        `    Trying to reconnect to ${e.startdName}${e.startdAddress ? ` <${e.startdAddress}>` : ''}\n`;
      break;
    case 'reconnected':
      body = `Job reconnected to ${e.startdName}\n`;
      if (e.startdAddress) body += `    startd address: <${e.startdAddress}>\n`;
      if (e.starterAddress) body += `    starter address: <${e.starterAddress}>\n`;
      break;
    case 'reconnect_failed':
      body = `Job reconnection failed\n    ${e.reason}\n    Can not reconnect to ${e.startdName}, rescheduling job\n`;
      break;
    case 'job_ad':
      body = 'Job ad information event triggered.\n';
      for (const [k, v] of Object.entries(e.attributes)) body += `${k} = ${v}\n`;
      break;
    case 'other':
      body = `${e.text}\n` + e.body.map((l) => `${l}\n`).join('');
      break;
  }
  return header(e, opts) + body + '...\n';
}

/** Several events, concatenated. */
export function formatEvents(events: readonly UserLogEvent[], opts: LogTimeOptions = {}): string {
  return events.map((e) => formatEvent(e, opts)).join('');
}

/**
 * A 028 event built from attribute values: numbers, booleans and strings become ClassAd literals (strings quoted
 * and escaped); anything else must already be expression text wrapped as `{ expr: '…' }`.
 */
export function jobAdAttributes(
  values: Record<string, number | boolean | string | null | { expr: string }>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === null) out[k] = 'undefined';
    else if (typeof v === 'object') out[k] = v.expr;
    else if (typeof v === 'string') out[k] = classAdString(v);
    else if (typeof v === 'number') out[k] = Number.isInteger(v) ? String(v) : classAdReal(v);
    else out[k] = v ? 'true' : 'false';
  }
  return out;
}

/** A ClassAd string literal. */
export function classAdString(s: string): string {
  return (
    '"' +
    s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r') +
    '"'
  );
}

function classAdReal(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'real("NaN")' : n > 0 ? 'real("INF")' : 'real("-INF")';
  const s = String(n);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
