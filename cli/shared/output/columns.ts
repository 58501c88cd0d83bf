// Aligned columns without borders, as HTCondor's tools print them: one space between columns, headers aligned
// like their data, no trailing spaces. Widths are *display* widths: CJK and other East Asian Wide characters take
// two terminal cells, combining marks none, so a Chinese job name lines up with the ASCII rows around it. Colour
// is applied after padding, so escape codes never count toward a width.
import { styleText } from 'node:util';

// ---------------------------------------------------------------------------------------------------------------
// Display width

/** Inclusive code point ranges that are East Asian Wide (W) or Fullwidth (F), outside the emoji blocks. */
const WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], // Hangul Jamo initial consonants
  [0x2329, 0x232a], // angle brackets
  [0x2e80, 0x303e], // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
  [0x3041, 0x33ff], // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK strokes, enclosed, compat
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f], // Hangul Jamo extended A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6], // fullwidth signs
  [0x16fe0, 0x16fe4], // ideographic symbols
  [0x17000, 0x18aff], // Tangut
  [0x1b000, 0x1b2ff], // Kana supplement, extended
  [0x1f200, 0x1f2ff], // enclosed ideographic supplement
  [0x20000, 0x2fffd], // CJK extensions B..F
  [0x30000, 0x3fffd], // CJK extension G..
];

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]$/u;
const EMOJI_PRESENTATION = /\p{Emoji_Presentation}/u;
const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;
const ANSI = /\x1b\[[0-9;]*m/g;
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

function inRanges(cp: number): boolean {
  let lo = 0;
  let hi = WIDE_RANGES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE_RANGES[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Terminal cells taken by one code point: 0 (combining, control, format), 1, or 2 (East Asian Wide/Fullwidth). */
export function codePointWidth(cp: number): 0 | 1 | 2 {
  if (cp === 0) return 0;
  if (cp < 0x7f) return cp < 0x20 ? 0 : 1;
  const ch = String.fromCodePoint(cp);
  if (ZERO_WIDTH.test(ch)) return 0;
  if (cp >= 0x1160 && cp <= 0x11ff) return 0; // conjoining Hangul vowels and finals
  if (inRanges(cp)) return 2;
  if (EMOJI_PRESENTATION.test(ch)) return 2;
  return 1;
}

let segmenter: Intl.Segmenter | undefined;
function graphemes(s: string): Iterable<string> {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const it = segmenter.segment(s);
  return {
    *[Symbol.iterator]() {
      for (const seg of it) yield seg.segment;
    },
  };
}

function graphemeWidth(g: string): number {
  const first = g.codePointAt(0)!;
  // Emoji sequences (ZWJ, skin tones, VS16, flags) occupy two cells.
  if (
    g.length > 1 &&
    PICTOGRAPHIC.test(g) &&
    (g.includes('\u200d') || g.includes('\ufe0f') || /[\u{1f3fb}-\u{1f3ff}]/u.test(g))
  ) {
    return 2;
  }
  if (first >= 0x1f1e6 && first <= 0x1f1ff) return g.length > 2 ? 2 : 1; // a regional indicator pair is a flag
  let w = 0;
  for (const ch of g) {
    w = codePointWidth(ch.codePointAt(0)!);
    if (w > 0) break;
  }
  return w;
}

import { visible } from '../../../lib/visible-text.js';

export { visible };

/** Removes ANSI SGR escape sequences (colours). */
export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/** Terminal cells taken by `s` (colour codes ignored). */
export function displayWidth(s: string): number {
  if (PLAIN_ASCII.test(s)) return s.length;
  const plain = stripAnsi(s);
  if (PLAIN_ASCII.test(plain)) return plain.length;
  let w = 0;
  for (const g of graphemes(plain)) w += graphemeWidth(g);
  return w;
}

/**
 * Cuts `s` to at most `width` cells without splitting a character; when it is cut, `ellipsis` (counted in the
 * width) ends the result. A double-width character that would straddle the edge is dropped, and the gap left is
 * not filled (pad afterwards if you need the exact width).
 */
export function truncateToWidth(s: string, width: number, ellipsis = ''): string {
  if (width <= 0) return '';
  if (displayWidth(s) <= width) return s;
  const plain = stripAnsi(s);
  const room = width - displayWidth(ellipsis);
  if (room < 0) return truncateToWidth(ellipsis, width);
  let out = '';
  let used = 0;
  for (const g of graphemes(plain)) {
    const w = graphemeWidth(g);
    if (used + w > room) break;
    out += g;
    used += w;
  }
  return out + ellipsis;
}

/** Pads on the right to `width` cells. */
export function padEndWidth(s: string, width: number): string {
  const w = displayWidth(s);
  return w >= width ? s : s + ' '.repeat(width - w);
}

/** Pads on the left to `width` cells. */
export function padStartWidth(s: string, width: number): string {
  const w = displayWidth(s);
  return w >= width ? s : ' '.repeat(width - w) + s;
}

// ---------------------------------------------------------------------------------------------------------------
// Colour

/** The styles `util.styleText` knows that these views use. */
export type Style = 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'gray' | 'bold' | 'dim';

/**
 * Applies `style` when `enabled`. Callers decide `enabled` from `stream.hasColors()` (which honours NO_COLOR,
 * FORCE_COLOR and pipes); the stream check inside styleText is bypassed so this stays a pure function.
 */
export function paint(text: string, style: Style | readonly Style[] | undefined, enabled: boolean): string {
  if (!enabled || style === undefined || text === '') return text;
  return styleText(style as Parameters<typeof styleText>[0], text, { validateStream: false });
}

/** The parts of a stream that decide colour and width (process.stdout, or a fake in tests). */
export interface OutputStream {
  isTTY?: boolean;
  columns?: number;
  hasColors?: (count?: number, env?: Record<string, string | undefined>) => boolean;
}

/**
 * Whether to colour output written to `stream`: a TTY's `hasColors()` (which honours NO_COLOR, FORCE_COLOR and
 * TERM); for a pipe or file only when FORCE_COLOR asks for it (and NO_COLOR does not forbid it).
 */
export function colorEnabled(stream: OutputStream, env: Record<string, string | undefined> = process.env): boolean {
  if (typeof stream.hasColors === 'function') return stream.hasColors(16, env);
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  return force !== undefined && force !== '0' && force !== 'false';
}

/** The width to fit tables into: a TTY's columns; undefined (never cut) for pipes and files, as condor_q -wide. */
export function terminalWidth(stream: OutputStream): number | undefined {
  return stream.isTTY && stream.columns && stream.columns > 0 ? stream.columns : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Tables

export interface Column {
  header: string;
  /** Default left. Headers align like their data. */
  align?: 'left' | 'right';
  /** The column is at least this wide (HTCondor's fixed widths, e.g. OWNER 14). */
  minWidth?: number;
  /** Cells wider than this are cut (`ellipsis` marks the cut). */
  maxWidth?: number;
  /** Marks a cut cell; default `""` (HTCondor cuts silently). */
  ellipsis?: string;
  /** This column gives up width when the line must fit `TableOptions.width` (CMD, HOLD_REASON). */
  flex?: boolean;
  /** No separator between this column and the previous one (condor_q's `ID` is cluster + `.proc`). */
  noSeparator?: boolean;
}

/** A cell: text, or text with a style applied after padding. */
export type Cell = string | { text: string; style?: Style | readonly Style[] };

export interface TableOptions {
  /** Between columns; default one space. */
  separator?: string;
  /** Print the header line (default true). */
  header?: boolean;
  /** Colour cells that carry a style. */
  color?: boolean;
  /** Fit each line into this many cells by cutting the flex column (never below its header). */
  width?: number;
  /** Style of the header line (applied only with `color`). */
  headerStyle?: Style | readonly Style[];
}

const cellText = (c: Cell): string => visible(typeof c === 'string' ? c : c.text);
const cellStyle = (c: Cell): Style | readonly Style[] | undefined => (typeof c === 'string' ? undefined : c.style);

/**
 * Lays out `rows` under `columns` and returns the lines (no trailing newline, no trailing spaces). Missing cells
 * are empty.
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly Cell[])[],
  opts: TableOptions = {},
): string[] {
  const sep = opts.separator ?? ' ';
  const showHeader = opts.header ?? true;
  const texts = rows.map((r) =>
    columns.map((col, i) => {
      const t = cellText(r[i] ?? '');
      return col.maxWidth !== undefined ? truncateToWidth(t, col.maxWidth, col.ellipsis) : t;
    }),
  );
  const widths = columns.map((col, i) => {
    let w = Math.max(col.minWidth ?? 0, showHeader ? displayWidth(col.header) : 0);
    for (const r of texts) w = Math.max(w, displayWidth(r[i]!));
    return w;
  });

  // Shrink flex columns so the widest line fits opts.width.
  if (opts.width !== undefined && opts.width > 0) {
    const total = widths.reduce((a, w, i) => a + w + (i > 0 && !columns[i]!.noSeparator ? displayWidth(sep) : 0), 0);
    let excess = total - opts.width;
    for (let i = columns.length - 1; i >= 0 && excess > 0; i--) {
      const col = columns[i]!;
      if (!col.flex) continue;
      const floor = Math.max(showHeader ? displayWidth(col.header) : 1, 1);
      const cut = Math.min(excess, widths[i]! - floor);
      if (cut > 0) {
        widths[i] = widths[i]! - cut;
        excess -= cut;
        for (const r of texts) r[i] = truncateToWidth(r[i]!, widths[i]!, col.ellipsis);
      }
    }
  }

  const line = (cells: readonly string[], styles: readonly (Style | readonly Style[] | undefined)[]): string => {
    let out = '';
    cells.forEach((t, i) => {
      const col = columns[i]!;
      const last = i === cells.length - 1;
      let padded = col.align === 'right' ? padStartWidth(t, widths[i]!) : last ? t : padEndWidth(t, widths[i]!);
      if (opts.color && styles[i] !== undefined) {
        // Colour only the text, not the padding, so a later trimEnd never eats a code.
        const lead = padded.length - padded.trimStart().length;
        const body = padded.trim();
        const trail = padded.length - lead - body.length;
        padded = ' '.repeat(lead) + paint(body, styles[i], true) + ' '.repeat(trail);
      }
      if (i > 0 && !col.noSeparator) out += sep;
      out += padded;
    });
    return out.replace(/[ \t]+$/, '');
  };

  const lines: string[] = [];
  if (showHeader) {
    const h = line(
      columns.map((c) => c.header),
      columns.map(() => opts.headerStyle),
    );
    lines.push(h);
  }
  texts.forEach((t, r) =>
    lines.push(
      line(
        t,
        rows[r]!.map((c) => cellStyle(c)),
      ),
    ),
  );
  return lines;
}
