// The collector's share of a busy startd's slot ads (run on demand: `node --import tsx
// bench/collector-updates.ts`; BENCH_UPDATES, 20000 by default, BENCH_SLOTS 128): the Advertise handler
// checks and stores each update and encodes the change once for its watchers, as on a pool whose claims run
// one short job after another (each update a dynamic slot's ad with a new JobId and EnteredCurrentActivity,
// its other attributes as before), then the request's encoding and decoding as the transport does them.
// Printed: CPU µs per update, in the handler and on the wire. To compare two builds, run it in each tree,
// alternating. Nothing is asserted.
import { pino } from 'pino';
import { AdStore } from '../daemons/collector/ad-store.js';
import type { Admission } from '../daemons/collector/admission.js';
import { collectorService } from '../daemons/collector/service.js';
import { proto } from '../lib/rpc/proto.js';
import type { CallContext } from '../lib/rpc/server.js';

const N = Number(process.env.BENCH_UPDATES ?? 20_000);
const SLOTS = Number(process.env.BENCH_SLOTS ?? 128);
const HOST = 'exec1.example.org';

const q = (s: string) => JSON.stringify(s);
/** A dynamic slot's ad as a startd sends it: about 50 attributes, most of them the machine's. */
function slotAd(slot: number, job: number): Record<string, string> {
  const attrs: Record<string, string> = {
    MyType: q('Machine'),
    TargetType: q('Job'),
    Machine: q(HOST),
    MyAddress: q('10.0.0.7:9618'),
    StartdName: q(HOST),
    Arch: q('X86_64'),
    OpSys: q('LINUX'),
    OpSysAndVer: q('LINUX'),
    KernelVersion: q('6.1.0-18-amd64'),
    TotalCpus: '128',
    TotalMemory: '262144',
    TotalDisk: '104857600',
    TotalSlotCpus: '128',
    LoadAvg: '1.50',
    TotalLoadAvg: '1.50',
    FileSystemDomain: q(HOST),
    UidDomain: q(HOST),
    HasFileTransfer: 'true',
    MachineResources: q('Cpus Memory Disk'),
    HasJobDeferral: 'false',
    ProcessTracking: q('cgroup-v2'),
    StartdLaunchers: q('process'),
    KFlops: '1234567',
    Mips: '23456',
    Start: 'true',
    Requirements: 'START',
    Rank: '0',
    MaxJobRetirementTime: '0',
    Name: q(`slot1_${slot}@${HOST}`),
    SlotID: '1',
    DSlotId: String(slot),
    SlotType: q('Dynamic'),
    DynamicSlot: 'true',
    Cpus: '1',
    Memory: '1024',
    Disk: '1024',
    State: q('Claimed'),
    Activity: q('Busy'),
    EnteredCurrentState: '1760000000',
    EnteredCurrentActivity: String(1760000000 + job),
    RemoteScheddName: q(`schedd@${HOST}`),
    RemoteOwner: q('alice'),
    RemoteUser: q('alice'),
    JobId: q(`1.${job}`),
    MyCurrentTime: String(1760000000 + job),
  };
  return attrs;
}

const store = new AdStore();
const svc = collectorService(store, pino({ level: 'silent' }), () => 60, {} as Admission);
const ctx: CallContext = {
  identity: { kind: 'daemon', host: HOST, roles: new Set(['startd']), name: `startd@${HOST}`, admin: false },
  peer: 'bench',
  cancelled: () => false,
};
// one watcher, as the negotiator: each change is encoded (once for all watchers) when it is emitted
const encode = proto().Collector.service.Watch.responseSerialize;
let bytes = 0;
store.onChange((type, name, kind, attrs) => (bytes += encode({ type, name, kind, ad: { attrs } }).length));
const advertise = (job: number) => {
  const slot = job % SLOTS;
  return {
    updates: [
      {
        type: 'Machine',
        name: `slot1_${slot}@${HOST}`,
        instance: 'i1',
        lifetime: 15,
        ad: { attrs: slotAd(slot, job) },
      },
    ],
  };
};
for (let j = 0; j < SLOTS; j++) svc.unary.Advertise!(advertise(j), ctx); // the slots' first ads

const wire = proto().Collector.service.Advertise;
const requests = Array.from({ length: N }, (_, i) => advertise(SLOTS + i));
let t0 = process.cpuUsage();
for (const r of requests) svc.unary.Advertise!(r, ctx);
const handler = process.cpuUsage(t0);
t0 = process.cpuUsage();
for (const r of requests) wire.requestDeserialize(wire.requestSerialize(r));
const onWire = process.cpuUsage(t0);
const us = (c: NodeJS.CpuUsage) => ((c.user + c.system) / N).toFixed(1);
console.log(
  `collector updates: ${N} slot-ad updates on ${SLOTS} slots — Advertise handler (check, store, one watcher's encoding) ${us(handler)} µs per update; the request encoded and decoded ${us(onWire)} µs per update (${Math.round(bytes / N)} bytes per change sent)`,
);

// The periodic update of a busy startd's unchanged slot ads (one request of SLOTS ads, BENCH_ROUNDS times,
// alternating): each ad sent whole again, as before renewals, against each renewed (name and version only),
// and each renewed with a load average that moved, which the watcher is told of (on a loaded host, every slot
// at every update).
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
type Periodic = 'whole' | 'renew' | 'load';
const periodic = (kind: Periodic, round = 0) => ({
  updates: Array.from({ length: SLOTS }, (_, slot) =>
    kind !== 'whole'
      ? {
          type: 'Machine',
          name: `slot1_${slot}@${HOST}`,
          instance: 'i1',
          lifetime: 15,
          version: 'v1',
          renew: true,
          ad: kind === 'load' ? { attrs: { LoadAvg: round % 2 ? '1.05' : '0.95' } } : undefined,
        }
      : {
          type: 'Machine',
          name: `slot1_${slot}@${HOST}`,
          instance: 'i1',
          lifetime: 15,
          version: 'v1',
          ad: { attrs: slotAd(slot, 0) },
        },
  ),
});
svc.unary.Advertise!(periodic('whole'), ctx);
const cpu = { whole: 0, renew: 0, load: 0 };
for (let r = 0; r < ROUNDS; r++)
  for (const kind of ['whole', 'renew'] as const) {
    const req = periodic(kind, r); // made before the clock starts: the startd builds its ads either way
    const t = process.cpuUsage();
    wire.requestDeserialize(wire.requestSerialize(req));
    const reply = svc.unary.Advertise!(req, ctx) as { stale: string[] };
    if (reply.stale.length) throw new Error(`renewals refused: ${reply.stale.length}`);
    const c = process.cpuUsage(t);
    cpu[kind] += c.user + c.system;
  }
// then renewals that move a load average, every one told (a whole ad sent between would be news too)
bytes = 0;
for (let r = 0; r < ROUNDS; r++) {
  const req = periodic('load', r);
  const t = process.cpuUsage();
  wire.requestDeserialize(wire.requestSerialize(req));
  svc.unary.Advertise!(req, ctx);
  const c = process.cpuUsage(t);
  cpu.load += c.user + c.system;
}
const perAd = (n: number) => (n / (ROUNDS * SLOTS)).toFixed(1);
console.log(
  `periodic update of ${SLOTS} unchanged slot ads (${ROUNDS} rounds each, alternating): sent whole ${perAd(cpu.whole)} µs per ad, renewed ${perAd(cpu.renew)} µs per ad, renewed with a load average that moved ${perAd(cpu.load)} µs per ad (encoding, decoding, Advertise handler, one watcher's encoding: ${Math.round(bytes / (ROUNDS * SLOTS))} bytes per renewal told)`,
);
