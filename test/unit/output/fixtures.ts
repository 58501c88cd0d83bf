// Job and slot ads for the output tests, built with the real ClassAd. Times are fixed: T is 2025-11-23 14:05:00 UTC.
import { ClassAd } from '../../../grammar/classad/index.js';

export const T = 1763906700;

/** An ad from JS values (numbers, strings, booleans); `exprs` adds attributes as expression text. */
export function ad(values: Record<string, unknown>, exprs: Record<string, string> = {}): ClassAd {
  const a = new ClassAd();
  for (const [k, v] of Object.entries(values)) a.setValue(k, v);
  for (const [k, v] of Object.entries(exprs)) a.setExprText(k, v);
  return a;
}

export function job(cluster: number, proc: number, extra: Record<string, unknown> = {}): ClassAd {
  return ad({
    ClusterId: cluster,
    ProcId: proc,
    Owner: 'alice',
    QDate: T,
    JobStatus: 1,
    Cmd: '/bin/sleep',
    Args: '60',
    JobPrio: 0,
    ...extra,
  });
}

export function slot(name: string, extra: Record<string, unknown> = {}): ClassAd {
  const machine = name.includes('@') ? name.split('@')[1]! : name;
  return ad({
    Name: name,
    Machine: machine,
    OpSys: 'LINUX',
    Arch: 'X86_64',
    State: 'Unclaimed',
    Activity: 'Idle',
    LoadAvg: 0,
    Memory: 1024,
    Cpus: 1,
    EnteredCurrentActivity: T,
    ...extra,
  });
}
