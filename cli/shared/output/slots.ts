// Slot views as condor_status prints them: the default table, its summary by Arch/OpSys, -total, -compact, -run,
// -server, -state, -long and JSON.
import { formatAdsJson, formatAdsJsonl, formatAdsLong, num, str, type OutputAd } from './ad.js';
import { renderTable, type Cell, type Column, type Style } from './columns.js';
import { formatDuration } from './time.js';
import { nowSeconds, onPoolClock } from '../../../lib/time.js';

export const SLOT_SCHEMA = 'dsched.slot.v1';

export interface SlotViewOptions {
  /** Epoch seconds for ActvtyTime (default: the clock). */
  now?: number;
  color?: boolean;
  /** Terminal width: the Name column is cut to fit. Unset: never cut. */
  width?: number;
  /** The ads in the order given (dstatus -sort), not by machine and slot. */
  ordered?: boolean;
}

/** The summary columns, in condor_status order. */
export const SLOT_STATES = ['Owner', 'Claimed', 'Unclaimed', 'Matched', 'Preempting', 'Drained'] as const;
export type SlotState = (typeof SLOT_STATES)[number];

const STATE_STYLE: Record<string, Style | undefined> = {
  Claimed: 'green',
  Unclaimed: undefined,
  Owner: 'yellow',
  Matched: 'cyan',
  Preempting: 'magenta',
  Drained: 'red',
};

/** Orders slots by Machine, then by Name (slot1 before slot1_1 before slot2). */
function bySlot(a: OutputAd, b: OutputAd): number {
  const ma = str(a, 'Machine') ?? '';
  const mb = str(b, 'Machine') ?? '';
  if (ma !== mb) return ma < mb ? -1 : 1;
  const slotPart = (ad: OutputAd): string => (str(ad, 'Name') ?? '').split('@')[0]!;
  return (
    slotPart(a).localeCompare(slotPart(b), 'en', { numeric: true }) ||
    (str(a, 'Name') ?? '').localeCompare(str(b, 'Name') ?? '')
  );
}

/** ActvtyTime in seconds: now − EnteredCurrentActivity. */
export function activityTimeSeconds(ad: OutputAd, now: number): number | undefined {
  const entered = num(ad, 'EnteredCurrentActivity');
  if (entered === undefined) return undefined;
  // the startd's clock may be out of step with this host's
  return Math.max(0, now - onPoolClock(entered, num(ad, 'MyCurrentTime'), num(ad, 'LastHeardFrom')));
}

/** The columns condor_status's default, -run and -server tables begin with: the slot and its platform. */
const HOST_COLUMNS: readonly Column[] = [
  { header: 'Name', flex: true },
  { header: 'OpSys', minWidth: 10 },
  { header: 'Arch', minWidth: 6 },
];

function hostCells(ad: OutputAd): string[] {
  return [str(ad, 'Name') ?? '', str(ad, 'OpSys') ?? '', str(ad, 'Arch') ?? ''];
}

/**
 * condor_status's default table: `Name OpSys Arch State Activity LoadAv Mem ActvtyTime`, then a blank line
 * (condor_status puts one under the heading). LoadAv has three decimals, Mem is the slot's Memory in MB.
 */
export function formatSlotTable(ads: readonly OutputAd[], opts: SlotViewOptions = {}): string[] {
  const now = opts.now ?? nowSeconds();
  const columns: Column[] = [
    ...HOST_COLUMNS,
    { header: 'State', minWidth: 9 },
    { header: 'Activity', minWidth: 8 },
    { header: 'LoadAv', align: 'right' },
    { header: 'Mem', align: 'right', minWidth: 4 },
    { header: 'ActvtyTime', align: 'right', minWidth: 11 },
  ];
  return slotTable(ads, columns, opts, (ad) => [
    ...hostCells(ad),
    stateCell(ad),
    str(ad, 'Activity') ?? '',
    loadCell(ad),
    String(num(ad, 'Memory') ?? ''),
    durationCell(activityTimeSeconds(ad, now)),
  ]);
}

/** condor_status -run: `Name OpSys Arch LoadAv RemoteUser ClientMachine` (dstatus asks for the busy slots). */
export function formatSlotRunTable(ads: readonly OutputAd[], opts: SlotViewOptions = {}): string[] {
  const columns: Column[] = [
    ...HOST_COLUMNS,
    { header: 'LoadAv', align: 'right' },
    { header: 'RemoteUser' },
    { header: 'ClientMachine' },
  ];
  return slotTable(ads, columns, opts, (ad) => [
    ...hostCells(ad),
    loadCell(ad),
    str(ad, 'RemoteUser') ?? str(ad, 'RemoteOwner') ?? '',
    // dsched's startd names the schedd of the claim (HTCondor's ClientMachine is that schedd's host)
    str(ad, 'ClientMachine') ?? str(ad, 'RemoteScheddName') ?? '',
  ]);
}

/** condor_status -server: `Name OpSys Arch LoadAv Memory Disk Mips KFlops` (Memory in MB, Disk in KB). */
export function formatSlotServerTable(ads: readonly OutputAd[], opts: SlotViewOptions = {}): string[] {
  const columns: Column[] = [
    ...HOST_COLUMNS,
    { header: 'LoadAv', align: 'right' },
    ...['Memory', 'Disk', 'Mips', 'KFlops'].map((header): Column => ({ header, align: 'right' })),
  ];
  return slotTable(ads, columns, opts, (ad) => [
    ...hostCells(ad),
    loadCell(ad),
    ...['Memory', 'Disk', 'Mips', 'KFlops'].map((n) => String(num(ad, n) ?? '')),
  ]);
}

/**
 * condor_status -state: `Name Cpu Mem LoadAv KbdIdle State StateTime Activ ActvtyTime`: the slot's Cpus and
 * Memory, how long its keyboard has been idle, and how long it has been in its state and its activity.
 */
export function formatSlotStateTable(ads: readonly OutputAd[], opts: SlotViewOptions = {}): string[] {
  const now = opts.now ?? nowSeconds();
  const since = (ad: OutputAd, attr: string): number | undefined => {
    const t = num(ad, attr);
    return t === undefined
      ? undefined
      : Math.max(0, now - onPoolClock(t, num(ad, 'MyCurrentTime'), num(ad, 'LastHeardFrom')));
  };
  const columns: Column[] = [
    { header: 'Name', flex: true },
    { header: 'Cpu', align: 'right' },
    { header: 'Mem', align: 'right', minWidth: 4 },
    { header: 'LoadAv', align: 'right' },
    { header: 'KbdIdle', align: 'right' },
    { header: 'State', minWidth: 9 },
    { header: 'StateTime', align: 'right', minWidth: 11 },
    { header: 'Activ', minWidth: 5 },
    { header: 'ActvtyTime', align: 'right', minWidth: 11 },
  ];
  return slotTable(ads, columns, opts, (ad) => [
    str(ad, 'Name') ?? '',
    String(num(ad, 'Cpus') ?? ''),
    String(num(ad, 'Memory') ?? ''),
    loadCell(ad),
    durationCell(num(ad, 'KeyboardIdle')),
    stateCell(ad),
    durationCell(since(ad, 'EnteredCurrentState')),
    (str(ad, 'Activity') ?? '').slice(0, 5),
    durationCell(activityTimeSeconds(ad, now)),
  ]);
}

/** The slot tables' shape: sorted by machine and slot, a blank line under the heading (as condor_status). */
function slotTable(
  ads: readonly OutputAd[],
  columns: Column[],
  opts: SlotViewOptions,
  cells: (ad: OutputAd) => Cell[],
): string[] {
  const slots = opts.ordered ? ads : [...ads].sort(bySlot);
  const lines = renderTable(columns, slots.map(cells), { color: opts.color, width: opts.width });
  lines.splice(1, 0, '');
  return lines;
}

function stateCell(ad: OutputAd): Cell {
  const state = str(ad, 'State') ?? '';
  const style = STATE_STYLE[state];
  return style ? { text: state, style } : state;
}

function loadCell(ad: OutputAd): string {
  const load = num(ad, 'LoadAvg') ?? num(ad, 'CondorLoadAvg');
  return load === undefined ? '' : load.toFixed(3);
}

const durationCell = (seconds: number | undefined): string => (seconds === undefined ? '' : formatDuration(seconds));

export type StateCounts = Record<SlotState, number> & { total: number };

function emptyCounts(): StateCounts {
  return { total: 0, Owner: 0, Claimed: 0, Unclaimed: 0, Matched: 0, Preempting: 0, Drained: 0 };
}

/** Slot counts by state, for each `Arch/OpSys` and in total. */
export function countSlots(ads: readonly OutputAd[]): { byPlatform: Map<string, StateCounts>; total: StateCounts } {
  const byPlatform = new Map<string, StateCounts>();
  const total = emptyCounts();
  for (const ad of ads) {
    const key = `${str(ad, 'Arch') ?? '?'}/${str(ad, 'OpSys') ?? '?'}`;
    let c = byPlatform.get(key);
    if (!c) byPlatform.set(key, (c = emptyCounts()));
    c.total++;
    total.total++;
    const state = str(ad, 'State');
    if (state && (SLOT_STATES as readonly string[]).includes(state)) {
      c[state as SlotState]++;
      total[state as SlotState]++;
    }
  }
  return { byPlatform: new Map([...byPlatform].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), total };
}

/**
 * The summary block (condor_status -total, and below the default table): one row per `Arch/OpSys` and a Total
 * row, columns `Total Owner Claimed Unclaimed Matched Preempting Drain`, blank lines between, as condor_status.
 */
export function formatSlotSummary(ads: readonly OutputAd[]): string[] {
  const { byPlatform, total } = countSlots(ads);
  const columns: Column[] = [
    { header: '', align: 'right' },
    ...['Total', 'Owner', 'Claimed', 'Unclaimed', 'Matched', 'Preempting', 'Drain'].map((h): Column => ({
      header: h,
      align: 'right',
    })),
  ];
  const row = (label: string, c: StateCounts): Cell[] => [
    label,
    ...[c.total, ...SLOT_STATES.map((s) => c[s])].map(String),
  ];
  const rows = [...[...byPlatform].map(([k, c]) => row(k, c)), row('Total', total)];
  // Indent the labels two cells, as condor_status does.
  const lines = renderTable(
    columns,
    rows.map((r) => [`  ${r[0] as string}`, ...r.slice(1)]),
  );
  const [head, ...body] = lines;
  const out = [head!, ''];
  body.forEach((l, i) => {
    if (i === body.length - 1 && body.length > 1) out.push('');
    out.push(l);
  });
  return out;
}

export type SlotView = 'default' | 'total' | 'compact' | 'run' | 'server' | 'state';

const SLOT_TABLES: Record<Exclude<SlotView, 'total'>, typeof formatSlotTable> = {
  default: formatSlotTable,
  compact: formatSlotCompact,
  run: formatSlotRunTable,
  server: formatSlotServerTable,
  state: formatSlotStateTable,
};

/** A whole condor_status screen. Ends with a newline. */
export function renderSlots(ads: readonly OutputAd[], opts: SlotViewOptions & { view?: SlotView } = {}): string {
  const view = opts.view ?? 'default';
  if (view === 'total') return formatSlotSummary(ads).join('\n') + '\n';
  const table = SLOT_TABLES[view](ads, opts);
  if (ads.length === 0) return '';
  return [...table, '', ...formatSlotSummary(ads)].join('\n') + '\n';
}

/** condor_status -any: `MyType TargetType Name`, one line per ad of any type. */
export function formatAnyTable(ads: readonly OutputAd[]): string {
  const rows = ads.map((ad) => [str(ad, 'MyType') ?? '', str(ad, 'TargetType') ?? '', str(ad, 'Name') ?? '']);
  return [...renderTable([{ header: 'MyType' }, { header: 'TargetType' }, { header: 'Name' }], rows), ''].join('\n');
}

/** Two-letter activity code: first letter of State and of Activity (`Ui` Unclaimed/Idle, `Cb` Claimed/Busy). */
export function activityCode(ad: OutputAd): string {
  const s = (str(ad, 'State') ?? '?').charAt(0).toUpperCase();
  const a = (str(ad, 'Activity') ?? '?').charAt(0).toLowerCase();
  return s + a;
}

/**
 * condor_status -compact: one line per machine, `Machine Platform Slots Cpus Gpus TotalGb FreCpu FreeGb CpuLoad
 * ST`. A partitionable slot's Cpus/Memory are what is left of it, so a machine's total is the sum over its slots;
 * free is what partitionable slots have left plus unclaimed static slots. ST is the shared activity code, `**`
 * when the slots differ.
 */
export function formatSlotCompact(ads: readonly OutputAd[], opts: SlotViewOptions = {}): string[] {
  const machines = new Map<string, OutputAd[]>();
  for (const ad of [...ads].sort(bySlot)) {
    const m = str(ad, 'Machine') ?? str(ad, 'Name') ?? '?';
    const list = machines.get(m) ?? [];
    list.push(ad);
    machines.set(m, list);
  }
  const columns: Column[] = [
    { header: 'Machine', flex: true },
    { header: 'Platform' },
    { header: 'Slots', align: 'right' },
    { header: 'Cpus', align: 'right' },
    { header: 'Gpus', align: 'right' },
    { header: 'TotalGb', align: 'right' },
    { header: 'FreCpu', align: 'right' },
    { header: 'FreeGb', align: 'right' },
    { header: 'CpuLoad', align: 'right' },
    { header: 'ST' },
  ];
  const rows: Cell[][] = [];
  for (const [machine, slots] of machines) {
    let cpus = 0;
    let gpus = 0;
    let mem = 0;
    let freeCpus = 0;
    let freeMem = 0;
    let load = 0;
    // each slot of a dsched startd carries the machine's load (TotalLoadAvg, and LoadAvg alike): taken once,
    // not once per slot; the slots' own LoadAvg are added up only for ads without it
    let totalLoad: number | undefined;
    const codes = new Set<string>();
    for (const s of slots) {
      const c = num(s, 'Cpus') ?? 0;
      const m = num(s, 'Memory') ?? 0;
      cpus += c;
      mem += m;
      gpus += num(s, 'Gpus') ?? 0;
      load += num(s, 'LoadAvg') ?? 0;
      const total = num(s, 'TotalLoadAvg');
      if (total !== undefined) totalLoad = Math.max(totalLoad ?? 0, total);
      const type = str(s, 'SlotType');
      if (type === 'Partitionable' || (type !== 'Dynamic' && str(s, 'State') === 'Unclaimed')) {
        freeCpus += c;
        freeMem += m;
      }
      if (type !== 'Partitionable' || slots.length === 1) codes.add(activityCode(s));
    }
    const first = slots[0]!;
    const platform = `${platformArch(str(first, 'Arch'))}/${str(first, 'OpSys') ?? '?'}`;
    rows.push([
      machine,
      platform,
      String(slots.length),
      String(cpus),
      String(gpus),
      (mem / 1024).toFixed(2),
      String(freeCpus),
      (freeMem / 1024).toFixed(2),
      (totalLoad ?? load).toFixed(2),
      codes.size === 1 ? [...codes][0]! : codes.size === 0 ? activityCode(first) : '**',
    ]);
  }
  return renderTable(columns, rows, { color: opts.color, width: opts.width });
}

function platformArch(arch: string | undefined): string {
  switch (arch) {
    case 'X86_64':
      return 'x64';
    case 'aarch64':
      return 'arm64';
    default:
      return arch ?? '?';
  }
}

/** -long: every slot ad in full, a blank line between. */
export function formatSlotsLong(ads: readonly OutputAd[]): string {
  return formatAdsLong(ads);
}

/** -json: an array of slot ads like condor_status -json. */
export function formatSlotsJson(ads: readonly OutputAd[], opts: { schemaInArray?: boolean } = {}): string {
  return formatAdsJson(ads, { schema: SLOT_SCHEMA, ...opts });
}

/** -jsonl: one slot ad per line with `"$schema": "dsched.slot.v1"`. */
export function formatSlotsJsonl(ads: readonly OutputAd[]): string {
  return formatAdsJsonl(ads, SLOT_SCHEMA);
}
