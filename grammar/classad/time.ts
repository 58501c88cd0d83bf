// Absolute and relative times, as HTCondor's classad library reads and prints them (literals.cpp MakeAbsTime /
// MakeRelTime, util.cpp absTimeToString / relTimeToString / timezone_offset / day_numbers).
import { AbsTime, RelTime } from './value.js';

/** Broken-down time, as C's struct tm holds it (mon 0-11, yday 0-365, wday 0 = Sunday). */
export interface Tm {
  year: number;
  mon: number;
  mday: number;
  hour: number;
  min: number;
  sec: number;
  wday: number;
  yday: number;
  /** seconds east of UTC (tm_gmtoff) and the zone name (tm_zone); 0 and "" when the fields were built by hand */
  gmtoff: number;
  zone: string;
}

/** The local zone's offset east of UTC, in seconds, at epoch second `secs` (HTCondor's timezone_offset). */
export function localOffset(secs: number): number {
  const o = new Date(secs * 1000).getTimezoneOffset();
  return o === 0 ? 0 : -o * 60; // never -0
}

/** gmtime(): the UTC fields of epoch second `secs`. */
export function gmFields(secs: number): Tm {
  const d = new Date(secs * 1000);
  const year = d.getUTCFullYear();
  const yday = Math.round((Date.UTC(year, d.getUTCMonth(), d.getUTCDate()) - Date.UTC(year, 0, 1)) / 86400000);
  return {
    year,
    mon: d.getUTCMonth(),
    mday: d.getUTCDate(),
    hour: d.getUTCHours(),
    min: d.getUTCMinutes(),
    sec: d.getUTCSeconds(),
    wday: d.getUTCDay(),
    yday,
    gmtoff: 0,
    zone: '',
  };
}

/** localtime(): the local fields of epoch second `secs`, with the zone's offset and short name. */
export function localFields(secs: number): Tm {
  const off = localOffset(secs);
  let zone: string;
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
      .formatToParts(new Date(secs * 1000))
      .find((x) => x.type === 'timeZoneName');
    zone = part?.value ?? '';
  } catch {
    zone = '';
  }
  return { ...gmFields(secs + off), gmtoff: off, zone };
}

/** Epoch seconds of UTC calendar fields (timegm); out-of-range fields carry over as mktime does. */
export function timegm(year: number, mon: number, mday: number, hour: number, min: number, sec: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, mon, mday);
  d.setUTCHours(hour, min, sec, 0);
  return Math.floor(d.getTime() / 1000);
}

/** Weekday (0 = Sunday) and day of the year (0-based) of a Gregorian date, month 1-12 (util.cpp day_numbers). */
export function dayNumbers(year: number, month: number, day: number): { wday: number; yday: number } {
  const fixed = fixedFromGregorian(year, month, day);
  return { wday: fixed % 7, yday: fixed - fixedFromGregorian(year, 1, 1) };
}

function fixedFromGregorian(year: number, month: number, day: number): number {
  const y = year - 1;
  const adjust = month <= 2 ? 0 : isLeapYear(year) ? -1 : -2;
  return (
    365 * y +
    Math.trunc(y / 4) -
    Math.trunc(y / 100) +
    Math.trunc(y / 400) +
    Math.trunc((367 * month - 362) / 12) +
    adjust +
    day
  );
}

function isLeapYear(year: number): boolean {
  const m400 = year % 400;
  return year % 4 === 0 && m400 !== 100 && m400 !== 200 && m400 !== 300;
}

const p2 = (n: number): string => String(n).padStart(2, '0');

/** "2020-01-01T12:00:00+01:00": the time in its own zone. A zero offset prints as -00:00, as HTCondor prints it. */
export function absTimeToString(t: AbsTime): string {
  const f = gmFields(t.secs + t.offset);
  const sign = t.offset > 0 ? '+' : '-';
  const tz = Math.abs(t.offset);
  // years before 1000 are padded to four digits: the parser reads the year as four characters, so "1-12-31"
  // read back as another date (HTCondor prints it unpadded and has that bug)
  const year = f.year >= 0 && f.year < 1000 ? String(f.year).padStart(4, '0') : String(f.year);
  return (
    `${year}-${p2(f.mon + 1)}-${p2(f.mday)}T${p2(f.hour)}:${p2(f.min)}:${p2(f.sec)}` +
    `${sign}${p2(Math.trunc(tz / 3600))}:${p2(Math.trunc(tz / 60) % 60)}`
  );
}

/** "[-][days+]hh:mm:ss" with leading parts left out while they are zero: 5 → "05", 90061 → "1+01:01:01". */
export function relTimeToString(rsecs: number): string {
  let sign = '';
  if (rsecs < 0) {
    sign = '-';
    rsecs = -rsecs;
  }
  const frac = rsecs - Math.floor(rsecs);
  const whole = Math.trunc(rsecs);
  const days = Math.trunc(whole / 86400);
  const hrs = Math.trunc((whole % 86400) / 3600);
  const mins = Math.trunc((whole % 3600) / 60);
  const secs = (whole % 60) + frac;
  const s = frac === 0 ? p2(secs) : cG(secs).padStart(2, '0');
  if (days) return `${sign}${days}+${p2(hrs)}:${p2(mins)}:${s}`;
  if (hrs) return `${sign}${p2(hrs)}:${p2(mins)}:${s}`;
  if (mins) return `${sign}${p2(mins)}:${s}`;
  return sign + s;
}

/** C's %g (6 significant digits, trailing zeros dropped). */
function cG(x: number): string {
  if (x !== 0 && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e6)) {
    const [m, e] = x.toExponential(5).split('e') as [string, string];
    const exp = Number(e);
    return `${m.replace(/\.?0+$/, '')}e${exp < 0 ? '-' : '+'}${p2(Math.abs(exp))}`;
  }
  const s = x.toPrecision(6);
  return s.indexOf('.') >= 0 ? s.replace(/\.?0+$/, '') : s;
}

const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '9';
const isSpace = (ch: string | undefined): boolean => ch !== undefined && /^[ \t\n\v\f\r]$/.test(ch);

/** C atoi of a short field: leading digits, 0 when there are none. */
function atoi(s: string): number {
  const m = /^[ \t]*([+-]?[0-9]+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/**
 * absTime("...") of a string: a four-digit year, then month, day, hours, minutes and seconds as two-digit
 * fields separated by anything but digits, each optional from the right; then an optional zone "Z", "+hhmm" or
 * "+hh:mm" (the local zone's offset when there is none). undefined when the text does not read that way.
 */
export function parseAbsTime(text: string): AbsTime | undefined {
  let s = text;
  const len0 = s.length;
  let i = len0 - 1;
  while (i >= 0 && isSpace(s[i])) i--;
  let zone: number | undefined;
  if (i > 0 && (s[i] === 'z' || s[i] === 'Z')) {
    zone = 0;
    s = s.slice(0, i) + s.slice(i + 1);
  } else if (len0 > 5 && (s[len0 - 5] === '+' || s[len0 - 5] === '-')) {
    [s, zone] = extractZone(s);
  } else if (len0 > 6 && (s[len0 - 6] === '+' || s[len0 - 6] === '-') && s[len0 - 3] === ':') {
    [s, zone] = extractZone(s.slice(0, len0 - 3) + s.slice(len0 - 2));
  }
  const len = s.length;
  let at = 0;
  const skip = () => {
    while (at < len && !isDigit(s[at])) at++;
  };
  skip();
  if (at > len - 4) return undefined;
  const year = atoi(s.substr(at, 4));
  at += 4;
  const field = (dflt: number): number => {
    skip();
    if (at > len - 2) return dflt;
    const v = atoi(s.substr(at, 2));
    at += 2;
    return v;
  };
  const mon = field(1) - 1;
  const mday = field(0);
  const hour = field(0);
  const min = field(0);
  const sec = field(0);
  skip();
  if (at <= len - 1 && isDigit(s[at])) return undefined;
  const fields = timegm(year, mon, mday, hour, min, sec);
  const offset = zone ?? localOffset(fields - localOffset(fields));
  return new AbsTime(fields - offset, offset);
}

/** The trailing "+hhmm"/"-hhmm" of s: [s without it, offset in seconds], or [s, undefined] when it is not one. */
function extractZone(s: string): [string, number | undefined] {
  const z = s.slice(-5);
  if (!/^[+-][0-9]{4}$/.test(z)) return [s, undefined];
  const sign = z[0] === '-' ? -1 : 1;
  return [s.slice(0, -5), sign * (Number(z.slice(1, 3)) * 3600 + Number(z.slice(3, 5)) * 60)];
}

/**
 * relTime("...") of a string, read from the right: "[-][D+|Dd][H:|Hh][M:|Mm]S[.frac][s]", e.g. "1+01:01:01",
 * "2h30m", "-90s". undefined when anything else is left over.
 */
export function parseRelTime(s: string): RelTime | undefined {
  let i = s.length - 1;
  const skipSpace = () => {
    while (i >= 0 && isSpace(s[i])) i--;
  };
  const digitsBack = (): string => {
    const end = i + 1;
    while (i >= 0 && isDigit(s[i])) i--;
    return s.slice(i + 1, end);
  };
  const part = (marks: string): number => {
    skipSpace();
    if (i < 0 || !marks.includes(s[i]!)) return 0;
    i--;
    skipSpace();
    const d = digitsBack();
    return d ? Number(d) : 0;
  };
  skipSpace();
  let secs = 0;
  if (i >= 0 && (s[i] === 's' || s[i] === 'S' || isDigit(s[i]))) {
    if (s[i] === 's' || s[i] === 'S') i--;
    skipSpace();
    let num = digitsBack();
    if (i >= 0 && s[i] === '.') {
      i--;
      num = digitsBack() + '.' + num;
    }
    secs = num === '' || num === '.' ? 0 : Number(num);
  }
  const mins = part('mM:');
  const hrs = part('hH:');
  const days = part('dD+');
  skipSpace();
  let negative = false;
  if (i >= 0 && s[i] === '-') {
    negative = true;
    i--;
  }
  skipSpace();
  if (i >= 0) return undefined;
  const total = days * 86400 + hrs * 3600 + mins * 60 + secs;
  return new RelTime(negative ? -total : total);
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** strftime in the C locale, of broken-down time (%z and %Z from its gmtoff and zone, %s as mktime reads it). */
export function strftime(fmt: string, tm: Tm): string {
  const p = (n: number, w = 2, ch = '0') => String(n).padStart(w, ch);
  const { year: Y, mon: m, mday: day, hour: H, min: M, sec: S, wday: w, yday } = tm;
  const off = Math.trunc(tm.gmtoff / 60);
  const tzName = tm.zone;
  const epoch = () => {
    const local = timegm(Y, m, day, H, M, S);
    return local - localOffset(local - localOffset(local));
  };
  const conv = (ch: string): string | undefined => {
    switch (ch) {
      case 'a':
        return DAYS[w]!.slice(0, 3);
      case 'A':
        return DAYS[w]!;
      case 'b':
      case 'h':
        return MONTHS[m]!.slice(0, 3);
      case 'B':
        return MONTHS[m]!;
      case 'c':
        return `${conv('a')} ${conv('b')} ${p(day, 2, ' ')} ${p(H)}:${p(M)}:${p(S)} ${Y}`;
      case 'C':
        return p(Math.floor(Y / 100));
      case 'd':
        return p(day);
      case 'D':
        return `${p(m + 1)}/${p(day)}/${p(Y % 100)}`;
      case 'e':
        return p(day, 2, ' ');
      case 'F':
        return `${Y}-${p(m + 1)}-${p(day)}`;
      case 'H':
        return p(H);
      case 'I':
        return p(H % 12 === 0 ? 12 : H % 12);
      case 'j':
        return p(yday + 1, 3);
      case 'k':
        return p(H, 2, ' ');
      case 'l':
        return p(H % 12 === 0 ? 12 : H % 12, 2, ' ');
      case 'm':
        return p(m + 1);
      case 'M':
        return p(M);
      case 'n':
        return '\n';
      case 'p':
        return H < 12 ? 'AM' : 'PM';
      case 'P':
        return H < 12 ? 'am' : 'pm';
      case 'r':
        return `${conv('I')}:${p(M)}:${p(S)} ${conv('p')}`;
      case 'R':
        return `${p(H)}:${p(M)}`;
      case 's':
        return String(epoch());
      case 'S':
        return p(S);
      case 't':
        return '\t';
      case 'T':
        return `${p(H)}:${p(M)}:${p(S)}`;
      case 'u':
        return String(w === 0 ? 7 : w);
      case 'U':
        return p(Math.floor((yday + 7 - w) / 7));
      case 'w':
        return String(w);
      case 'W':
        return p(Math.floor((yday + 7 - ((w + 6) % 7)) / 7));
      case 'x':
        return `${p(m + 1)}/${p(day)}/${p(Y % 100)}`;
      case 'X':
        return `${p(H)}:${p(M)}:${p(S)}`;
      case 'y':
        return p(Y % 100);
      case 'Y':
        return String(Y);
      case 'z':
        return `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
      case 'Z':
        return tzName;
      case '%':
        return '%';
      default:
        return undefined;
    }
  };
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    if (ch !== '%' || i + 1 >= fmt.length) {
      out += ch;
      continue;
    }
    const r = conv(fmt[++i]!);
    out += r ?? '%' + fmt[i];
  }
  return out;
}
