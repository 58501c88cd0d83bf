// HTCondor's two syntaxes for arguments and environment, as condor_submit reads them and as the
// job ad stores them (ArgList / Env in HTCondor):
//
//  arguments, old (V1): words split on spaces; \" is a literal ". Stored raw in `Args`.
//  arguments, new (V2): the whole value in double quotes, "" is a literal ", words split on spaces/tabs,
//                       'single quoted' words keep spaces, '' inside them is a literal '. Stored in
//                       `Arguments` in the "V2 raw" form: the words re-joined, quoted with '…' where needed.
//  environment, old (V1): NAME=value entries separated by ';' (spaces are literal). Stored in `Env`.
//  environment, new (V2): as V2 arguments, each word NAME=value. Stored in `Environment` (V2 raw).

export class ArgSyntaxError extends Error {
  constructor(
    message: string,
    /** 0-based offset in the text given to the parser */
    readonly offset: number,
  ) {
    super(message);
  }
}

/** True when a submit value uses the new (V2) syntax: it begins with a double quote. */
export function isV2Quoted(value: string): boolean {
  return value.trimStart().startsWith('"');
}

/**
 * Strip the outer double quotes of a V2 submit value and undouble "" (the V2 "quoted" form → raw form).
 * Throws ArgSyntaxError (offsets into `value`) when the closing quote is missing or text follows it.
 */
export function v2QuotedToRaw(value: string): { raw: string; rawOffset: number } {
  const lead = value.length - value.trimStart().length;
  // fast path: "…" with no inner double quote
  if (
    lead === 0 &&
    value.length >= 2 &&
    value.charCodeAt(value.length - 1) === 34 &&
    value.indexOf('"', 1) === value.length - 1
  ) {
    return { raw: value.slice(1, -1), rawOffset: 1 };
  }
  let i = lead + 1;
  let raw = '';
  for (;;) {
    if (i >= value.length)
      throw new ArgSyntaxError('unterminated double quote: a value in the new syntax must end with "', lead);
    const c = value[i]!;
    if (c === '"') {
      if (value[i + 1] === '"') {
        raw += '"';
        i += 2;
        continue;
      }
      break;
    }
    raw += c;
    i++;
  }
  const tail = value.slice(i + 1);
  if (tail.trim() !== '') {
    throw new ArgSyntaxError(
      `unexpected text after the closing double quote: '${tail.trim()}' (write "" for a literal double quote)`,
      i + 1 + (tail.length - tail.trimStart().length),
    );
  }
  return { raw, rawOffset: lead + 1 };
}

/** Split a V2 raw string into words: spaces/tabs/newlines separate, '…' groups, '' inside quotes is '. */
/** A V2 raw string already in canonical form: words of no quotes or white space, one space apart. */
export const CANONICAL_V2 = /^[^\s'"]+(?: [^\s'"]+)*$/;

export function splitV2Raw(raw: string): string[] {
  if (raw.indexOf("'") < 0) return raw.split(/[ \t\n\r]+/).filter((w) => w !== '');
  const out: string[] = [];
  let i = 0;
  const n = raw.length;
  while (i < n) {
    while (i < n && isSpace(raw.charCodeAt(i))) i++;
    if (i >= n) break;
    let word = '';
    while (i < n && !isSpace(raw.charCodeAt(i))) {
      const c = raw[i]!;
      if (c === "'") {
        const open = i;
        i++;
        for (;;) {
          if (i >= n) throw new ArgSyntaxError('unterminated single quote', open);
          if (raw[i] === "'") {
            if (raw[i + 1] === "'") {
              word += "'";
              i += 2;
              continue;
            }
            i++;
            break;
          }
          word += raw[i];
          i++;
        }
      } else {
        word += c;
        i++;
      }
    }
    out.push(word);
  }
  return out;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Quote one word for the V2 raw form (single quotes when it has spaces or quotes, or is empty). */
export function quoteV2Word(w: string): string {
  if (w === '') return "''";
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (c === 39 || c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12)
      return "'" + w.replace(/'/g, "''") + "'";
  }
  return w;
}

/**
 * Arguments → V2 raw as HTCondor stores them in Arguments: each white-space character and each quote is
 * quoted where it stands (`two' 'three`, `it''''s`), with neighbouring quoted runs merged into one
 * (`a'  'b`), and an empty argument is `''`. Reading it back (splitV2Raw) gives the same words.
 */
export function joinV2Raw(words: string[]): string {
  let s = '';
  for (let i = 0; i < words.length; i++) {
    if (i) s += ' ';
    const w = words[i]!;
    if (w === '') s += "''";
    for (const ch of w) {
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === "'") {
        // continue the quoted run just closed rather than close and reopen it
        if (s.endsWith("'")) s = s.slice(0, -1);
        else s += "'";
        s += ch === "'" ? "''" : ch;
        s += "'";
      } else s += ch;
    }
  }
  return s;
}

/** V1 arguments: split on spaces/tabs; \" → ". */
export function splitV1Args(v1: string): string[] {
  return v1
    .replace(/\\"/g, '"')
    .split(/[ \t\n\r]+/)
    .filter((w) => w !== '');
}

/** V1 arguments as condor_submit stores them in Args: the words joined by one space. */
export function normalizeV1Args(v1: string): string {
  return splitV1Args(v1).join(' ');
}

/** One NAME=value entry; the name must be non-empty. */
export function splitEnvEntry(entry: string): [string, string] | undefined {
  const eq = entry.indexOf('=');
  if (eq <= 0) return undefined;
  return [entry.slice(0, eq), entry.slice(eq + 1)];
}

/** V1 environment: ';'-separated NAME=value entries. Returns entries in order; bad entries listed apart. */
export function parseV1Env(v1: string): { entries: Array<[string, string]>; bad: string[] } {
  const entries: Array<[string, string]> = [];
  const bad: string[] = [];
  for (const part of v1.split(';')) {
    if (part.trim() === '') continue;
    const kv = splitEnvEntry(part.replace(/^[ \t]+/, ''));
    if (kv) entries.push(kv);
    else bad.push(part);
  }
  return { entries, bad };
}

/** V2 environment raw → entries (throws ArgSyntaxError on an unterminated single quote). */
export function parseV2Env(raw: string): { entries: Array<[string, string]>; bad: string[] } {
  const entries: Array<[string, string]> = [];
  const bad: string[] = [];
  for (const w of splitV2Raw(raw)) {
    const kv = splitEnvEntry(w);
    if (kv) entries.push(kv);
    else bad.push(w);
  }
  return { entries, bad };
}

/** Entries → V2 raw: NAME=value words, the whole entry single-quoted when needed. */
export function joinV2Env(env: Iterable<[string, string]>): string {
  const words: string[] = [];
  for (const [k, v] of env) words.push(quoteV2Word(`${k}=${v}`));
  return words.join(' ');
}

/** Entries → V1: NAME=value;… (only valid when no value holds ';'). */
export function joinV1Env(env: Iterable<[string, string]>): string {
  const parts: string[] = [];
  for (const [k, v] of env) parts.push(`${k}=${v}`);
  return parts.join(';');
}

// ---------------------------------------------------------------------------------------------
// What the startd uses to rebuild argv and the environment from the ad's (evaluated) string values.

/**
 * argv from the ad's `Args` (V1 raw) and `Arguments` (V2 raw) string values; `Arguments` wins, as in
 * HTCondor. A malformed V2 string (an unterminated single quote) is read leniently: the rest is one word.
 */
export function splitArgs(argsV1: string | undefined, argumentsV2: string | undefined): string[] {
  if (argumentsV2 !== undefined && argumentsV2 !== null) {
    try {
      return splitV2Raw(argumentsV2);
    } catch (e) {
      if (!(e instanceof ArgSyntaxError)) throw e;
      return splitV2Raw(argumentsV2 + "'");
    }
  }
  if (argsV1 !== undefined && argsV1 !== null) return argsV1.split(/[ \t\n\r]+/).filter((w) => w !== '');
  return [];
}

/** The environment from the ad's `Env` (V1) and `Environment` (V2) string values; `Environment` wins. */
export function parseEnv(envV1: string | undefined, environmentV2: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  // a variable named __proto__ is just a variable
  const set = (k: string, v: string) => {
    if (k === '__proto__')
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  };
  if (environmentV2 !== undefined && environmentV2 !== null) {
    let parsed: { entries: Array<[string, string]> };
    try {
      parsed = parseV2Env(environmentV2);
    } catch (e) {
      if (!(e instanceof ArgSyntaxError)) throw e;
      parsed = parseV2Env(environmentV2 + "'");
    }
    for (const [k, v] of parsed.entries) set(k, v);
    return out;
  }
  if (envV1 !== undefined && envV1 !== null) {
    for (const [k, v] of parseV1Env(envV1).entries) set(k, v);
  }
  return out;
}
