// DAG files: every statement DAGMan knows, over a small pool of node names (so edges, cycles, duplicates and
// unknown nodes all happen), INCLUDE and SPLICE of in-memory files (present, missing, self-including), and
// mutations of the fixtures and test tables. Each goes through parseDagString (both passes and the graph
// checks) and, for a sample, the grammar-only parser, which must agree with the fast scanner.
import fc from 'fast-check';
import { parseDagString, type Dag } from '../../../grammar/dag/index.js';
import { loadCorpus } from '../corpus.js';
import { COMMON_TOKENS, mutated } from '../mutate.js';
import { Finding, isTypedError, type FuzzInput, type Target } from '../target.js';

const NODES = ['A', 'B', 'C', 'D', 'S', 'S+A', 'ALL_NODES', 'PARENT', 'a.b', 'x'.repeat(200), 'N1'];
const CWD = '/fuzz-dag';
const FILES: Record<string, string> = {
  [`${CWD}/inc.dag`]: 'JOB I1 i.sub\nPARENT A CHILD I1\n',
  [`${CWD}/self.dag`]: 'INCLUDE self.dag\n',
  [`${CWD}/sp.dag`]: 'JOB A a.sub\nJOB B b.sub\nPARENT A CHILD B\n',
  [`${CWD}/sp-self.dag`]: 'SPLICE X sp-self.dag\n',
  [`${CWD}/sp-final.dag`]: 'FINAL F f.sub\n',
  [`${CWD}/broken.dag`]: 'JOB\n',
};
const readFile = (p: string): string => {
  const t = FILES[p];
  if (t === undefined)
    throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
  return t;
};
const isDirectory = (p: string) => p === CWD || p === `${CWD}/dir`;

const node = fc.constantFrom(...NODES);
const nodes = fc.array(node, { minLength: 1, maxLength: 4 }).map((ns) => ns.join(' '));
const num = fc.oneof(
  fc.integer({ min: -2, max: 20 }).map(String),
  fc.constantFrom('99999999999999999999', '2147483648', '1.5', 'x', '', '-0'),
);
const file = fc.constantFrom(
  'a.sub',
  'inc.dag',
  'missing.dag',
  'self.dag',
  'sp.dag',
  'sp-self.dag',
  'sp-final.dag',
  'broken.dag',
  '/abs/x.sub',
  '"quoted file.sub"',
  '../up.sub',
  'dir',
  '',
);
const vars = fc
  .array(
    fc
      .tuple(
        fc.constantFrom('k', '+attr', 'My.x', '_x', 'queue', '', '1bad', 'k-k'),
        fc.constantFrom('"v"', '"a \\" b"', '"\\\\"', '"$(JOB)"', '"unterminated', 'bare', '""', '"\\n"'),
      )
      .map(([k, v]) => `${k}=${v}`),
    { maxLength: 3 },
  )
  .map((vs) => vs.join(' '));

const statement = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.constantFrom('JOB', 'job', 'Job'),
        node,
        file,
        fc.constantFrom('', 'DIR dir', 'NOOP', 'DONE', 'DIR missing NOOP DONE', 'DIR', 'EXTRA'),
      )
      .map((p) => p.join(' ')),
  },
  { weight: 4, arbitrary: fc.tuple(nodes, nodes).map(([p, c]) => `PARENT ${p} CHILD ${c}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('PARENT A', 'PARENT CHILD B', 'PARENT A CHILD', 'CHILD A', 'PARENT A CHILD A'),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('', 'DEFER 1 2 ', 'DEFER x ', 'DEBUG log STDOUT ', 'DEBUG log BOTH '),
        fc.constantFrom('PRE', 'POST', 'HOLD', 'MID'),
        node,
        fc.constantFrom('s.sh $JOB $RETURN', 's.sh', '', '$MAX_RETRIES $DAG_STATUS $FAILED_COUNT'),
      )
      .map(([o, k, n, c]) => `SCRIPT ${o}${k} ${n} ${c}`),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('', 'PREPEND ', 'APPEND '), node, vars)
      .map(([o, n, v]) => `VARS ${o}${n} ${v}`),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(node, num, fc.constantFrom('', 'UNLESS-EXIT 2', 'UNLESS-EXIT', 'UNLESS-EXIT x'))
      .map(([n, r, u]) => `RETRY ${n} ${r} ${u}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(node, num, fc.constantFrom('', 'RETURN 1', 'RETURN', 'RETURN 999'))
      .map(([n, r, u]) => `ABORT-DAG-ON ${n} ${r} ${u}`),
  },
  { weight: 1, arbitrary: fc.tuple(node, num).map(([n, p]) => `PRIORITY ${n} ${p}`) },
  { weight: 1, arbitrary: fc.tuple(nodes, fc.constantFrom('cat', 'c+d', '')).map(([n, c]) => `CATEGORY ${n} ${c}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('cat', 'c+d', ''), num).map(([c, n]) => `MAXJOBS ${c} ${n}`) },
  { weight: 1, arbitrary: fc.tuple(node, num).map(([n, c]) => `PRE_SKIP ${n} ${c}`) },
  { weight: 1, arbitrary: node.map((n) => `DONE ${n}`) },
  {
    weight: 1,
    arbitrary: fc.tuple(node, file, fc.constantFrom('', 'DIR dir', 'NOOP')).map(([n, f, o]) => `FINAL ${n} ${f} ${o}`),
  },
  { weight: 1, arbitrary: fc.tuple(node, file).map(([n, f]) => `SUBDAG EXTERNAL ${n} ${f}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(node, file, fc.constantFrom('', 'DIR dir', 'DIR missing'))
      .map(([n, f, o]) => `SPLICE ${n} ${f} ${o}`),
  },
  { weight: 1, arbitrary: file.map((f) => `INCLUDE ${f}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('desc', 'd2'), fc.constantFrom('executable = /bin/true\nqueue', 'queue', '', '}', 'a = {'))
      .map(([n, b]) => `SUBMIT-DESCRIPTION ${n} {\n${b}\n}`),
  },
  { weight: 1, arbitrary: fc.tuple(node).map(([n]) => `JOB ${n} {\nexecutable = /bin/true\nqueue\n}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'CONFIG dagman.config',
      'CONFIG',
      'DOT dag.dot',
      'DOT dag.dot UPDATE OVERWRITE INCLUDE head.dot',
      'DOT',
      'DOT x NOPE',
      'NODE_STATUS_FILE st.txt',
      'NODE_STATUS_FILE st.txt 30 ALWAYS-UPDATE',
      'NODE_STATUS_FILE st.txt -5',
      'NODE_STATUS_FILE',
      'JOBSTATE_LOG js.log',
      'JOBSTATE_LOG',
      'SET_JOB_ATTR a = 1',
      'SET_JOB_ATTR a',
      'SET_JOB_ATTR = ',
      'ENV GET PATH HOME',
      'ENV SET A=1;B=2',
      'ENV SET',
      'ENV',
      'REJECT',
      'SAVE_POINT_FILE A',
      'SAVE_POINT_FILE A /abs/sp',
      'SAVE_POINT_FILE',
      '# comment',
      '',
      'JOB A a.sub \\',
      '  PARENT A \\\n CHILD B',
      'UNKNOWN stmt',
      'JOB',
      'JOB A',
      'VARS',
      'VARS A',
      'RETRY',
    ),
  },
);

const generated = fc.array(statement, { maxLength: 25 }).map((lines) => lines.join('\n') + '\n');
// a big DAG: many nodes and a long chain or a wide fan (the graph code recurses or loops over these)
const big = fc.oneof(
  fc
    .integer({ min: 1000, max: 20000 })
    .map(
      (n) =>
        Array.from({ length: n }, (_, i) => `JOB n${i} a.sub`).join('\n') +
        '\n' +
        Array.from({ length: n - 1 }, (_, i) => `PARENT n${i} CHILD n${i + 1}`).join('\n') +
        '\n',
    ),
  fc
    .integer({ min: 1000, max: 20000 })
    .map(
      (n) =>
        Array.from({ length: n }, (_, i) => `JOB n${i} a.sub`).join('\n') +
        `\nPARENT ${Array.from({ length: n }, (_, i) => `n${i}`).join(' ')} CHILD n0\n`,
    ),
  fc
    .integer({ min: 100, max: 2000 })
    .map(
      (n) =>
        Array.from({ length: n }, (_, i) => `JOB n${i} a.sub\nPARENT ${i ? `n${i - 1}` : 'n0'} CHILD n${i}`).join(
          '\n',
        ) + '\n',
    ),
);

const OPTS = { cwd: CWD, readFile, isDirectory };

function shape(d: Dag): string {
  return JSON.stringify([d.nodes.map((n) => [n.name, n.parents, n.children]), d.edgeCount, d.warnings.length]);
}

function runDag(input: FuzzInput): void {
  const text = input.text;
  let fast: Dag | undefined;
  let fastErr: unknown;
  try {
    fast = parseDagString(text, 'fuzz.dag', OPTS);
  } catch (e) {
    if (!isTypedError(e)) throw e;
    fastErr = e;
  }
  // the fast scanner and the grammar must agree (errors included); checked on a third of the inputs (chosen by
  // length, so a replay checks the same ones), as it doubles the cost
  if (text.length % 3 !== 0 || text.length > 20_000) {
    if (fastErr) throw fastErr;
    return;
  }
  let slow: Dag | undefined;
  let slowErr: unknown;
  try {
    slow = parseDagString(text, 'fuzz.dag', { ...OPTS, grammarOnly: true });
  } catch (e) {
    if (!isTypedError(e)) throw e;
    slowErr = e;
  }
  const code = (e: unknown) => (e as { code?: string } | undefined)?.code;
  if (code(fastErr) !== code(slowErr)) {
    throw new Finding(
      'the fast scanner and the grammar disagree on errors',
      `the fast scanner and the grammar disagree: ${code(fastErr) ?? 'accepted'} vs ${code(slowErr) ?? 'accepted'}`,
    );
  }
  if (fast && slow && shape(fast) !== shape(slow))
    throw new Finding(
      'the fast scanner and the grammar build different DAGs',
      'the fast scanner and the grammar build different DAGs',
    );
  if (fastErr) throw fastErr;
}

export const dagTarget: Target = {
  name: 'dag',
  ext: 'dag',
  arbitrary() {
    const corpus = loadCorpus().dag;
    const seed = fc.constantFrom(...corpus);
    const tokens = [
      'JOB ',
      'PARENT ',
      ' CHILD ',
      'SPLICE ',
      'INCLUDE ',
      'VARS ',
      'RETRY ',
      'SCRIPT ',
      'FINAL ',
      'DIR ',
      'NOOP',
      'DONE',
      '+',
      '{',
      '}',
      '"',
      '\\"',
      ...COMMON_TOKENS,
    ];
    return fc
      .oneof(
        { weight: 5, arbitrary: generated },
        { weight: 1, arbitrary: seed },
        { weight: 4, arbitrary: mutated(fc.oneof(seed, generated), corpus, tokens) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 99 }).chain((n) => (n === 0 ? big : generated)) },
      )
      .map((text) => ({ text }));
  },
  run: runDag,
};
