// Writes the user-facing job event log (`log = …` in the submit file) in HTCondor's text format.
// Events of one flush are grouped per file and appended with one write each.
import { appendFileSync } from 'node:fs';
import type { Logger } from '../../lib/log.js';

/** What the schedd records; rendered by formatEvent. */
export type UserLogEvent = { cluster: number; proc: number; time?: number } & (
  | { code: 0; host: string }
  | { code: 1; host: string }
  | { code: 4; reason: string }
  | { code: 5; exitCode?: number; signal?: number; runSeconds: number }
  | { code: 9; reason: string }
  | { code: 12; reason: string; holdCode: number; subCode: number }
  | { code: 13; reason: string }
);

type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;
export type UserLogEventBody = DistributiveOmit<UserLogEvent, 'cluster' | 'proc'>;

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const hms = (s: number) => `${Math.floor(s / 86400)} ${pad(Math.floor(s / 3600) % 24, 2)}:${pad(Math.floor(s / 60) % 60, 2)}:${pad(s % 60, 2)}`;

export function formatEvent(e: UserLogEvent): string {
  const d = new Date((e.time ?? Date.now() / 1000) * 1000);
  const when = `${d.getFullYear()}-${pad(d.getMonth() + 1, 2)}-${pad(d.getDate(), 2)} ${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}`;
  const head = `${pad(e.code, 3)} (${pad(e.cluster, 3)}.${pad(e.proc, 3)}.000) ${when} `;
  switch (e.code) {
    case 0:
      return `${head}Job submitted from host: <${e.host}>\n...\n`;
    case 1:
      return `${head}Job executing on host: <${e.host}>\n...\n`;
    case 4:
      return `${head}Job was evicted.\n\t${e.reason}\n...\n`;
    case 5: {
      const term =
        e.signal !== undefined
          ? `\t(0) Abnormal termination (signal ${e.signal})\n\t(0) No core file\n`
          : `\t(1) Normal termination (return value ${e.exitCode ?? 0})\n`;
      const u = `Usr 0 ${hms(0)}, Sys 0 ${hms(0)}`;
      return `${head}Job terminated.\n${term}\t\t${u}  -  Run Remote Usage\n\t\t${u}  -  Run Local Usage\n\t\t${u}  -  Total Remote Usage\n\t\t${u}  -  Total Local Usage\n\t0  -  Run Bytes Sent By Job\n\t0  -  Run Bytes Received By Job\n\t0  -  Total Bytes Sent By Job\n\t0  -  Total Bytes Received By Job\n...\n`;
    }
    case 9:
      return `${head}Job was aborted.\n\t${e.reason}\n...\n`;
    case 12:
      return `${head}Job was held.\n\t${e.reason}\n\tCode ${e.holdCode} Subcode ${e.subCode}\n...\n`;
    case 13:
      return `${head}Job was released.\n\t${e.reason}\n...\n`;
  }
}

export class UserLogWriter {
  private pending = new Map<string, string[]>();
  private scheduled = false;
  constructor(private log: Logger) {}

  write(path: string | undefined, event: UserLogEvent): void {
    if (!path) return;
    let list = this.pending.get(path);
    if (!list) this.pending.set(path, (list = []));
    list.push(formatEvent(event));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    const batches = this.pending;
    this.pending = new Map();
    for (const [path, events] of batches) {
      try {
        appendFileSync(path, events.join(''));
      } catch (e) {
        this.log.warn({ path, err: (e as Error).message }, 'cannot write the job event log');
      }
    }
  }
}
