// Durations and dates as HTCondor's tools print them.
//
// condor_q RUN_TIME and condor_status ActvtyTime are durations `D+HH:MM:SS` (`0+00:01:05`, `14+17:40:01`);
// condor_q SUBMITTED / HELD_SINCE and condor_history COMPLETED are local dates `M/D HH:MM` with the day
// left-justified in two characters so the times line up (`11/23 14:05`, `4/9  20:26`). Times are stored as
// epoch seconds (UTC); only the display is local. `--utc` shows the same shapes in UTC, and `iso` gives ISO 8601.

/** How to show a point in time. */
export interface TimeOptions {
  /** Show UTC instead of local time. */
  utc?: boolean;
  /** ISO 8601 (`2025-11-23T14:05:00Z`, or with the local offset) instead of condor_q's `11/23 14:05`. */
  iso?: boolean;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** The parts of an epoch-seconds instant, in local time or UTC. */
export interface DateParts {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Minutes east of UTC (0 for UTC). */
  offsetMinutes: number;
}

export function dateParts(epochSeconds: number, utc = false): DateParts {
  const d = new Date(Math.floor(epochSeconds) * 1000);
  if (utc) {
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      offsetMinutes: 0,
    };
  }
  return {
    year: d.getFullYear(),
    month: d.getMonth() + 1,
    day: d.getDate(),
    hour: d.getHours(),
    minute: d.getMinutes(),
    second: d.getSeconds(),
    offsetMinutes: -d.getTimezoneOffset(),
  };
}

/**
 * A duration in seconds as `D+HH:MM:SS` (condor_q RUN_TIME). Fractions are dropped, negative values and
 * non-numbers show as `0+00:00:00` only when `fallback` is not given.
 */
export function formatDuration(seconds: number | undefined | null, fallback?: string): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds)) {
    return fallback ?? '0+00:00:00';
  }
  let s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${days}+${pad2(h)}:${pad2(m)}:${pad2(s)}`;
}

/** Parses `D+HH:MM:SS` (or `HH:MM:SS`) back into seconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(?:(\d+)\+)?(\d+):(\d{2}):(\d{2})\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

function isoOffset(minutes: number): string {
  if (minutes === 0) return 'Z';
  const sign = minutes > 0 ? '+' : '-';
  const a = Math.abs(minutes);
  return `${sign}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
}

/** ISO 8601 with seconds: `2025-11-23T14:05:00Z` (UTC) or `2025-11-23T15:05:00+01:00` (local). */
export function formatIso(epochSeconds: number, utc = false): string {
  const p = dateParts(epochSeconds, utc);
  return (
    `${p.year}-${pad2(p.month)}-${pad2(p.day)}T${pad2(p.hour)}:${pad2(p.minute)}:${pad2(p.second)}` +
    isoOffset(utc ? 0 : p.offsetMinutes)
  );
}

/**
 * A date as condor_q shows it: `11/23 14:05`, `4/9  20:26` (month unpadded, day left-justified in two
 * characters, 24-hour time). With `iso`, ISO 8601 instead. Missing or non-positive times give `fallback`
 * (default `""`), as a job that never started has no start date.
 */
export function formatDate(epochSeconds: number | undefined | null, opts: TimeOptions = {}, fallback = ''): string {
  if (epochSeconds === undefined || epochSeconds === null || !Number.isFinite(epochSeconds) || epochSeconds <= 0) {
    return fallback;
  }
  if (opts.iso) return formatIso(epochSeconds, opts.utc);
  const p = dateParts(epochSeconds, opts.utc);
  return `${p.month}/${String(p.day).padEnd(2)} ${pad2(p.hour)}:${pad2(p.minute)}`;
}

/** `11/23/25 14:05:00`, the time stamp of condor_q's `-- Schedd: … @ …` banner line. */
export function formatBannerTime(epochSeconds: number, opts: TimeOptions = {}): string {
  if (opts.iso) return formatIso(epochSeconds, opts.utc);
  const p = dateParts(epochSeconds, opts.utc);
  return `${pad2(p.month)}/${pad2(p.day)}/${pad2(p.year % 100)} ${pad2(p.hour)}:${pad2(p.minute)}:${pad2(p.second)}`;
}

/** Coerces an attribute value to epoch seconds (numbers and numeric strings), else undefined. */
export function toSeconds(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}
