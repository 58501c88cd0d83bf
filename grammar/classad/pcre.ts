// ClassAd regular expressions (regexp, regexps, replace, replaceAll, regexpMember, stringList_regexpMember,
// unresolved) on a linear-time engine. HTCondor uses PCRE; a backtracking engine takes exponential time on
// patterns like ^(a+)+$, and a constraint is written by any user and evaluated inside the schedd. RE2 (re2js)
// matches in time linear in the input, so constructs that need backtracking (backreferences, lookaround) do
// not compile: the ClassAd function then returns ERROR, as for any invalid pattern.
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';

let re2: typeof RE2JS | undefined;
/**
 * re2js, read from node_modules when the first pattern is compiled rather than bundled: few ads use a regular
 * expression, and bundled it held 250 KB of source and its tables in every daemon that evaluates ClassAds
 * (all of them, an idle startd too) from its start.
 */
function engine(): typeof RE2JS {
  return (re2 ??= (createRequire(import.meta.url)('re2js') as typeof import('re2js')).RE2JS);
}

/** One match: where it is and its capture groups (numbered as the user wrote them). */
export interface PcreMatch {
  index: number;
  end: number;
  /** groups that took part: the highest matched group + 1 (PCRE's ovector count) */
  count: number;
  group(g: number): string | undefined;
}

export interface Pcre {
  /** The first match at or after `from`, or null. */
  exec(target: string, from?: number): PcreMatch | null;
  test(target: string): boolean;
}

/** Compiled patterns, by options and text: a query evaluates the same few patterns for every ad. */
const cache = new Map<string, Pcre | null>();
const CACHE_MAX = 512;
/** Longer patterns are refused: RE2's compile is linear, but a megabyte pattern per ad is still a way to burn CPU. */
export const MAX_PATTERN_LENGTH = 64 * 1024;

/**
 * A pattern with HTCondor's option letters (either case): i ignore case, m ^ and $ at line ends, s dot matches
 * newline, x extended (blanks and # comments ignored). f and g belong to the substitution functions and are
 * ignored here. Undefined when the pattern is invalid or needs a construct RE2 cannot run in linear time.
 */
export function compilePcre(pattern: string, options: string): Pcre | undefined {
  const key = options.toLowerCase() + '\0' + pattern;
  let re = cache.get(key);
  if (re === undefined) {
    re = build(pattern, options.toLowerCase());
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key, re);
  }
  return re ?? undefined;
}

function build(pattern: string, o: string): Pcre | null {
  if (pattern.length > MAX_PATTERN_LENGTH) return null;
  const multiline = o.includes('m');
  const extended = o.includes('x');
  let src = '';
  let inClass = false;
  // user group g is RE2 group real[g]; groups this translation adds (the optional final newline of PCRE's
  // `$`) are left out of the numbering and out of the match
  const real: number[] = [0];
  const added: number[] = [];
  let groups = 0;
  const dollar = () => {
    added.push(++groups);
    src += '(\\n)?\\z';
  };
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) {
      const n = pattern[++i]!;
      if (!inClass && n === 'Z') dollar();
      else src += '\\' + n;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      else if (ch === '[' && pattern[i + 1] === ':') {
        const end = pattern.indexOf(':]', i + 2);
        if (end > 0) {
          src += pattern.slice(i, end + 2);
          i = end + 1;
          continue;
        }
      }
      src += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      src += ch;
      if (pattern[i + 1] === '^') src += pattern[++i];
      if (pattern[i + 1] === ']') src += '\\' + pattern[++i];
      continue;
    }
    if (extended && /\s/.test(ch)) continue;
    if (extended && ch === '#') {
      while (i < pattern.length && pattern[i] !== '\n') i++;
      continue;
    }
    // PCRE's $ without m: the end, or before a newline that ends the subject
    if (ch === '$' && !multiline) {
      src += '(?:';
      dollar();
      src += ')';
      continue;
    }
    if (ch === '(') {
      const rest = pattern.slice(i + 1, i + 4);
      const capturing =
        rest[0] !== '?' || rest.startsWith('?P<') || (rest.startsWith('?<') && rest[2] !== '=' && rest[2] !== '!');
      if (capturing) real.push(++groups);
    }
    src += ch;
  }
  const RE2 = engine();
  let flags = 0;
  if (o.includes('i')) flags |= RE2.CASE_INSENSITIVE;
  if (multiline) flags |= RE2.MULTILINE;
  if (o.includes('s')) flags |= RE2.DOTALL;
  let re: RE2JS;
  try {
    re = RE2.compile(src, flags);
  } catch {
    return null;
  }
  return {
    test: (target) => re.test(target),
    exec(target, from = 0) {
      if (from > target.length) return null;
      const m = re.matcher(target);
      if (!m.find(from)) return null;
      let end = m.end();
      // the newline PCRE's $ looks at is not part of the match
      for (const g of added) if (m.start(g) >= 0) end = m.start(g);
      let count = 1;
      for (let g = real.length - 1; g > 0; g--) {
        if (m.start(real[g]!) >= 0) {
          count = g + 1;
          break;
        }
      }
      return {
        index: m.start(),
        end,
        count,
        group: (g) =>
          g === 0 ? target.slice(m.start(), end) : g < real.length ? (m.group(real[g]!) ?? undefined) : undefined,
      };
    },
  };
}

/**
 * regexps / replace / replaceAll: the target with the match (f: every part, g: every match) replaced by
 * `replace`, where \0..\9 name groups. A reference to a group past the last one that matched is ERROR (undefined).
 */
/** undefined also when the result would be longer than maxLength (a replacement repeated per match grows fast),
 *  or when `match` (told of each match) returns false: each match is a run of the engine, the work to bound. */
export function substitute(
  re: Pcre,
  target: string,
  replace: string,
  full: boolean,
  all: boolean,
  maxLength = Infinity,
  match: () => boolean = () => true,
): string | undefined {
  let out = '';
  let copied = 0; // target before this is in `out` (or dropped: without f only the replacements are kept)
  let from = 0;
  for (;;) {
    const m = re.exec(target, from);
    if (!m) break;
    if (!match()) return undefined;
    if (full) out += target.slice(copied, m.index);
    for (let i = 0; i < replace.length; i++) {
      const ch = replace[i]!;
      const n = replace[i + 1];
      if (ch === '\\' && n !== undefined && n >= '0' && n <= '9') {
        const g = n.charCodeAt(0) - 48;
        i++;
        if (g >= m.count) return undefined;
        out += m.group(g) ?? '';
      } else out += ch;
    }
    if (out.length > maxLength) return undefined;
    copied = m.end;
    // an empty match moves the search on by one character, which is copied as it is
    from = m.end === m.index ? m.end + 1 : m.end;
    if (!all || from > target.length) break;
  }
  if (full) out += target.slice(Math.min(copied, target.length));
  return out.length > maxLength ? undefined : out;
}
