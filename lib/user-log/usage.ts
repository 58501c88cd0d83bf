// What a terminate (005) event says about a run, from the job ad as the schedd holds it when the job exits,
// as HTCondor's shadow fills it: CPU time (RemoteUserCpu/RemoteSysCpu, as the startd last measured it), the
// bytes file transfer moved (BytesSent: to the job; BytesRecvd: from it), and the Cpus/Disk/Memory table
// (usage, request, allocated).
import type { ResourceRow, TerminatedEvent } from './events.js';

type Usage = Pick<
  TerminatedEvent,
  | 'runRemoteUsage'
  | 'totalRemoteUsage'
  | 'sentBytes'
  | 'receivedBytes'
  | 'totalSentBytes'
  | 'totalReceivedBytes'
  | 'resources'
>;

/**
 * `value` reads a job attribute. `run`: the bytes of this run alone (the attributes count every run); without
 * it, the totals.
 */
export function terminationUsage(value: (name: string) => unknown, run?: { toJob: number; fromJob: number }): Usage {
  const num = (name: string): number | undefined => {
    const v = value(name);
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const cpu = { user: num('RemoteUserCpu') ?? 0, sys: num('RemoteSysCpu') ?? 0 };
  const toJob = num('BytesSent') ?? 0;
  const fromJob = num('BytesRecvd') ?? 0;
  const wall = num('RemoteWallClockTime') ?? 0;
  // a dynamic slot is carved to the job's request: what it was allocated, unless the ad says otherwise
  const row = (
    name: string,
    usage: number | undefined,
    request: number | undefined,
    allocated: number | undefined,
  ): ResourceRow => ({
    name,
    usage: usage ?? 0,
    request: request ?? 0,
    allocated: allocated ?? request ?? 0,
  });
  const resources: ResourceRow[] = [
    row(
      'Cpus',
      num('CpusUsage') ?? (wall > 0 ? Math.round(((cpu.user + cpu.sys) / wall) * 100) / 100 : 0),
      num('RequestCpus'),
      num('Cpus'),
    ),
    row('Disk', num('DiskUsage'), num('RequestDisk'), num('Disk')),
    row('Memory', num('MemoryUsage'), num('RequestMemory'), num('Memory')),
  ];
  return {
    runRemoteUsage: cpu,
    totalRemoteUsage: cpu,
    sentBytes: run?.fromJob ?? fromJob,
    receivedBytes: run?.toJob ?? toJob,
    totalSentBytes: fromJob,
    totalReceivedBytes: toJob,
    resources,
  };
}
