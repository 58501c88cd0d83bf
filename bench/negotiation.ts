// Negotiation time of one cycle's matching, in process (no RPC): 100,000 idle jobs in 1,000 autoclusters of
// 8 submitters against 10,000 slot ads (2,000 partitionable slots, a third of them partly used, and 8,000
// static slots on 1,000 machines), with the ads' attributes as a dsched startd writes them plus site labels
// and START/RANK policies. Target: < 1 s on a 2-core machine.
// Run: node --import tsx bench/negotiation.ts [runs]   (or: node bench/run.mjs negotiation)
import { loadavg } from 'node:os';
import { ClassAd, literal, unparse } from '../grammar/classad/index.js';
import { Matchmaker, type NegotiationInput } from '../daemons/negotiator/matchmaker.js';
import { ConcurrencyLimits } from '../daemons/negotiator/limits.js';
import { AdMirror } from '../daemons/negotiator/ad-mirror.js';

const RUNS = Number(process.argv[2] ?? 7);
/** runs before the measured ones, while the JIT settles (the daemon runs cycle after cycle) */
const WARMUP = 2;
const lit = (v: string | number | boolean) => unparse(literal(v));

// deterministic pseudo-random numbers (mulberry32), so every run sees the same pool and queue
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20240611);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

// ---- the pool ---------------------------------------------------------------------------------------------

interface MachineType {
  kind: 'p' | 's';
  count: number;
  cpus: number;
  memory: number; // MB
  arch: string;
  os: string;
  extra: Record<string, string>;
  slots?: number; // static slots per machine
}
const TYPES: MachineType[] = [
  {
    kind: 'p',
    count: 600,
    cpus: 64,
    memory: 262144,
    arch: 'X86_64',
    os: 'AlmaLinux9',
    extra: { HasDocker: 'true', Datacenter: lit('dc1') },
  },
  {
    kind: 'p',
    count: 800,
    cpus: 32,
    memory: 131072,
    arch: 'X86_64',
    os: 'Ubuntu22',
    extra: { HasDocker: 'true', HasSingularity: 'true', Datacenter: lit('dc2') },
  },
  {
    kind: 'p',
    count: 200,
    cpus: 32,
    memory: 393216,
    arch: 'X86_64',
    os: 'AlmaLinux9',
    extra: { GPUs: '4', CUDACapability: '8.0', Datacenter: lit('dc1') },
  },
  {
    kind: 'p',
    count: 400,
    cpus: 80,
    memory: 262144,
    arch: 'aarch64',
    os: 'AlmaLinux9',
    extra: { Datacenter: lit('dc2') },
  },
  {
    kind: 's',
    count: 500,
    slots: 8,
    cpus: 1,
    memory: 2048,
    arch: 'X86_64',
    os: 'CentOS7',
    extra: { HasDocker: 'false', Datacenter: lit('dc3') },
  },
  {
    kind: 's',
    count: 500,
    slots: 8,
    cpus: 2,
    memory: 8192,
    arch: 'X86_64',
    os: 'AlmaLinux9',
    extra: { HasDocker: 'true', Datacenter: lit('dc3') },
  },
];
const STARTS = [
  'TRUE',
  '(TARGET.Owner =!= "mallory")',
  '(TARGET.RequestMemory <= 16384) || (TARGET.Owner == "alice")',
  '(LoadAvg < 0.95) && (TARGET.JobUniverse == 5)',
];
const RANKS = ['0', '0', '0', '(TARGET.Owner == "alice") * 10'];

function slotRecords(): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  let host = 0;
  const now = 1_760_000_000;
  for (const t of TYPES) {
    for (let m = 0; m < t.count; m++) {
      host++;
      const machine = `node${String(host).padStart(5, '0')}.example.org`;
      const start = pick(STARTS);
      const rank = pick(RANKS);
      const load = (rand() * 1.2).toFixed(2);
      const kflops = String(1_500_000 + Math.floor(rand() * 1_500_000));
      const common: Record<string, string> = {
        MyType: lit('Machine'),
        TargetType: lit('Job'),
        Machine: lit(machine),
        MyAddress: lit(`10.${(host >> 8) & 255}.${host & 255}.1:9618`),
        StartdName: lit(machine),
        Arch: lit(t.arch),
        OpSys: lit('LINUX'),
        OpSysAndVer: lit(t.os),
        KernelVersion: lit(t.os === 'CentOS7' ? '3.10.0-1160' : '5.14.0-427'),
        TotalCpus: String(t.kind === 'p' ? t.cpus : t.cpus * t.slots!),
        TotalMemory: String(t.kind === 'p' ? t.memory : t.memory * t.slots!),
        TotalDisk: String(500 * 1024 * 1024),
        LoadAvg: load,
        TotalLoadAvg: load,
        KFlops: kflops,
        Mips: String(20000 + Math.floor(rand() * 20000)),
        FileSystemDomain: lit(machine),
        UidDomain: lit(machine),
        HasFileTransfer: 'true',
        HasJobDeferral: 'false',
        MachineResources: lit(t.extra.GPUs ? 'Cpus Memory Disk GPUs' : 'Cpus Memory Disk'),
        Start: start,
        Requirements: 'START',
        Rank: rank,
        State: lit('Unclaimed'),
        Activity: lit('Idle'),
        EnteredCurrentState: String(now - Math.floor(rand() * 86400)),
        EnteredCurrentActivity: String(now - Math.floor(rand() * 86400)),
        Rack: lit(`r${Math.floor(host / 40)}`),
        ...t.extra,
      };
      if (t.kind === 'p') {
        // a third of the partitionable slots are partly used: what is left varies
        const used = rand() < 1 / 3 ? rand() : 0;
        const cpus = Math.max(1, Math.round(t.cpus * (1 - used)));
        const memory = Math.max(1024, Math.round((t.memory * (1 - used * (0.5 + rand() * 0.5))) / 1024) * 1024);
        out.push({
          ...common,
          Name: lit(`slot1@${machine}`),
          SlotID: '1',
          SlotType: lit('Partitionable'),
          PartitionableSlot: 'true',
          TotalSlotCpus: String(t.cpus),
          Cpus: String(cpus),
          Memory: String(memory),
          Disk: String(400 * 1024 * 1024),
          ChildCount: String(used ? Math.round(t.cpus * used) : 0),
        });
      } else {
        for (let i = 1; i <= t.slots!; i++) {
          out.push({
            ...common,
            Name: lit(`slot${i}@${machine}`),
            SlotID: String(i),
            SlotType: lit('Static'),
            TotalSlotCpus: String(t.cpus),
            Cpus: String(t.cpus),
            Memory: String(t.memory),
            Disk: String(50 * 1024 * 1024),
          });
        }
      }
    }
  }
  return out;
}

// ---- the queue ----------------------------------------------------------------------------------------------

const SUBMITTERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const PRIORITIES = [0.5, 2, 5, 12, 30, 30, 80, 200];
const USER_CLAUSES: Array<{ req: string; weight: number; gpus?: boolean; arch?: boolean }> = [
  { req: '', weight: 30 },
  { req: 'TARGET.OpSysAndVer == "AlmaLinux9"', weight: 12 },
  { req: 'TARGET.HasDocker == true', weight: 10 },
  { req: '(TARGET.GPUs >= RequestGPUs) && (TARGET.CUDACapability >= 7.5)', weight: 6, gpus: true },
  { req: 'TARGET.Arch == "aarch64"', weight: 8, arch: true },
  { req: 'TARGET.Machine =!= "node00042.example.org"', weight: 4 },
  { req: 'TARGET.Datacenter == "dc2"', weight: 8 },
  { req: 'TARGET.KFlops > 2000000', weight: 4 },
  { req: '(TARGET.OpSysAndVer == "CentOS7") && (TARGET.HasDocker =!= true)', weight: 4 },
];
const JOB_RANKS = [
  '',
  '',
  '',
  '',
  '',
  '',
  'TARGET.HasDocker =?= true',
  'TARGET.Mips',
  'TARGET.Memory',
  'TARGET.KFlops',
];
function weighted<T extends { weight: number }>(xs: T[]): T {
  let r = rand() * xs.reduce((n, x) => n + x.weight, 0);
  for (const x of xs) if ((r -= x.weight) < 0) return x;
  return xs[0]!;
}

interface AcRecord {
  submitter: number;
  id: number;
  idle: number;
  ad: Record<string, string>;
}
function autoclusterRecords(): AcRecord[] {
  const out: AcRecord[] = [];
  for (let i = 0; i < 1000; i++) {
    const u = i % SUBMITTERS.length;
    const owner = SUBMITTERS[u]!;
    const c = weighted(USER_CLAUSES);
    const cpus = pick([1, 1, 1, 2, 4, 8]);
    const memory = pick([1024, 2048, 2048, 4096, 8192, 16384]);
    const clauses = c.req ? [`(${c.req})`] : [];
    if (!c.arch) clauses.push('(TARGET.Arch == "X86_64")');
    clauses.push('(TARGET.OpSys == "LINUX")', '(TARGET.Disk >= RequestDisk)', '(TARGET.Memory >= RequestMemory)');
    if (cpus > 1) clauses.push('(TARGET.Cpus >= RequestCpus)');
    clauses.push('((TARGET.FileSystemDomain == MY.FileSystemDomain) || (TARGET.HasFileTransfer))');
    const rank = pick(JOB_RANKS);
    const ad: Record<string, string> = {
      MyType: lit('Job'),
      TargetType: lit('Machine'),
      ClusterId: String(1000 + i),
      ProcId: '0',
      Owner: lit(owner),
      User: lit(`${owner}@submit.example.org`),
      Cmd: lit(`/home/${owner}/bin/sim`),
      Arguments: lit('-n 100 -seed $(Process)'),
      Iwd: lit(`/home/${owner}/run${i}`),
      JobUniverse: '5',
      JobStatus: '1',
      JobPrio: String(pick([0, 0, 0, 5, -5])),
      QDate: String(1_760_000_000 + i),
      RequestCpus: String(cpus),
      RequestMemory: String(memory),
      RequestDisk: String(1024 * 1024),
      DiskUsage: '5000',
      ImageSize: '20000',
      FileSystemDomain: lit('submit.example.org'),
      ShouldTransferFiles: lit('YES'),
      WhenToTransferOutput: lit('ON_EXIT'),
      TransferInput: lit('input.dat'),
      Out: lit('out.$(Process)'),
      Err: lit('err.$(Process)'),
      UserLog: lit(`/home/${owner}/run${i}/job.log`),
      Requirements: clauses.join(' && '),
    };
    if (c.gpus) ad.RequestGPUs = '1';
    if (rank) ad.Rank = rank;
    if (i % 50 === 7) ad.ConcurrencyLimits = lit('LICENSE');
    out.push({ submitter: u, id: i + 1, idle: 100, ad });
  }
  return out;
}

// ---- the measurement -----------------------------------------------------------------------------------------

const slotRecs = slotRecords();
const acRecs = autoclusterRecords();
const limitOf = (n: string) => (n === 'license' ? 1500 : Infinity);

// The negotiator keeps the slot ads parsed between cycles (AdMirror, fed by the collector's Watch stream:
// an ad is parsed once per version) and parses the autoclusters' ads from each schedd reply. Each run below
// is one such cycle; the first sight of every slot ad is measured on its own.
const mirror = new AdMirror();
const tFirst = performance.now();
mirror.streamOpened();
for (const r of slotRecs) mirror.apply({ type: 'Machine', name: r.Name!, kind: 'added', ad: { attrs: { ...r } } });
mirror.apply({ type: '', name: '', kind: 'hello' });
mirror.ads('Machine');
const firstSightMs = performance.now() - tFirst;

function buildInput(): { input: NegotiationInput; slotAdsMs: number; jobAdsMs: number } {
  const t0 = performance.now();
  const slots = mirror.ads('Machine');
  const t1 = performance.now();
  const submitters = SUBMITTERS.map((u, k) => ({
    name: `${u}@submit.example.org`,
    schedd: 'submit.example.org:9618',
    priority: PRIORITIES[k]!,
    usage: 0,
    autoclusters: [] as Array<{ id: number; idle: number; ad: ClassAd }>,
  }));
  for (const a of acRecs)
    submitters[a.submitter]!.autoclusters.push({ id: a.id, idle: a.idle, ad: ClassAd.fromRecord(a.ad) });
  const limits = new ConcurrencyLimits(limitOf);
  limits.reset([]);
  return { input: { slots, submitters, limits }, slotAdsMs: t1 - t0, jobAdsMs: performance.now() - t1 };
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpus = slotRecs.reduce((n, r) => n + Number(r.Cpus), 0);
console.log(
  `pool: ${slotRecs.length} slot ads (${slotRecs.filter((r) => r.PartitionableSlot).length} partitionable, ${slotRecs.filter((r) => !r.PartitionableSlot).length} static), ${cpus} free cpus; ` +
    `queue: ${acRecs.reduce((n, a) => n + a.idle, 0)} idle jobs in ${acRecs.length} autoclusters of ${SUBMITTERS.length} submitters`,
);
const match: number[] = [];
const matchCpu: number[] = [];
const total: number[] = [];
let last: ReturnType<Matchmaker['negotiate']> | undefined;
for (let run = -WARMUP; run < RUNS; run++) {
  const { input, slotAdsMs, jobAdsMs } = buildInput();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  last = new Matchmaker(input).negotiate();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  if (run < 0) {
    console.log(`  warm-up: matching ${ms.toFixed(0)} ms (${cpuMs.toFixed(0)} ms of CPU time)`);
    continue;
  }
  match.push(ms);
  matchCpu.push(cpuMs);
  total.push(ms + slotAdsMs + jobAdsMs);
  console.log(
    `  run ${run + 1}: matching ${ms.toFixed(0)} ms (${cpuMs.toFixed(0)} ms of CPU time); slot ads (kept) ${slotAdsMs.toFixed(0)} ms, autocluster ads ${jobAdsMs.toFixed(0)} ms`,
  );
}
const s = last!.stats;
console.log(
  `result: ${s.jobs} jobs matched (${last!.matches.length} match records) on ${s.slots} slots in ${s.classes} slot classes; ` +
    `${s.classEvaluations} per-class and ${s.slotEvaluations} per-slot evaluations`,
);
console.log(
  `negotiation (matching) median of ${RUNS} (after ${WARMUP} warm-up runs): ${median(match).toFixed(0)} ms wall clock, ${median(matchCpu).toFixed(0)} ms of CPU time ` +
    `(the CPU time includes the garbage collector's other threads); with the ads from the wire form: ${median(total).toFixed(0)} ms`,
);
console.log(`first sight of the ${slotRecs.length} slot ads (all parsed): ${firstSightMs.toFixed(0)} ms, once`);
console.log(`machine: load ${loadavg()[0]!.toFixed(1)}`);
console.log(
  median(match) < 1000 ? 'target of 1 s for the negotiation: met' : 'target of 1 s for the negotiation: NOT met',
);
