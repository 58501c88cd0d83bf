// dag – every statement of the DAGMan language, as a table: DAG text → what the parsed DAG says.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDagString, type Dag, type DagNode } from '../../../grammar/dag/index.js';

const CWD = '/work/dags';
const parse = (text: string, opts = {}): Dag =>
  parseDagString(text, 'case.dag', { cwd: CWD, isDirectory: () => true, ...opts });
const node = (dag: Dag, name: string): DagNode => {
  const n = dag.byName.get(name);
  assert.ok(n, `node ${name} exists`);
  return n;
};
const names = (dag: Dag, idx: number[]): string[] => idx.map((i) => dag.nodes[i]!.name);

interface Case {
  name: string;
  text: string;
  check: (dag: Dag) => void;
}

const cases: Case[] = [
  {
    name: 'JOB with a submit file',
    text: 'JOB A a.sub\n',
    check: (d) => {
      const a = node(d, 'A');
      assert.equal(a.type, 'JOB');
      assert.equal(a.file, 'a.sub');
      assert.equal(a.dir, CWD);
      assert.equal(a.noop, false);
      assert.equal(a.done, false);
      assert.deepEqual(a.location, { file: `${CWD}/case.dag`, line: 1, column: 5, endLine: 1, endColumn: 6 });
    },
  },
  {
    name: 'JOB with DIR, NOOP and DONE in that order, keywords in any case',
    text: 'job A a.sub dir sub/dir Noop done\n',
    check: (d) => {
      const a = node(d, 'A');
      assert.equal(a.dir, `${CWD}/sub/dir`);
      assert.equal(a.noop, true);
      assert.equal(a.done, true);
    },
  },
  {
    name: 'JOB with a quoted submit file and DIR holding blanks',
    text: 'JOB A "my job.sub" DIR "/data/with space"\n',
    check: (d) => {
      assert.equal(node(d, 'A').file, 'my job.sub');
      assert.equal(node(d, 'A').dir, '/data/with space');
    },
  },
  {
    name: 'JOB with an inline submit description',
    text: 'JOB A {\n  executable = /bin/true\n  queue\n}\nJOB B b.sub\n',
    check: (d) => {
      assert.equal(node(d, 'A').submitDescription, '  executable = /bin/true\n  queue\n');
      assert.equal(node(d, 'A').file, undefined);
      assert.equal(node(d, 'B').location.line, 5);
    },
  },
  {
    name: 'SUBMIT-DESCRIPTION named by JOB lines',
    text: 'SUBMIT-DESCRIPTION Desc {\nexecutable = /bin/echo\n}\nJOB A Desc\nJOB B other.sub\n',
    check: (d) => {
      assert.equal(node(d, 'A').submitDescription, 'executable = /bin/echo\n');
      assert.equal(node(d, 'B').submitDescription, undefined);
    },
  },
  {
    name: 'PARENT … CHILD … makes every parent a parent of every child, duplicates once',
    text: 'JOB A a\nJOB B b\nJOB C c\nJOB D d\nPARENT A B CHILD C D\nparent A child C\n',
    check: (d) => {
      assert.deepEqual(names(d, node(d, 'C').parents), ['A', 'B']);
      assert.deepEqual(names(d, node(d, 'A').children), ['C', 'D']);
      assert.equal(d.edgeCount, 4);
    },
  },
  {
    name: 'PARENT before the JOB lines it names (two passes)',
    text: 'PARENT A CHILD B\nJOB A a\nJOB B b\n',
    check: (d) => assert.deepEqual(names(d, node(d, 'B').parents), ['A']),
  },
  {
    name: 'SCRIPT PRE and POST with DAGMan macros kept for run time',
    text: 'JOB A a\nSCRIPT PRE A pre.sh $JOB .gz\nSCRIPT POST A post.sh $RETURN $PRE_SCRIPT_RETURN job_status=$RETURN\n',
    check: (d) => {
      const a = node(d, 'A');
      assert.deepEqual([a.pre?.command, a.pre?.args], ['pre.sh', ['$JOB', '.gz']]);
      assert.deepEqual(
        [a.post?.command, a.post?.args],
        ['post.sh', ['$RETURN', '$PRE_SCRIPT_RETURN', 'job_status=$RETURN']],
      );
      assert.equal(a.post?.location.line, 3);
    },
  },
  {
    name: 'SCRIPT DEFER status time, DEBUG file stream, HOLD',
    text: 'JOB A a\nSCRIPT DEFER 4 30 DEBUG out.txt ALL POST A post.sh\nSCRIPT HOLD A notify.sh $JOB\n',
    check: (d) => {
      assert.deepEqual(node(d, 'A').post?.defer, { status: 4, time: 30 });
      assert.deepEqual(node(d, 'A').post?.debug, { file: 'out.txt', stream: 'ALL' });
      assert.equal(node(d, 'A').hold?.command, 'notify.sh');
    },
  },
  {
    name: 'VARS with DAGMan quoting: \\" and \\\\ escapes, blanks around =, several pairs, + for attributes',
    text: 'JOB A a\nVARS A first="Alberto Contador" second = "\\"\\"Andy\\"\\"" third="Lance\\\\ Armstrong" +Attr="\\"bob\\""\n',
    check: (d) => {
      assert.deepEqual(node(d, 'A').vars, [
        { name: 'first', value: 'Alberto Contador', prepend: true },
        { name: 'second', value: '""Andy""', prepend: true },
        { name: 'third', value: 'Lance\\ Armstrong', prepend: true },
        { name: 'My.Attr', value: '"bob"', prepend: true },
      ]);
    },
  },
  {
    name: 'VARS values keep single quotes, #, tabs and $(JOB)',
    text: 'JOB A a\nVARS A fourth="Vincenzo \'\'The Shark\'\' Nibali" misc="!@#$%^&*()_-=+=[]{}?/" t="a\tb" n="$(JOB)-out"\n',
    check: (d) => {
      assert.deepEqual(
        node(d, 'A').vars.map((v) => v.value),
        ["Vincenzo ''The Shark'' Nibali", '!@#$%^&*()_-=+=[]{}?/', 'a\tb', '$(JOB)-out'],
      );
    },
  },
  {
    name: 'VARS PREPEND and APPEND; the last definition of a macro wins, with a warning',
    text: 'JOB A a\nVARS A PREPEND var1="A"\nVARS A APPEND var2="B"\nVARS A var1="C"\n',
    check: (d) => {
      assert.deepEqual(node(d, 'A').vars, [
        { name: 'var2', value: 'B', prepend: false },
        { name: 'var1', value: 'C', prepend: true },
      ]);
      assert.match(d.warnings[0]!.message, /var1 is already defined/);
    },
  },
  {
    name: 'VARS default is APPEND with appendVarsByDefault',
    text: 'JOB A a\nVARS A x="1"\n',
    check: (d) => assert.equal(node(d, 'A').vars[0]!.prepend, true),
  },
  {
    name: 'RETRY N UNLESS-EXIT v',
    text: 'JOB A a\nJOB B b\nRETRY A 3 UNLESS-EXIT 42\nRetry B 2\n',
    check: (d) => {
      assert.equal(node(d, 'A').retries, 3);
      assert.equal(node(d, 'A').unlessExit, 42);
      assert.equal(node(d, 'B').retries, 2);
      assert.equal(node(d, 'B').unlessExit, undefined);
    },
  },
  {
    name: 'ABORT-DAG-ON v [RETURN r]',
    text: 'JOB A a\nJOB B b\nABORT-DAG-ON A 10 RETURN 1\nabort-dag-on B 0\n',
    check: (d) => {
      assert.deepEqual(node(d, 'A').abortDagOn, { value: 10, returnValue: 1 });
      assert.deepEqual(node(d, 'B').abortDagOn, { value: 0 });
    },
  },
  {
    name: 'PRIORITY (negative too), CATEGORY and MAXJOBS',
    text: 'JOB A a\nJOB B b\nPRIORITY A 10\nPRIORITY B -5\nCATEGORY A big\nMAXJOBS big 2\n',
    check: (d) => {
      assert.equal(node(d, 'A').priority, 10);
      assert.equal(node(d, 'B').priority, -5);
      assert.equal(node(d, 'A').category, 'big');
      assert.equal(d.maxJobs.get('big'), 2);
    },
  },
  {
    name: 'PRE_SKIP',
    text: 'JOB A a\nSCRIPT PRE A pre.sh\nPRE_SKIP A 3\n',
    check: (d) => assert.equal(node(d, 'A').preSkip, 3),
  },
  {
    name: 'DONE marks a node done',
    text: 'JOB A a\nDONE A\n',
    check: (d) => assert.equal(node(d, 'A').done, true),
  },
  {
    name: 'FINAL with DIR and NOOP; ALL_NODES never applies to it',
    text: 'JOB A a\nFINAL F f.sub DIR fin NOOP\nRETRY ALL_NODES 2\nVARS all_nodes x="1"\nSCRIPT PRE F final.sh $DAG_STATUS $FAILED_COUNT\n',
    check: (d) => {
      const f = node(d, 'F');
      assert.equal(f.type, 'FINAL');
      assert.equal(d.final, f);
      assert.equal(f.noop, true);
      assert.equal(f.dir, `${CWD}/fin`);
      assert.equal(f.retries, 0);
      assert.deepEqual(f.vars, []);
      assert.equal(node(d, 'A').retries, 2);
      assert.deepEqual(f.pre?.args, ['$DAG_STATUS', '$FAILED_COUNT']);
    },
  },
  {
    name: 'SUBDAG EXTERNAL',
    text: 'SUBDAG EXTERNAL Y diamond.dag DIR inner NOOP DONE\n',
    check: (d) => {
      const y = node(d, 'Y');
      assert.deepEqual([y.type, y.file, y.dir, y.noop, y.done], ['SUBDAG', 'diamond.dag', `${CWD}/inner`, true, true]);
    },
  },
  {
    name: 'ALL_NODES applies to every node of the file (case-insensitive)',
    text: 'JOB A a\nJOB B b\nSCRIPT PRE ALL_NODES my_script $JOB\nVARS ALL_NODES name="X"\nVARS B name="nodeB"\nPRIORITY all_nodes 3\nCATEGORY ALL_NODES c\nPRE_SKIP ALL_NODES 9\nABORT-DAG-ON ALL_NODES 7\n',
    check: (d) => {
      for (const n of ['A', 'B']) {
        assert.equal(node(d, n).pre?.command, 'my_script');
        assert.equal(node(d, n).priority, 3);
        assert.equal(node(d, n).category, 'c');
        assert.equal(node(d, n).preSkip, 9);
        assert.deepEqual(node(d, n).abortDagOn, { value: 7 });
      }
      assert.equal(node(d, 'A').vars[0]!.value, 'X');
      assert.equal(node(d, 'B').vars[0]!.value, 'nodeB');
    },
  },
  {
    name: 'CONFIG, DOT with options, NODE_STATUS_FILE, JOBSTATE_LOG, SET_JOB_ATTR, ENV',
    text:
      'JOB A a\nCONFIG dagman.config\nDOT dag.dot UPDATE DONT-OVERWRITE INCLUDE head.dot\nNODE_STATUS_FILE st.txt 30 ALWAYS-UPDATE\n' +
      'JOBSTATE_LOG js.log\nSET_JOB_ATTR MyAttr = "a b c"\nENV GET HOME PATH\nENV SET A=1;B=2\n',
    check: (d) => {
      assert.equal(d.config, `${CWD}/dagman.config`);
      assert.deepEqual(d.dot, { file: `${CWD}/dag.dot`, update: true, overwrite: false, include: `${CWD}/head.dot` });
      assert.deepEqual(d.nodeStatusFile, { file: `${CWD}/st.txt`, minUpdateSeconds: 30, alwaysUpdate: true });
      assert.equal(d.jobstateLog, `${CWD}/js.log`);
      assert.deepEqual(d.setJobAttrs, [{ name: 'MyAttr', value: '"a b c"' }]);
      assert.deepEqual(d.env, [
        { kind: 'GET', text: 'HOME PATH' },
        { kind: 'SET', text: 'A=1;B=2' },
      ]);
    },
  },
  {
    name: 'NODE_STATUS_FILE defaults to 60 s; the first one wins',
    text: 'NODE_STATUS_FILE a.status\nNODE_STATUS_FILE b.status 5\n',
    check: (d) => {
      assert.deepEqual(d.nodeStatusFile, { file: `${CWD}/a.status`, minUpdateSeconds: 60, alwaysUpdate: false });
      assert.equal(d.warnings.length, 1);
    },
  },
  {
    name: 'REJECT is remembered',
    text: 'JOB A a\nREJECT\n',
    check: (d) => assert.equal(d.reject?.line, 2),
  },
  {
    name: 'comments, blank lines, tabs, trailing blanks, CRLF and a # inside a line',
    text: '# comment\r\n\r\n   # indented comment\r\n\tJOB\tA\ta.sub   \r\nSCRIPT POST A post.sh #not-a-comment\r\n',
    check: (d) => {
      assert.equal(node(d, 'A').file, 'a.sub');
      assert.deepEqual(node(d, 'A').post?.args, ['#not-a-comment']);
    },
  },
  {
    name: 'a \\ at the end of a line continues the statement',
    text: 'JOB A a\nJOB B b\nJOB C c\nPARENT A \\\n  B CHILD \\\n  C\nJOB D d\n',
    check: (d) => {
      assert.deepEqual(names(d, node(d, 'C').parents), ['A', 'B']);
      assert.equal(node(d, 'D').location.line, 7);
    },
  },
  {
    name: 'node names may hold dots and other characters, but not +',
    text: 'JOB job.1 a\nJOB x-y_z:1 b\nPARENT job.1 CHILD x-y_z:1\n',
    check: (d) => assert.deepEqual(names(d, node(d, 'x-y_z:1').parents), ['job.1']),
  },
  {
    name: 'a node named like a keyword',
    text: 'JOB DIR a\nJOB PRE b\nPARENT DIR CHILD PRE\nSCRIPT PRE PRE s.sh\n',
    check: (d) => {
      assert.deepEqual(names(d, node(d, 'PRE').parents), ['DIR']);
      assert.equal(node(d, 'PRE').pre?.command, 's.sh');
    },
  },
];

describe('dag parse – statements', () => {
  for (const c of cases) {
    test(`dag parse – ${c.name}`, () => c.check(parse(c.text)));
  }
  test('dag parse – appendVarsByDefault makes plain VARS APPEND', () => {
    const d = parse('JOB A a\nVARS A x="1"\n', { appendVarsByDefault: true });
    assert.equal(node(d, 'A').vars[0]!.prepend, false);
  });
  test('dag parse – the seed diamond from a file', async () => {
    const { parseDagFile } = await import('../../../grammar/dag/index.js');
    const dir = new URL('../../fixtures/dag/', import.meta.url).pathname;
    const d = parseDagFile('diamond.dag', { cwd: dir });
    assert.deepEqual(
      d.nodes.map((n) => [n.name, names(d, n.parents).join(',')]),
      [
        ['A', ''],
        ['B', 'A'],
        ['C', 'A'],
        ['D', 'B,C'],
      ],
    );
    assert.equal(d.nodes[0]!.location.line, 7);
  });
});
