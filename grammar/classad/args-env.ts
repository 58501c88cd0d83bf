// Job arguments and environment strings in HTCondor's V1 and V2 syntaxes (condor_arglist.cpp split_args /
// join_args / AppendArgsV1Raw_unix, env.cpp MergeFromV1AutoDelim / MergeFromV2Raw / getDelimitedStringV2Raw),
// for the argsToList, listToArgs, envV1ToV2 and mergeEnvironment builtins. undefined means "cannot parse".

const WS = ' \t\n\r';

/** V2 raw arguments: whitespace separates; '...' quotes, with '' for a literal quote inside. */
export function splitArgsV2(s: string): string[] | undefined {
  const out: string[] = [];
  let buf = '';
  let token = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "'") {
      token = true;
      for (i++; ; i++) {
        if (i >= s.length) return undefined; // unbalanced quote
        if (s[i] !== "'") buf += s[i];
        else if (s[i + 1] === "'") buf += s[++i];
        else break;
      }
    } else if (WS.includes(ch)) {
      if (token) out.push(buf);
      token = false;
      buf = '';
    } else {
      token = true;
      buf += ch;
    }
  }
  if (token) out.push(buf);
  return out;
}

/** V1 raw arguments on Unix: split at whitespace, no quoting. */
export function splitArgsV1(s: string): string[] {
  return s.split(/[ \t\n\r]+/).filter((t) => t !== '');
}

/** V2 raw form of an argument list: quoted only where needed, adjacent quoted runs merged ("a b" → a' 'b). */
export function joinArgsV2(args: readonly string[]): string {
  let out = '';
  for (const arg of args) {
    if (out) out += ' ';
    if (!arg) out += "''";
    for (const ch of arg) {
      if (!WS.includes(ch) && ch !== "'") {
        out += ch;
        continue;
      }
      if (out.endsWith("'")) out = out.slice(0, -1);
      else out += "'";
      if (ch === "'") out += "'";
      out += ch + "'";
    }
  }
  return out;
}

/** V1 raw form: joined with spaces; undefined when an argument holds whitespace (V1 cannot say that). */
export function joinArgsV1(args: readonly string[]): string | undefined {
  if (args.some((a) => /[ \t\r\n]/.test(a))) return undefined;
  return args.join(' ');
}

/** Marks an entry kept verbatim without "=" (an unexpanded $$() macro). */
const NO_VALUE = Symbol('no value');

/** An environment: names to values, printed sorted by name as HTCondor's std::map keeps them. */
class Env {
  private readonly table = new Map<string, string | typeof NO_VALUE>();

  /** One NAME=VALUE entry; false when it has no name or no "=". */
  set(entry: string): boolean {
    const eq = entry.indexOf('=');
    if (eq < 0 && entry.includes('$$')) {
      this.table.set(entry, NO_VALUE);
      return true;
    }
    if (eq <= 0) return false;
    this.table.set(entry.slice(0, eq), entry.slice(eq + 1));
    return true;
  }

  toV2(): string {
    const names = [...this.table.keys()].sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));
    return joinArgsV2(
      names.map((n) => {
        const v = this.table.get(n)!;
        return v === NO_VALUE ? n : `${n}=${v}`;
      }),
    );
  }
}

const PERMITTED_DELIMS = '!#$%&*+,-/:;<>?@^`|~\x1F';

/**
 * A V1 environment ("A=1;B=2", or another delimiter given as the first character) in V2 raw form
 * ("A=1 B=2"); undefined when an entry is not NAME=VALUE.
 */
export function envV1ToV2(s: string): string | undefined {
  const env = new Env();
  let delim = ';';
  let i = 0;
  if (s.length > 0) {
    if (s[0] === delim) i = 1;
    else if (PERMITTED_DELIMS.includes(s[0]!)) {
      delim = s[0]!;
      i = 1;
    }
  }
  while (i < s.length) {
    while (i < s.length && WS.includes(s[i]!)) i++;
    let entry = '';
    while (i < s.length) {
      const ch = s[i++]!;
      if (ch === '\n' || ch === delim) break;
      entry += ch;
    }
    if (entry && !env.set(entry)) return undefined;
  }
  return env.toV2();
}

/** V2 raw environments merged left to right (later values win); undefined when one does not parse. */
export function mergeEnvironments(parts: readonly string[]): string | undefined {
  const env = new Env();
  for (const p of parts) {
    const entries = splitArgsV2(p);
    if (!entries || !entries.every((e) => env.set(e))) return undefined;
  }
  return env.toV2();
}
