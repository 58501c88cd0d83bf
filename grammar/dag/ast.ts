// The syntax tree of one DAG file, as dag.peggy builds it through `astBuilder`. Positions are 0-based offsets
// into the file's text; parse.ts turns them into file:line:column only when a diagnostic needs one, which keeps
// a 100,000-node DAG cheap to parse.

/** A token and the offset of its first character. */
export interface Tok {
  text: string;
  offset: number;
}

export interface IntTok extends Tok {
  value: number;
}

interface StatementBase {
  /** offset of the statement's keyword */
  offset: number;
}

/** JOB, FINAL and SUBDAG EXTERNAL: all three declare a node. */
export interface NodeStatement extends StatementBase {
  type: 'node';
  keyword: 'JOB' | 'FINAL' | 'SUBDAG';
  name: Tok;
  /** the submit description file (JOB, FINAL), the DAG file (SUBDAG), or the name of a SUBMIT-DESCRIPTION */
  file?: Tok;
  /** an inline submit description: the text between `{` and `}` */
  inline?: Tok;
  dir?: Tok;
  noop: boolean;
  done: boolean;
}

export interface ParentStatement extends StatementBase {
  type: 'parent';
  parents: Tok[];
  children: Tok[];
}

export type ScriptKind = 'PRE' | 'POST' | 'HOLD';

export interface ScriptStatement extends StatementBase {
  type: 'script';
  kind: ScriptKind;
  node: Tok;
  command: Tok;
  args: Tok[];
  defer?: { status: IntTok; time: IntTok };
  debug?: { file: Tok; stream: 'STDOUT' | 'STDERR' | 'ALL' };
}

export interface VarPair {
  name: Tok;
  /** unescaped value */
  value: Tok;
}

export interface VarsStatement extends StatementBase {
  type: 'vars';
  node: Tok;
  mode?: 'PREPEND' | 'APPEND';
  pairs: VarPair[];
}

export interface RetryStatement extends StatementBase {
  type: 'retry';
  node: Tok;
  count: IntTok;
  unlessExit?: IntTok;
}

export interface AbortDagOnStatement extends StatementBase {
  type: 'abort-dag-on';
  node: Tok;
  value: IntTok;
  returnValue?: IntTok;
}

export interface PriorityStatement extends StatementBase {
  type: 'priority';
  node: Tok;
  value: IntTok;
}

export interface CategoryStatement extends StatementBase {
  type: 'category';
  node: Tok;
  category: Tok;
}

export interface MaxJobsStatement extends StatementBase {
  type: 'maxjobs';
  category: Tok;
  value: IntTok;
}

export interface PreSkipStatement extends StatementBase {
  type: 'pre-skip';
  node: Tok;
  code: IntTok;
}

export interface DoneStatement extends StatementBase {
  type: 'done';
  node: Tok;
}

export interface SpliceStatement extends StatementBase {
  type: 'splice';
  name: Tok;
  file: Tok;
  dir?: Tok;
}

export interface FileStatement extends StatementBase {
  type: 'include' | 'config' | 'jobstate-log';
  file: Tok;
}

export interface DotStatement extends StatementBase {
  type: 'dot';
  file: Tok;
  update?: boolean;
  overwrite?: boolean;
  include?: Tok;
}

export interface NodeStatusFileStatement extends StatementBase {
  type: 'node-status-file';
  file: Tok;
  interval?: IntTok;
  alwaysUpdate: boolean;
}

export interface SetJobAttrStatement extends StatementBase {
  type: 'set-job-attr';
  name: Tok;
  value: Tok;
}

export interface RejectStatement extends StatementBase {
  type: 'reject';
}

export interface EnvStatement extends StatementBase {
  type: 'env';
  kind: 'GET' | 'SET';
  rest: Tok;
}

export interface SavePointFileStatement extends StatementBase {
  type: 'save-point-file';
  node: Tok;
  file?: Tok;
}

export interface SubmitDescriptionStatement extends StatementBase {
  type: 'submit-description';
  name: Tok;
  body: Tok;
}

/** Kept so graph.ts can say "not supported" at the right place instead of "unknown command". */
export interface UnsupportedStatement extends StatementBase {
  type: 'unsupported';
  keyword: Tok;
}

export interface UnknownStatement extends StatementBase {
  type: 'unknown';
  word: Tok;
}

export type Statement =
  | NodeStatement
  | ParentStatement
  | ScriptStatement
  | VarsStatement
  | RetryStatement
  | AbortDagOnStatement
  | PriorityStatement
  | CategoryStatement
  | MaxJobsStatement
  | PreSkipStatement
  | DoneStatement
  | SpliceStatement
  | FileStatement
  | DotStatement
  | NodeStatusFileStatement
  | SetJobAttrStatement
  | RejectStatement
  | EnvStatement
  | SavePointFileStatement
  | SubmitDescriptionStatement
  | UnsupportedStatement
  | UnknownStatement;

type DotOption = { update?: boolean; overwrite?: boolean; include?: Tok };

/** The builders dag.peggy's actions call (passed as `options.builder`). */
export const astBuilder = {
  /** The rest of a line without its trailing blanks (a loop: /[ \t]+$/ is quadratic on a line of blanks that ends otherwise). */
  trimBlanks(text: string): string {
    let end = text.length;
    while (end > 0 && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
    return text.slice(0, end);
  },
  tok(text: string, offset: number): Tok {
    return { text, offset };
  },
  int(text: string, offset: number): IntTok {
    return { text, offset, value: Number.parseInt(text, 10) };
  },
  inline(text: string, offset: number): Tok {
    return { text, offset };
  },
  badEscape(c: string): string {
    return `unknown escape sequence "\\${c}" in a VARS value (only \\\\ and \\" are allowed)`;
  },
  job(
    offset: number,
    keyword: NodeStatement['keyword'],
    name: Tok,
    body: Tok | [Tok, Tok | null, true | null, true | null],
  ): NodeStatement {
    if (!Array.isArray(body)) return { type: 'node', offset, keyword, name, inline: body, noop: false, done: false };
    const [file, dir, noop, done] = body;
    const s: NodeStatement = { type: 'node', offset, keyword, name, file, noop: noop === true, done: done === true };
    if (dir) s.dir = dir;
    return s;
  },
  parent(offset: number, parents: Tok[], children: Tok[]): ParentStatement {
    return { type: 'parent', offset, parents, children };
  },
  vars(offset: number, node: Tok, mode: 'PREPEND' | 'APPEND' | null, pairs: VarPair[]): VarsStatement {
    const s: VarsStatement = { type: 'vars', offset, node, pairs };
    if (mode) s.mode = mode;
    return s;
  },
  varPair(name: Tok, value: Tok): VarPair {
    return { name, value };
  },
  script(
    offset: number,
    kind: ScriptKind,
    node: Tok,
    command: Tok,
    args: Tok[],
    defer: [IntTok, IntTok] | null,
    debug: [Tok, 'STDOUT' | 'STDERR' | 'ALL'] | null,
  ): ScriptStatement {
    const s: ScriptStatement = { type: 'script', offset, kind, node, command, args };
    if (defer) s.defer = { status: defer[0], time: defer[1] };
    if (debug) s.debug = { file: debug[0], stream: debug[1] };
    return s;
  },
  retry(offset: number, node: Tok, count: IntTok, unlessExit: IntTok | null): RetryStatement {
    const s: RetryStatement = { type: 'retry', offset, node, count };
    if (unlessExit) s.unlessExit = unlessExit;
    return s;
  },
  abortDagOn(offset: number, node: Tok, value: IntTok, returnValue: IntTok | null): AbortDagOnStatement {
    const s: AbortDagOnStatement = { type: 'abort-dag-on', offset, node, value };
    if (returnValue) s.returnValue = returnValue;
    return s;
  },
  priority(offset: number, node: Tok, value: IntTok): PriorityStatement {
    return { type: 'priority', offset, node, value };
  },
  category(offset: number, node: Tok, category: Tok): CategoryStatement {
    return { type: 'category', offset, node, category };
  },
  maxJobs(offset: number, category: Tok, value: IntTok): MaxJobsStatement {
    return { type: 'maxjobs', offset, category, value };
  },
  preSkip(offset: number, node: Tok, code: IntTok): PreSkipStatement {
    return { type: 'pre-skip', offset, node, code };
  },
  done(offset: number, node: Tok): DoneStatement {
    return { type: 'done', offset, node };
  },
  splice(offset: number, name: Tok, file: Tok, dir: Tok | null): SpliceStatement {
    const s: SpliceStatement = { type: 'splice', offset, name, file };
    if (dir) s.dir = dir;
    return s;
  },
  include(offset: number, file: Tok): FileStatement {
    return { type: 'include', offset, file };
  },
  config(offset: number, file: Tok): FileStatement {
    return { type: 'config', offset, file };
  },
  jobstateLog(offset: number, file: Tok): FileStatement {
    return { type: 'jobstate-log', offset, file };
  },
  dotOption(word: string): DotOption {
    switch (word.toUpperCase()) {
      case 'UPDATE':
        return { update: true };
      case 'DONT-UPDATE':
        return { update: false };
      case 'OVERWRITE':
        return { overwrite: true };
      default:
        return { overwrite: false };
    }
  },
  dotInclude(file: Tok): DotOption {
    return { include: file };
  },
  dot(offset: number, file: Tok, opts: DotOption[]): DotStatement {
    // "If conflicting parameters are used in a DOT command, the last one listed is used."
    return Object.assign({ type: 'dot' as const, offset, file }, ...opts);
  },
  nodeStatusFile(offset: number, file: Tok, interval: IntTok | null, alwaysUpdate: boolean): NodeStatusFileStatement {
    const s: NodeStatusFileStatement = { type: 'node-status-file', offset, file, alwaysUpdate };
    if (interval) s.interval = interval;
    return s;
  },
  setJobAttr(offset: number, name: Tok, value: Tok): SetJobAttrStatement {
    return { type: 'set-job-attr', offset, name, value };
  },
  reject(offset: number): RejectStatement {
    return { type: 'reject', offset };
  },
  env(offset: number, kind: 'GET' | 'SET', rest: Tok): EnvStatement {
    return { type: 'env', offset, kind, rest };
  },
  savePointFile(offset: number, node: Tok, file: Tok | null): SavePointFileStatement {
    const s: SavePointFileStatement = { type: 'save-point-file', offset, node };
    if (file) s.file = file;
    return s;
  },
  submitDescription(offset: number, name: Tok, body: Tok): SubmitDescriptionStatement {
    return { type: 'submit-description', offset, name, body };
  },
  unsupported(offset: number, keyword: Tok): UnsupportedStatement {
    return { type: 'unsupported', offset, keyword };
  },
  unknown(offset: number, word: Tok): UnknownStatement {
    return { type: 'unknown', offset, word };
  },
};

export type DagAstBuilder = typeof astBuilder;
