// From statements to the DAG: nodes, edges, scripts, VARS, throttles and the DAG-wide settings, with DAGMan's
// rules (HTCondor manual, "DAGMan Workflows"):
//  - Two passes per DAG file: nodes (JOB, FINAL, SUBDAG EXTERNAL, SPLICE) first, everything else second, so a
//    PARENT line may come before the JOB lines it names.
//  - INCLUDE is textual: the included statements take part in both passes as if they were written inline.
//  - Relative paths resolve against the DAG's working directory (where the DAG is submitted, or the DAG file's
//    directory with `useDagDir`), not the including file's directory. A SPLICE's DIR becomes the working
//    directory of everything in the splice: its file, its INCLUDEs, its nodes' submit files and DIRs.
//  - A spliced node is named `splice+node` (nested: `outer+inner+node`); `PARENT X CHILD S` makes X a parent of
//    the splice's initial nodes, `PARENT S CHILD Y` makes its terminal nodes parents of Y. Categories in a
//    splice are scoped the same way unless their name starts with `+` (global); a MAXJOBS at a higher level
//    wins over one in a splice.
//  - ALL_NODES applies to the nodes of its own file (and its INCLUDEs), never to a splice's or the FINAL node.
//  - Errors are SourceErrors naming file:line:column: DAG_SYNTAX, DAG_UNKNOWN_NODE (with a suggestion), and
//    DAG_CYCLE listing the nodes on the cycle.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DschedError, SourceError } from '../../lib/errors.js';
import type { Location } from '../../lib/diagnostic.js';
import { readSourceFile, SourceText } from '../source.js';
import type { IntTok, NodeStatement, ScriptKind, Statement, Tok } from './ast.js';
import { dagError, locate, parseDagTextWithGrammar, scanDagStatementsInSlices } from './parse.js';
import { KEYWORDS, toEnd } from './scan.js';

// ------------------------------------------------------------------------------------------------- the model

export type NodeType = 'JOB' | 'FINAL' | 'SUBDAG';

export interface DagScript {
  kind: ScriptKind;
  /** the executable, as written (resolved by the host against the node's dir) */
  command: string;
  /** arguments as written; `$JOB`, `$RETRY`, … are substituted when the script runs */
  args: string[];
  /** DEFER status time: re-run the script (only) after `time` seconds when it exits with `status` */
  defer?: { status: number; time: number };
  debug?: { file: string; stream: 'STDOUT' | 'STDERR' | 'ALL' };
  location: Location;
}

export interface DagVar {
  /** the macro name; `+Attr` is stored as `My.Attr` (a job ClassAd attribute), as DAGMan does */
  name: string;
  value: string;
  /** PREPEND (defined before the submit description is read) or APPEND (after) */
  prepend: boolean;
}

export interface DagNode {
  /** position in `Dag.nodes` (definition order, which breaks priority ties as in DAGMan) */
  readonly index: number;
  /** the full name: `splice+node` for spliced nodes */
  readonly name: string;
  readonly type: NodeType;
  /** the submit description file (JOB, FINAL) or DAG file (SUBDAG) as written, relative to `dir` */
  file?: string;
  /** the text of an inline submit description (`JOB A { … }` or a SUBMIT-DESCRIPTION named as the file) */
  submitDescription?: string;
  /** absolute directory the node's job is submitted from and its scripts run in */
  readonly dir: string;
  noop: boolean;
  /** premarked DONE (JOB … DONE, a DONE line, or a rescue DAG): neither the job nor the scripts run */
  done: boolean;
  pre?: DagScript;
  post?: DagScript;
  hold?: DagScript;
  preSkip?: number;
  /** RETRY count (0: no retries) */
  retries: number;
  unlessExit?: number;
  abortDagOn?: { value: number; returnValue?: number };
  priority: number;
  /** full category name (scoped by splice unless global) */
  category?: string;
  vars: DagVar[];
  /** indexes into `Dag.nodes` */
  parents: number[];
  children: number[];
  savePointFile?: string;
  readonly location: Location;
}

export interface DagWarning {
  message: string;
  location?: Location;
}

export interface DotSettings {
  file: string;
  update: boolean;
  overwrite: boolean;
  include?: string;
}

export interface Dag {
  /** absolute path of the top-level DAG file */
  readonly file: string;
  /** absolute working directory of the DAG */
  readonly cwd: string;
  readonly nodes: readonly DagNode[];
  readonly byName: ReadonlyMap<string, DagNode>;
  readonly final?: DagNode;
  /** category → MAXJOBS (0: no limit) */
  readonly maxJobs: ReadonlyMap<string, number>;
  readonly config?: string;
  readonly dot?: DotSettings;
  readonly nodeStatusFile?: { file: string; minUpdateSeconds: number; alwaysUpdate: boolean };
  readonly jobstateLog?: string;
  readonly setJobAttrs: ReadonlyArray<{ name: string; value: string }>;
  readonly env: ReadonlyArray<{ kind: 'GET' | 'SET'; text: string }>;
  /** where a REJECT statement is: such a DAG must not be run */
  readonly reject?: Location;
  /** the rescue DAG applied, if any */
  readonly rescueFile?: string;
  /** every file read: the DAG, its INCLUDEs and SPLICEs, the rescue DAG */
  readonly files: readonly string[];
  readonly warnings: readonly DagWarning[];
  readonly edgeCount: number;
}

export interface DagParseOptions {
  /** The DAG's working directory. Default: the process's cwd (DAGMan: where condor_submit_dag runs). */
  cwd?: string;
  /** Use the top-level DAG file's directory as the working directory (condor_submit_dag -usedagdir). */
  useDagDir?: boolean;
  /** A partial rescue DAG (DONE and RETRY lines) read after the DAG, as DAGMan does on resubmission. */
  rescueFile?: string;
  /** Fewer nodes than MAX_DAG_NODES (the schedd's share left for the DAG's owner), and why: the error past it. */
  maxNodes?: { count: number; why: string };
  /** VARS without PREPEND/APPEND are appended (DAGMAN_DEFAULT_APPEND_VARS = True); default: prepended. */
  appendVarsByDefault?: boolean;
  /** Read a file (default: fs, UTF-8). Tests pass an in-memory file system. */
  readFile?: (path: string) => string;
  /** Read the rescue DAG (default: readRescueDagFile): the reader's own file alone. */
  readRescueFile?: (path: string) => string;
  /** Whether a directory exists (default: fs). */
  isDirectory?: (path: string) => boolean;
  /** Parse with the grammar alone, without the fast scanner (for tests that compare the two). */
  grammarOnly?: boolean;
}

/** Limits kept in the wrapper, not the grammar. */
export const MAX_INCLUDE_DEPTH = 64;
export const MAX_DAG_NODES = 10_000_000;
/**
 * The largest DAG, INCLUDE, SPLICE or rescue file read: generous (about a million nodes of JOB and PARENT lines),
 * yet a bound, since the schedd reads these files for every user and a device or a huge file must not hang it.
 */
export const MAX_DAG_FILE_BYTES = 64 * 1024 * 1024;
/**
 * All the files one DAG reads together (the DAG, its INCLUDEs and SPLICEs, the rescue DAG): every text read is
 * kept until the DAG is built, and a file may be included or spliced any number of times, so 1,000 INCLUDEs of
 * one 64 MiB file had the reader (the schedd, the web daemon) hold 64 GB. Twice the file bound, so a DAG at
 * that bound still has room for what it includes.
 */
export const MAX_DAG_TOTAL_BYTES = 2 * MAX_DAG_FILE_BYTES;

/** Whether `path` is a directory (false when it cannot be looked at): a DIR's check, the default of `isDirectory`. */
export function isDirectoryPath(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Read a DAG-language file: a regular file of at most MAX_DAG_FILE_BYTES (DAG_SYNTAX otherwise). */
export function readDagFile(path: string): string {
  return readSourceFile(path, MAX_DAG_FILE_BYTES, 'the DAG file', 'DAG_SYNTAX');
}

/**
 * Read a rescue DAG as readDagFile does, but only a file of the reader's own, not through a link: what it says
 * is taken as the reader's earlier run's word (nodes done), and it is read as if appended to the DAG, so
 * another user's, planted beside a DAG in a folder others may write, could add a script run as the DAG's owner.
 */
export function readRescueDagFile(path: string): string {
  return readSourceFile(path, MAX_DAG_FILE_BYTES, 'the rescue DAG', 'DAG_SYNTAX', true);
}

/** Read a DAG node's submit file, with the same bound (SUBMIT_FILE otherwise). */
export function readNodeSubmitFile(path: string): string {
  return readSourceFile(path, MAX_DAG_FILE_BYTES, 'the node submit file', 'SUBMIT_FILE');
}

// --------------------------------------------------------------------------------------------- entry points

/** Parse a DAG file, its INCLUDEs and SPLICEs (and a rescue DAG when given) into a checked, acyclic DAG. */
export function parseDagFile(path: string, opts: DagParseOptions = {}): Dag {
  return toEnd(parseDagFileInSlices(path, opts));
}

/**
 * parseDagFile in slices: the generator yields between them (a few thousand lines or nodes each), so that a
 * daemon can serve others while it reads a big DAG (parseDagFileAsync); nothing of the DAG exists until it is
 * returned whole, and its errors are parseDagFile's.
 */
export function parseDagFileInSlices(path: string, opts: DagParseOptions = {}): Generator<void, Dag> {
  const file = resolve(opts.cwd ?? process.cwd(), path);
  const cwd = opts.useDagDir ? dirname(file) : resolve(opts.cwd ?? process.cwd());
  const b = new GraphBuilder(opts);
  return b.build(file, cwd, undefined);
}

/**
 * parseDagFile with the event loop let turn between its slices. `opts.readFile` and `opts.isDirectory` are
 * called only within a slice: whatever rights they take (the DAG owner's) they give back before it ends.
 */
export async function parseDagFileAsync(path: string, opts: DagParseOptions = {}): Promise<Dag> {
  const parse = parseDagFileInSlices(path, opts);
  for (;;) {
    const r = parse.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve_) => setImmediate(resolve_));
  }
}

/** Nodes or statements handled between two yields of a sliced parse. */
const SLICE = 2000;

/** Parse DAG text that is not (or not yet) in a file; `file` names it in diagnostics and anchors paths. */
export function parseDagString(text: string, file = 'inline.dag', opts: DagParseOptions = {}): Dag {
  const cwd = resolve(opts.cwd ?? (opts.useDagDir ? dirname(resolve(file)) : process.cwd()));
  const abs = resolve(cwd, file);
  const b = new GraphBuilder(opts);
  return toEnd(b.build(abs, cwd, text));
}

// ------------------------------------------------------------------------------------------------- builder

const RESERVED = new Set(['PARENT', 'CHILD', 'ALL_NODES']);
const ALL_NODES = 'ALL_NODES';

/**
 * One DAG file read. Only the statements of pass 1 (and INCLUDEs) are kept; pass 2 scans the text again, so the
 * 300,000 statements of a big DAG die young instead of all living until the end (which costs more GC than the
 * second scan). A file the grammar had to parse whole keeps all its statements.
 */
interface FileStatements {
  src: number;
  file: string;
  pass1: Statement[];
  all?: Statement[];
  /** the files this one INCLUDEs, by the INCLUDE's offset */
  includes: Map<number, FileStatements>;
}

const PASS1 = new Set<Statement['type']>(['node', 'splice', 'submit-description', 'include']);
/** the plain keywords (scan.ts) of pass-1 statements, and of the others (pass 1 has checked the JOB lines) */
const PASS1_PLAIN: ReadonlySet<string> = new Set(['JOB']);
const PASS2_PLAIN: ReadonlySet<string> = new Set(KEYWORDS.filter((k) => !PASS1_PLAIN.has(k)));

interface SpliceInfo {
  initial: number[];
  terminal: number[];
}

interface Scope {
  /** '' at the top, 'S+' inside splice S, 'S+T+' inside T in S */
  prefix: string;
  cwd: string;
  isSplice: boolean;
  /** the nodes this file (and its INCLUDEs) defines: what ALL_NODES means */
  own: DagNode[];
  /** index of the first node created while building this scope (own and spliced) */
  first: number;
  splices: Map<string, SpliceInfo>;
  /** splice files being read, for splice cycles */
  fileStack: string[];
}

class GraphBuilder {
  private readonly nodes: DagNode[] = [];
  private readonly byName = new Map<string, DagNode>();
  private readonly sources: SourceText[] = [];
  private readonly files: string[] = [];
  private readonly warnings: DagWarning[] = [];
  /** children of nodes with many of them, for finding duplicate edges fast */
  private readonly childSets = new Map<number, Set<number>>();
  private readonly edgeFrom: number[] = [];
  private readonly edgeTo: number[] = [];
  private readonly edgeSrc: number[] = [];
  private readonly edgeOffset: number[] = [];
  private readonly maxJobs = new Map<string, number>();
  private readonly categoryUse = new Map<string, number>();
  private readonly descriptions = new Map<string, string>();
  private readonly dirChecked = new Map<string, boolean>();
  private final?: DagNode;
  private finalDecl?: Location;
  private config?: { file: string; at: Location };
  private dot?: DotSettings;
  private nodeStatusFile?: { file: string; minUpdateSeconds: number; alwaysUpdate: boolean };
  private jobstateLog?: string;
  private readonly setJobAttrs: Array<{ name: string; value: string }> = [];
  private readonly env: Array<{ kind: 'GET' | 'SET'; text: string }> = [];
  private reject?: Location;
  private readonly readFile_: (path: string) => string;
  private readonly readRescue: (path: string) => string;
  private readonly isDirectory: (path: string) => boolean;
  /** bytes of the files read so far, against MAX_DAG_TOTAL_BYTES */
  private bytesRead = 0;

  constructor(private readonly opts: DagParseOptions) {
    this.readFile_ = opts.readFile ?? readDagFile;
    this.readRescue = opts.readRescueFile ?? readRescueDagFile;
    this.isDirectory = opts.isDirectory ?? isDirectoryPath;
  }

  *build(file: string, cwd: string, text: string | undefined): Generator<void, Dag> {
    const scope: Scope = { prefix: '', cwd, isSplice: false, own: [], first: 0, splices: new Map(), fileStack: [file] };
    let rescueFile: string | undefined;
    try {
      const files = [yield* this.readFile(file, cwd, text, undefined, [])];
      if (this.opts.rescueFile) {
        // a partial rescue DAG is read after the DAG, as if appended to it
        rescueFile = resolve(cwd, this.opts.rescueFile);
        files.push(yield* this.readFile(rescueFile, cwd, undefined, undefined, [], this.readRescue));
      }
      yield* this.buildScope(scope, files);
    } catch (e) {
      // The scanner's passes skip lines they do not need, so a syntax error may come to light after another
      // error: report the one the grammar would (the first syntax error, in the order the files were read).
      if (e instanceof SourceError && !this.opts.grammarOnly)
        for (const src of this.sources) parseDagTextWithGrammar(src);
      throw e;
    }
    this.checkCategories();
    this.resolveDescriptions();
    yield;
    this.checkAcyclic();
    const dag: Dag = {
      file,
      cwd,
      nodes: this.nodes,
      byName: this.byName,
      maxJobs: this.maxJobs,
      setJobAttrs: this.setJobAttrs,
      env: this.env,
      files: this.files,
      warnings: this.warnings,
      edgeCount: this.edgeFrom.length,
    };
    const extra: Partial<Record<keyof Dag, unknown>> = {
      final: this.final,
      config: this.config?.file,
      dot: this.dot,
      nodeStatusFile: this.nodeStatusFile,
      jobstateLog: this.jobstateLog,
      reject: this.reject,
      rescueFile,
    };
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) (dag as unknown as Record<string, unknown>)[k] = v;
    return dag;
  }

  // ------------------------------------------------------------------------------------------ reading files

  /** Read a file (and, recursively, what it INCLUDEs) and keep its pass-1 statements. */
  private *readFile(
    file: string,
    cwd: string,
    text: string | undefined,
    from: { src: number; tok: Tok } | undefined,
    includeStack: string[],
    read = this.readFile_,
  ): Generator<void, FileStatements> {
    if (includeStack.includes(file)) {
      throw this.err('DAG_SYNTAX', `INCLUDE cycle: ${[...includeStack, file].join(' -> ')}`, from!.src, from!.tok);
    }
    if (includeStack.length >= MAX_INCLUDE_DEPTH) {
      throw this.err('DAG_SYNTAX', `INCLUDEs nested deeper than ${MAX_INCLUDE_DEPTH}`, from!.src, from!.tok);
    }
    if (text === undefined) {
      try {
        text = read(file);
      } catch (e) {
        // a file that is not regular, or too big, says so; an errno error gives its code (ENOENT, EACCES)
        const why = e instanceof DschedError ? e.message : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
        if (from) throw this.err('DAG_SYNTAX', `cannot read ${file}: ${why}`, from.src, from.tok);
        throw new DschedError('DAG_SYNTAX', `cannot read DAG file ${file}: ${why}`, { cause: e });
      }
    }
    this.bytesRead += Buffer.byteLength(text);
    if (this.bytesRead > MAX_DAG_TOTAL_BYTES) {
      const why = `the DAG's files (with its INCLUDEs, SPLICEs and rescue DAG) are over ${MAX_DAG_TOTAL_BYTES} bytes in all`;
      if (from) throw this.err('DAG_SYNTAX', `cannot read ${file}: ${why}`, from.src, from.tok);
      throw new DschedError('DAG_SYNTAX', `cannot read DAG file ${file}: ${why}`);
    }
    const source = new SourceText(file, text);
    const src = this.sources.push(source) - 1;
    this.files.push(file);
    const f: FileStatements = { src, file, pass1: [], includes: new Map() };
    // Pass 1 reads only JOB lines among the plain ones; pass 2 checks the others (or the grammar reports them).
    if (
      this.opts.grammarOnly ||
      !(yield* scanDagStatementsInSlices(source, (st) => PASS1.has(st.type) && f.pass1.push(st), {
        only: PASS1_PLAIN,
      }))
    ) {
      f.all = parseDagTextWithGrammar(source); // throws the syntax error, if that is why
      f.pass1 = f.all.filter((st) => PASS1.has(st.type));
    }
    const stack = [...includeStack, file];
    for (const st of f.pass1) {
      if (st.type === 'include') {
        f.includes.set(
          st.offset,
          yield* this.readFile(resolve(cwd, st.file.text), cwd, undefined, { src, tok: st.file }, stack),
        );
      }
    }
    return f;
  }

  /** Statements of pass 2 of a file, in order (INCLUDEs included). */
  private *forEachPass2(f: FileStatements, fn: (s: Statement, src: number) => void): Generator<void, void> {
    // a slice's statements are handled after it, so that an INCLUDE's are read in slices too
    const visit = function* (this: GraphBuilder, sts: Statement[]): Generator<void, void> {
      for (const st of sts) {
        if (st.type === 'include') yield* this.forEachPass2(f.includes.get(st.offset)!, fn);
        else if (!PASS1.has(st.type)) fn(st, f.src);
      }
    }.bind(this);
    if (f.all) {
      for (let i = 0; i < f.all.length; i += SLICE) {
        yield* visit(f.all.slice(i, i + SLICE));
        yield;
      }
      return;
    }
    const slice: Statement[] = [];
    const scan = scanDagStatementsInSlices(this.sources[f.src]!, (st) => slice.push(st), {
      maxGrammarLines: Infinity,
      only: PASS2_PLAIN,
    });
    for (;;) {
      const r = scan.next();
      yield* visit(slice.splice(0));
      if (r.done) {
        if (r.value) return;
        // a line pass 1 skipped has a syntax error: the grammar says where
        parseDagTextWithGrammar(this.sources[f.src]!);
        throw new DschedError('INTERNAL', `${f.file}: the scanner and the grammar disagree about this file`);
      }
      yield;
    }
  }

  /** Statements of pass 1 of a file, in order (INCLUDEs included); `fn` may itself read in slices (a SPLICE). */
  private *forEachPass1(
    f: FileStatements,
    fn: (s: Statement, src: number) => Generator<void, void> | void,
  ): Generator<void, void> {
    let n = 0;
    for (const st of f.pass1) {
      if (st.type === 'include') yield* this.forEachPass1(f.includes.get(st.offset)!, fn);
      else {
        const inner = fn(st, f.src);
        if (inner) yield* inner;
      }
      if (++n % SLICE === 0) yield;
    }
  }

  // ----------------------------------------------------------------------------------------------- scopes

  private *buildScope(scope: Scope, files: FileStatements[]): Generator<void, void> {
    // Pass 1: what defines nodes.
    const pass1 = (s: Statement, src: number): Generator<void, void> | void => {
      if (s.type === 'node') this.defineNode(scope, s, src);
      else if (s.type === 'splice') return this.defineSplice(scope, s, src);
      else if (s.type === 'submit-description') {
        const name = scope.prefix + s.name.text;
        if (this.descriptions.has(name)) {
          this.warn(`SUBMIT-DESCRIPTION ${name} is already defined; this one is ignored`, src, s.name);
        } else {
          this.descriptions.set(name, s.body.text);
        }
      }
    };
    for (const f of files) yield* this.forEachPass1(f, pass1);
    // Pass 2: everything else.
    const pass2 = (s: Statement, src: number): void => this.statement(scope, s, src);
    for (const f of files) yield* this.forEachPass2(f, pass2);
  }

  private defineNode(scope: Scope, s: NodeStatement, src: number): void {
    this.checkNodeName(s.name, src, 'node');
    const name = scope.prefix + s.name.text;
    const prev = this.byName.get(name);
    if (prev) {
      throw this.err('DAG_SYNTAX', `node ${name} is already defined at ${where(prev.location)}`, src, s.name);
    }
    if (scope.splices.has(s.name.text)) {
      throw this.err('DAG_SYNTAX', `node name ${s.name.text} is also a splice name`, src, s.name);
    }
    if (s.keyword === 'FINAL') {
      if (scope.isSplice) throw this.err('DAG_SYNTAX', 'a splice cannot have a FINAL node', src, s.name);
      if (this.final) {
        throw this.err(
          'DAG_SYNTAX',
          `a DAG has at most one FINAL node (${this.final.name} is at ${where(this.finalDecl!)})`,
          src,
          s.name,
        );
      }
    }
    if (this.nodes.length >= MAX_DAG_NODES) {
      throw this.err('DAG_SYNTAX', `a DAG has at most ${MAX_DAG_NODES} nodes`, src, s.name);
    }
    if (this.opts.maxNodes && this.nodes.length >= this.opts.maxNodes.count)
      throw this.err('DAG_SYNTAX', this.opts.maxNodes.why, src, s.name);
    const dir = s.dir ? resolve(scope.cwd, s.dir.text) : scope.cwd;
    if (s.dir) this.checkDir(dir, src, s.dir);
    // Every field from the start, in one order: one hidden class for all nodes keeps the engine's accesses fast.
    const node: DagNode = {
      index: this.nodes.length,
      name,
      type: s.keyword,
      file: s.file?.text,
      submitDescription: s.inline?.text,
      dir,
      noop: s.noop,
      done: s.done,
      pre: undefined,
      post: undefined,
      hold: undefined,
      preSkip: undefined,
      retries: 0,
      unlessExit: undefined,
      abortDagOn: undefined,
      priority: 0,
      category: undefined,
      vars: [],
      parents: [],
      children: [],
      savePointFile: undefined,
      location: locate(this.sources[src]!, s.name.offset, s.name.text.length),
    };
    this.nodes.push(node);
    this.byName.set(name, node);
    scope.own.push(node);
    if (s.keyword === 'FINAL') {
      this.final = node;
      this.finalDecl = node.location;
    }
  }

  private *defineSplice(scope: Scope, s: Extract<Statement, { type: 'splice' }>, src: number): Generator<void, void> {
    this.checkNodeName(s.name, src, 'splice');
    const name = s.name.text;
    if (scope.splices.has(name)) {
      throw this.err(
        'DAG_SYNTAX',
        `splice name ${name} is used twice; splice names must be unique per DAG file`,
        src,
        s.name,
      );
    }
    if (this.byName.has(scope.prefix + name)) {
      throw this.err('DAG_SYNTAX', `splice name ${name} is also a node name`, src, s.name);
    }
    const cwd = s.dir ? resolve(scope.cwd, s.dir.text) : scope.cwd;
    if (s.dir) this.checkDir(cwd, src, s.dir);
    const file = resolve(cwd, s.file.text);
    if (scope.fileStack.includes(file)) {
      throw this.err('DAG_SYNTAX', `SPLICE cycle: ${[...scope.fileStack, file].join(' -> ')}`, src, s.file);
    }
    const inner: Scope = {
      prefix: `${scope.prefix}${name}+`,
      cwd,
      isSplice: true,
      own: [],
      first: this.nodes.length,
      splices: new Map(),
      fileStack: [...scope.fileStack, file],
    };
    yield* this.buildScope(inner, [yield* this.readFile(file, cwd, undefined, { src, tok: s.file }, [])]);
    // Initial and terminal nodes are those of the splice on its own, before the outer file adds edges.
    const initial: number[] = [];
    const terminal: number[] = [];
    for (let i = inner.first; i < this.nodes.length; i++) {
      const n = this.nodes[i]!;
      if (n.parents.length === 0) initial.push(i);
      if (n.children.length === 0) terminal.push(i);
    }
    scope.splices.set(name, { initial, terminal });
  }

  private statement(scope: Scope, s: Statement, src: number): void {
    switch (s.type) {
      case 'node':
      case 'splice':
      case 'submit-description':
      case 'include':
        return; // pass 1, or already expanded
      case 'parent':
        return this.parent(scope, s, src);
      case 'vars': {
        const defaultPrepend = !this.opts.appendVarsByDefault;
        const prepend = s.mode === undefined ? defaultPrepend : s.mode === 'PREPEND';
        const vars: DagVar[] = [];
        for (const p of s.pairs) {
          let name = p.name.text;
          if (name.startsWith('+')) {
            if (name.length === 1)
              throw this.err('DAG_SYNTAX', 'a VARS macro name needs at least one character after +', src, p.name);
            name = `My.${name.slice(1)}`;
          }
          if (name.includes('+'))
            throw this.err(
              'DAG_SYNTAX',
              `'+' can only be the first character of a VARS macro name (${name})`,
              src,
              p.name,
            );
          if (name.toLowerCase().startsWith('queue')) {
            throw this.err(
              'DAG_SYNTAX',
              `illegal VARS macro name ${name}: macro names cannot begin with "queue"`,
              src,
              p.name,
            );
          }
          vars.push({ name, value: p.value.text, prepend });
        }
        this.each(scope, s.node, src, 'VARS', 'skip', (node) => {
          for (const v of vars) {
            if (node.vars.length > 0 && node.vars.some((o) => o.name === v.name)) {
              this.warn(
                `VARS ${v.name} is already defined for node ${node.name}; the last definition is used`,
                src,
                s.node,
              );
              node.vars = node.vars.filter((o) => o.name !== v.name);
            }
            node.vars.push(v);
          }
        });
        return;
      }
      case 'script': {
        if (s.defer) {
          if (s.defer.status.value <= 0)
            throw this.err(
              'DAG_SYNTAX',
              `invalid DEFER status ${s.defer.status.text} (must be positive)`,
              src,
              s.defer.status,
            );
          if (s.defer.time.value < 0)
            throw this.err(
              'DAG_SYNTAX',
              `invalid DEFER time ${s.defer.time.text} (cannot be negative)`,
              src,
              s.defer.time,
            );
        }
        const script: DagScript = {
          kind: s.kind,
          command: s.command.text,
          args: s.args.map((a) => a.text),
          location: locate(this.sources[src]!, s.offset),
        };
        if (s.defer) script.defer = { status: s.defer.status.value, time: s.defer.time.value };
        if (s.debug) script.debug = { file: s.debug.file.text, stream: s.debug.stream };
        const slot = s.kind === 'PRE' ? 'pre' : s.kind === 'POST' ? 'post' : 'hold';
        this.each(scope, s.node, src, 'SCRIPT', 'skip', (node) => (node[slot] = script));
        return;
      }
      case 'retry': {
        if (s.count.value < 0)
          throw this.err('DAG_SYNTAX', `invalid RETRY value ${s.count.text} (cannot be negative)`, src, s.count);
        this.each(scope, s.node, src, 'RETRY', 'error', (node) => {
          node.retries = s.count.value;
          node.unlessExit = s.unlessExit?.value;
        });
        return;
      }
      case 'abort-dag-on': {
        const rv = s.returnValue;
        if (rv && (rv.value < 0 || rv.value > 255)) {
          throw this.err(
            'DAG_SYNTAX',
            `invalid ABORT-DAG-ON RETURN value ${rv.text} (must be between 0 and 255)`,
            src,
            rv,
          );
        }
        this.each(scope, s.node, src, 'ABORT-DAG-ON', 'error', (node) => {
          node.abortDagOn = rv ? { value: s.value.value, returnValue: rv.value } : { value: s.value.value };
        });
        return;
      }
      case 'priority':
        this.each(scope, s.node, src, 'PRIORITY', 'error', (node) => (node.priority = s.value.value));
        return;
      case 'category': {
        const cat = this.categoryName(scope, s.category.text);
        this.each(scope, s.node, src, 'CATEGORY', 'error', (node) => {
          if (node.category) this.categoryUse.set(node.category, (this.categoryUse.get(node.category) ?? 1) - 1);
          node.category = cat;
          this.categoryUse.set(cat, (this.categoryUse.get(cat) ?? 0) + 1);
        });
        return;
      }
      case 'maxjobs': {
        if (s.value.value < 0)
          throw this.err('DAG_SYNTAX', `invalid MAXJOBS value ${s.value.text} (cannot be negative)`, src, s.value);
        this.maxJobs.set(this.categoryName(scope, s.category.text), s.value.value);
        return;
      }
      case 'pre-skip': {
        if (s.code.value < 1 || s.code.value > 255) {
          throw this.err(
            'DAG_SYNTAX',
            `invalid PRE_SKIP exit code ${s.code.text} (must be between 1 and 255)`,
            src,
            s.code,
          );
        }
        this.each(scope, s.node, src, 'PRE_SKIP', 'skip', (node) => (node.preSkip = s.code.value));
        return;
      }
      case 'done': {
        if (s.node.text.toUpperCase() === ALL_NODES)
          throw this.err('DAG_SYNTAX', 'DONE does not accept ALL_NODES', src, s.node);
        const node = this.lookupNode(scope, s.node, src);
        if (node.type === 'FINAL')
          throw this.err('DAG_SYNTAX', `the FINAL node ${node.name} cannot be marked DONE`, src, s.node);
        node.done = true;
        return;
      }
      case 'config': {
        // a splice's CONFIG applies to the whole DAG, as DAGMan's: one file per DAG, a different one is an error
        const file = resolve(scope.cwd, s.file.text);
        if (this.config && this.config.file !== file) {
          throw this.err(
            'DAG_SYNTAX',
            `only one CONFIG file is allowed (${this.config.file} is given at ${where(this.config.at)})`,
            src,
            s.file,
          );
        }
        this.config = { file, at: locate(this.sources[src]!, s.file.offset) };
        return;
      }
      case 'dot': {
        if (scope.isSplice) return;
        const dot: DotSettings = {
          file: resolve(scope.cwd, s.file.text),
          update: s.update ?? false,
          overwrite: s.overwrite ?? true,
        };
        if (s.include) dot.include = resolve(scope.cwd, s.include.text);
        this.dot = dot;
        return;
      }
      case 'node-status-file': {
        if (scope.isSplice) return this.warn('NODE_STATUS_FILE in a splice is ignored', src, s.file);
        if (this.nodeStatusFile)
          return this.warn(`NODE_STATUS_FILE is already ${this.nodeStatusFile.file}; this one is ignored`, src, s.file);
        if (s.interval && s.interval.value < 0)
          throw this.err('DAG_SYNTAX', `invalid NODE_STATUS_FILE update time ${s.interval.text}`, src, s.interval);
        this.nodeStatusFile = {
          file: resolve(scope.cwd, s.file.text),
          minUpdateSeconds: s.interval ? s.interval.value : 60,
          alwaysUpdate: s.alwaysUpdate,
        };
        return;
      }
      case 'jobstate-log': {
        const file = resolve(scope.cwd, s.file.text);
        if (this.jobstateLog && this.jobstateLog !== file)
          return this.warn(`JOBSTATE_LOG is already ${this.jobstateLog}; this one is ignored`, src, s.file);
        this.jobstateLog = file;
        return;
      }
      case 'set-job-attr':
        if (scope.isSplice) return this.warn('SET_JOB_ATTR in a splice has no effect', src, s.name);
        this.setJobAttrs.push({ name: s.name.text, value: s.value.text });
        return;
      case 'env':
        if (scope.isSplice) return;
        this.env.push({ kind: s.kind, text: s.rest.text });
        return;
      case 'reject':
        this.reject ??= locate(this.sources[src]!, s.offset);
        return;
      case 'save-point-file': {
        if (s.node.text.toUpperCase() === ALL_NODES)
          throw this.err('DAG_SYNTAX', 'SAVE_POINT_FILE does not accept ALL_NODES', src, s.node);
        const node = this.lookupNode(scope, s.node, src);
        node.savePointFile = s.file
          ? resolve(scope.cwd, s.file.text)
          : resolve(scope.cwd, `${s.node.text}-${basenameOf(this.sources[src]!.file)}.save`);
        this.warn('SAVE_POINT_FILE is accepted but save points are not written by dsched', src, s.node);
        return;
      }
      case 'unsupported':
        throw this.err('DAG_SYNTAX', `${s.keyword.text.toUpperCase()} is not supported by dsched`, src, s.keyword);
      case 'unknown':
        throw this.err(
          'DAG_SYNTAX',
          `unknown DAG command ${s.word.text}: expected JOB, PARENT, SCRIPT, VARS, RETRY, ABORT-DAG-ON, PRIORITY, CATEGORY, ` +
            'MAXJOBS, PRE_SKIP, DONE, FINAL, SUBDAG, SPLICE, INCLUDE, CONFIG, DOT, NODE_STATUS_FILE, JOBSTATE_LOG, ' +
            'SET_JOB_ATTR, ENV, REJECT, SAVE_POINT_FILE or SUBMIT-DESCRIPTION',
          src,
          s.word,
        );
    }
  }

  private parent(scope: Scope, s: Extract<Statement, { type: 'parent' }>, src: number): void {
    const parents = this.endpoints(scope, s.parents, src, 'terminal');
    const children = this.endpoints(scope, s.children, src, 'initial');
    for (const p of parents) {
      for (const c of children) {
        if (p === c) {
          const n = this.nodes[p]!.name;
          throw this.err(
            'DAG_CYCLE',
            `cycle in the DAG: ${n} -> ${n} (a node cannot be its own parent)`,
            src,
            s.children.find((t) => scope.prefix + t.text === n) ?? s.children[0]!,
          );
        }
        if (this.hasEdge(p, c)) continue;
        this.nodes[p]!.children.push(c);
        this.nodes[c]!.parents.push(p);
        this.edgeFrom.push(p);
        this.edgeTo.push(c);
        this.edgeSrc.push(src);
        this.edgeOffset.push(s.offset);
      }
    }
  }

  private hasEdge(p: number, c: number): boolean {
    const kids = this.nodes[p]!.children;
    if (kids.length < 32) return kids.includes(c);
    let set = this.childSets.get(p);
    if (!set) this.childSets.set(p, (set = new Set(kids)));
    if (set.has(c)) return true;
    set.add(c); // it is about to be added
    return false;
  }

  /** Node indexes for PARENT/CHILD names; a splice name stands for its terminal (parents) or initial (children) nodes. */
  private endpoints(scope: Scope, toks: Tok[], src: number, spliceSide: 'initial' | 'terminal'): number[] {
    const out: number[] = [];
    for (const t of toks) {
      const splice = scope.splices.get(t.text);
      if (splice) {
        for (const i of splice[spliceSide]) out.push(i);
        continue;
      }
      if (isAllNodes(t.text)) throw this.err('DAG_SYNTAX', 'PARENT/CHILD does not accept ALL_NODES', src, t);
      const node = this.lookupNode(scope, t, src);
      if (node.type === 'FINAL')
        throw this.err('DAG_SYNTAX', `the FINAL node ${node.name} cannot be a parent or a child`, src, t);
      out.push(node.index);
    }
    return out;
  }

  /**
   * The nodes a per-node statement applies to: one node, or with ALL_NODES every node of this file except the
   * FINAL node. Naming the FINAL node explicitly is an error for RETRY, ABORT-DAG-ON, PRIORITY and CATEGORY.
   */
  private each(
    scope: Scope,
    tok: Tok,
    src: number,
    what: string,
    finalRule: 'skip' | 'error',
    fn: (n: DagNode) => void,
  ): void {
    if (isAllNodes(tok.text)) {
      for (const n of scope.own) if (n.type !== 'FINAL') fn(n);
      return;
    }
    const node = this.lookupNode(scope, tok, src);
    if (node.type === 'FINAL' && finalRule === 'error') {
      throw this.err('DAG_SYNTAX', `the FINAL node ${node.name} cannot have a ${what} specification`, src, tok);
    }
    fn(node);
  }

  private lookupNode(scope: Scope, tok: Tok, src: number): DagNode {
    const node = this.byName.get(scope.prefix + tok.text);
    if (node) return node;
    const isSplice = scope.splices.has(tok.text);
    const hint = isSplice
      ? `${tok.text} is a splice; name one of its nodes as ${tok.text}+<node>`
      : this.suggest(scope, tok.text);
    throw this.err('DAG_UNKNOWN_NODE', `unknown node ${tok.text}`, src, tok, hint);
  }

  private suggest(scope: Scope, name: string): string | undefined {
    const want = name.toLowerCase();
    let best: string | undefined;
    let bestD = Math.max(2, Math.floor(name.length / 3)) + 1;
    for (const n of this.nodes) {
      if (!n.name.startsWith(scope.prefix)) continue;
      const local = n.name.slice(scope.prefix.length);
      if (Math.abs(local.length - name.length) >= bestD) continue;
      const d = editDistance(want, local.toLowerCase(), bestD);
      if (d < bestD) {
        bestD = d;
        best = local;
      }
    }
    return best === undefined ? undefined : `did you mean ${best}?`;
  }

  private categoryName(scope: Scope, name: string): string {
    return name.startsWith('+') ? name : scope.prefix + name;
  }

  private checkNodeName(tok: Tok, src: number, what: 'node' | 'splice'): void {
    const t = tok.text;
    if ((t.length === 5 || t.length === 6 || t.length === 9) && RESERVED.has(t.toUpperCase()))
      throw this.err('DAG_SYNTAX', `${tok.text} is a reserved word and cannot name a ${what}`, src, tok);
    if (tok.text.includes('+')) {
      throw this.err(
        'DAG_SYNTAX',
        `${what} name ${tok.text} contains '+', which is reserved for spliced node names`,
        src,
        tok,
      );
    }
  }

  private checkDir(dir: string, src: number, tok: Tok): void {
    let ok = this.dirChecked.get(dir);
    if (ok === undefined) {
      ok = this.isDirectory(dir);
      this.dirChecked.set(dir, ok);
    }
    if (!ok) throw this.err('DAG_SYNTAX', `DIR ${tok.text} is not a directory (${dir})`, src, tok);
  }

  private checkCategories(): void {
    for (const [cat, max] of this.maxJobs) {
      if (!this.categoryUse.get(cat))
        this.warnings.push({ message: `MAXJOBS ${cat} ${max}: no node is in category ${cat}` });
    }
  }

  private resolveDescriptions(): void {
    if (this.descriptions.size === 0) return;
    for (const n of this.nodes) {
      if (n.file !== undefined && n.submitDescription === undefined) {
        const scopePrefix = n.name.slice(0, n.name.lastIndexOf('+') + 1);
        const text = this.descriptions.get(scopePrefix + n.file) ?? this.descriptions.get(n.file);
        if (text !== undefined) n.submitDescription = text;
      }
    }
  }

  /** Iterative DFS; a back edge closes a cycle, which is reported with its nodes, at the PARENT line that closed it. */
  private checkAcyclic(): void {
    const n = this.nodes.length;
    const state = new Uint8Array(n); // 0 new, 1 on the stack, 2 done
    const stackPos = new Int32Array(n).fill(-1);
    const stack: number[] = [];
    const next: number[] = [];
    for (let root = 0; root < n; root++) {
      if (state[root] !== 0) continue;
      stack.push(root);
      next.push(0);
      state[root] = 1;
      stackPos[root] = 0;
      while (stack.length) {
        const top = stack.length - 1;
        const u = stack[top]!;
        const kids = this.nodes[u]!.children;
        const i = next[top]!;
        if (i < kids.length) {
          next[top] = i + 1;
          const v = kids[i]!;
          if (state[v] === 0) {
            state[v] = 1;
            stackPos[v] = stack.length;
            stack.push(v);
            next.push(0);
          } else if (state[v] === 1) {
            const cycle = stack.slice(stackPos[v]!).map((k) => this.nodes[k]!.name);
            cycle.push(this.nodes[v]!.name);
            throw this.cycleError(u, v, cycle);
          }
        } else {
          state[u] = 2;
          stackPos[u] = -1;
          stack.pop();
          next.pop();
        }
      }
    }
  }

  private cycleError(u: number, v: number, cycle: string[]): SourceError {
    let e = 0;
    while (e < this.edgeFrom.length && !(this.edgeFrom[e] === u && this.edgeTo[e] === v)) e++;
    const src = this.edgeSrc[e]!;
    const source = this.sources[src]!;
    // Point at the child's name in the PARENT line that closed the cycle, when it is written there.
    const stmtOffset = this.edgeOffset[e]!;
    const line = source.lineText(source.position(stmtOffset).line);
    const childLocal = cycle[cycle.length - 1]!.slice(cycle[cycle.length - 1]!.lastIndexOf('+') + 1);
    const col = findWord(line, childLocal, line.toUpperCase().indexOf('CHILD'));
    const offset = col >= 0 ? stmtOffset - source.position(stmtOffset).column + 1 + col : stmtOffset;
    return dagError(
      'DAG_CYCLE',
      `cycle in the DAG: ${cycle.join(' -> ')}`,
      source,
      offset,
      col >= 0 ? childLocal.length : undefined,
    );
  }

  // ------------------------------------------------------------------------------------------ diagnostics

  private err(
    code: 'DAG_SYNTAX' | 'DAG_CYCLE' | 'DAG_UNKNOWN_NODE',
    message: string,
    src: number,
    tok: Tok,
    hint?: string,
  ): SourceError {
    return dagError(code, message, this.sources[src]!, tok.offset, tok.text.length || undefined, hint);
  }

  private warn(message: string, src: number, tok: Tok | IntTok): void {
    this.warnings.push({ message, location: locate(this.sources[src]!, tok.offset, tok.text.length) });
  }
}

function isAllNodes(name: string): boolean {
  return name.length === 9 && name.toUpperCase() === ALL_NODES;
}

function where(loc: Location): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

function basenameOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

/** 0-based column of `word` as a whole blank-separated token in `line`, searching from `from`; -1 if absent. */
function findWord(line: string, word: string, from: number): number {
  let i = line.indexOf(word, Math.max(0, from));
  while (i >= 0) {
    const before = i === 0 ? ' ' : line[i - 1]!;
    const after = i + word.length >= line.length ? ' ' : line[i + word.length]!;
    if ((before === ' ' || before === '\t') && (after === ' ' || after === '\t' || after === '\\')) return i;
    i = line.indexOf(word, i + 1);
  }
  return -1;
}

/** Levenshtein distance, giving up (returning `limit`) once it cannot be below `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= limit) return limit;
    prev = cur;
  }
  return prev[b.length]!;
}
