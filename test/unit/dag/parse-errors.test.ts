// dag – errors name the file, line and column of the offending token, with a stable code; cycles list their
// nodes; unknown nodes get a suggestion.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SourceError } from '../../../lib/errors.js';
import { parseDagString } from '../../../grammar/dag/index.js';

interface ErrorCase {
  text: string;
  code: 'DAG_SYNTAX' | 'DAG_CYCLE' | 'DAG_UNKNOWN_NODE';
  /** line:column */
  at: string;
  message: RegExp;
  hint?: RegExp;
}

const cases: ErrorCase[] = [
  // syntax
  { text: 'JOB A', code: 'DAG_SYNTAX', at: '1:6', message: /^expected submit description file but found end of line$/ },
  { text: 'JOB\n', code: 'DAG_SYNTAX', at: '1:4', message: /^expected node name but found end of line$/ },
  {
    text: 'JOB A a.sub extra\n',
    code: 'DAG_SYNTAX',
    at: '1:13',
    message: /^expected DIR, NOOP, DONE or end of line but found "extra"$/,
  },
  {
    text: 'JOB A a.sub NOOP DIR x\n',
    code: 'DAG_SYNTAX',
    at: '1:18',
    message: /^expected DONE or end of line but found "DIR"$/,
  },
  { text: 'JOB A a.sub DIR\n', code: 'DAG_SYNTAX', at: '1:16', message: /expected directory but found end of line/ },
  {
    text: 'JOB A a\nFROB A\n',
    code: 'DAG_SYNTAX',
    at: '2:1',
    message: /^unknown DAG command FROB: expected JOB, PARENT/,
  },
  {
    text: 'JOB A a\nSERVICE s s.sub\n',
    code: 'DAG_SYNTAX',
    at: '2:1',
    message: /^SERVICE is not supported by dsched$/,
  },
  { text: 'JOB A a\nPARENT A\n', code: 'DAG_SYNTAX', at: '2:9', message: /^expected CHILD but found end of line$/ },
  {
    text: 'JOB A a\nPARENT A B \n',
    code: 'DAG_SYNTAX',
    at: '2:12',
    message: /^expected node name or CHILD but found end of line$/,
  },
  {
    text: 'JOB A a\nPARENT CHILD A\n',
    code: 'DAG_SYNTAX',
    at: '2:8',
    message: /^expected node name but found "CHILD"$/,
  },
  {
    text: 'JOB A a\nPARENT A CHILD\n',
    code: 'DAG_SYNTAX',
    at: '2:15',
    message: /^expected node name but found end of line$/,
  },
  { text: 'JOB A a\nRETRY A three\n', code: 'DAG_SYNTAX', at: '2:9', message: /^expected integer but found "three"$/ },
  {
    text: 'JOB A a\nRETRY A 3 UNLESS 4\n',
    code: 'DAG_SYNTAX',
    at: '2:11',
    message: /^expected UNLESS-EXIT or end of line but found "UNLESS"$/,
  },
  {
    text: 'JOB A a\nRETRY A -1\n',
    code: 'DAG_SYNTAX',
    at: '2:9',
    message: /^invalid RETRY value -1 \(cannot be negative\)$/,
  },
  { text: 'JOB A a\nABORT-DAG-ON A 1 RETURN 300\n', code: 'DAG_SYNTAX', at: '2:25', message: /between 0 and 255/ },
  { text: 'JOB A a\nMAXJOBS cat -2\n', code: 'DAG_SYNTAX', at: '2:13', message: /MAXJOBS value -2/ },
  { text: 'JOB A a\nPRE_SKIP A 0\n', code: 'DAG_SYNTAX', at: '2:12', message: /PRE_SKIP exit code 0/ },
  {
    text: 'JOB A a\nSCRIPT PRE A\n',
    code: 'DAG_SYNTAX',
    at: '2:13',
    message: /^expected script command but found end of line$/,
  },
  {
    text: 'JOB A a\nSCRIPT MID A s.sh\n',
    code: 'DAG_SYNTAX',
    at: '2:8',
    message: /^expected DEFER, DEBUG or PRE, POST or HOLD but found "MID"$/,
  },
  { text: 'JOB A a\nSCRIPT DEFER 0 10 PRE A s.sh\n', code: 'DAG_SYNTAX', at: '2:14', message: /DEFER status 0/ },
  { text: 'JOB A a\nVARS A\n', code: 'DAG_SYNTAX', at: '2:7', message: /^expected macroname but found end of line$/ },
  {
    text: 'JOB A a\nVARS A %x="1"\n',
    code: 'DAG_SYNTAX',
    at: '2:8',
    message: /^expected PREPEND or APPEND or macroname but found "%x="1""$/,
  },
  { text: 'JOB A a\nVARS A x=1\n', code: 'DAG_SYNTAX', at: '2:10', message: /^expected quoted value but found "1"$/ },
  {
    text: 'JOB A a\nVARS A x="abc\n',
    code: 'DAG_SYNTAX',
    at: '2:10',
    message: /^missing closing quote in a VARS value$/,
  },
  { text: 'JOB A a\nVARS A x="a\\nb"\n', code: 'DAG_SYNTAX', at: '2:12', message: /unknown escape sequence "\\n"/ },
  { text: 'JOB A a\nVARS A x="1"y="2"\n', code: 'DAG_SYNTAX', at: '2:13', message: /found "y="2""/ },
  { text: 'JOB A a\nVARS A queue_x="1"\n', code: 'DAG_SYNTAX', at: '2:8', message: /cannot begin with "queue"/ },
  { text: 'JOB A a\nVARS A a+b="1"\n', code: 'DAG_SYNTAX', at: '2:9', message: /expected "="/ },
  { text: 'JOB A {\nexecutable = x\n', code: 'DAG_SYNTAX', at: '3:1', message: /expected closing }/ },
  // names
  { text: 'JOB PARENT a\n', code: 'DAG_SYNTAX', at: '1:5', message: /reserved word/ },
  { text: 'JOB all_nodes a\n', code: 'DAG_SYNTAX', at: '1:5', message: /reserved word/ },
  { text: 'JOB A+B a\n', code: 'DAG_SYNTAX', at: '1:5', message: /contains '\+'/ },
  {
    text: 'JOB A a\n\njob A b\n',
    code: 'DAG_SYNTAX',
    at: '3:5',
    message: /^node A is already defined at .*case\.dag:1:5$/,
  },
  { text: 'FINAL F f\nFINAL G g\n', code: 'DAG_SYNTAX', at: '2:7', message: /at most one FINAL node/ },
  {
    text: 'JOB A a\nFINAL F f\nPARENT A CHILD F\n',
    code: 'DAG_SYNTAX',
    at: '3:16',
    message: /FINAL node F cannot be a parent or a child/,
  },
  { text: 'FINAL F f\nRETRY F 2\n', code: 'DAG_SYNTAX', at: '2:7', message: /FINAL node F cannot have a RETRY/ },
  { text: 'FINAL F f\nPRIORITY F 2\n', code: 'DAG_SYNTAX', at: '2:10', message: /cannot have a PRIORITY/ },
  { text: 'FINAL F f\nDONE F\n', code: 'DAG_SYNTAX', at: '2:6', message: /cannot be marked DONE/ },
  { text: 'CONFIG a.cfg\nCONFIG b.cfg\n', code: 'DAG_SYNTAX', at: '2:8', message: /only one CONFIG file/ },
  // unknown nodes
  {
    text: 'JOB A a\nPARENT A CHILD X\n',
    code: 'DAG_UNKNOWN_NODE',
    at: '2:16',
    message: /^unknown node X$/,
    hint: /did you mean A\?/,
  },
  {
    text: 'JOB Alpha a\nJOB Beta b\nPARENT Alpah CHILD Beta\n',
    code: 'DAG_UNKNOWN_NODE',
    at: '3:8',
    message: /^unknown node Alpah$/,
    hint: /^did you mean Alpha\?$/,
  },
  { text: 'JOB A a\nVARS Nope x="1"\n', code: 'DAG_UNKNOWN_NODE', at: '2:6', message: /unknown node Nope/ },
  { text: 'JOB A a\nSCRIPT POST Zed s.sh\n', code: 'DAG_UNKNOWN_NODE', at: '2:13', message: /unknown node Zed/ },
  { text: 'JOB A a\nRETRY b 2\n', code: 'DAG_UNKNOWN_NODE', at: '2:7', message: /unknown node b/ },
  { text: 'JOB A a\nDONE B\n', code: 'DAG_UNKNOWN_NODE', at: '2:6', message: /unknown node B/ },
  { text: 'JOB A a\nCATEGORY Q c\n', code: 'DAG_UNKNOWN_NODE', at: '2:10', message: /unknown node Q/ },
  // cycles
  { text: 'JOB A a\nPARENT A CHILD A\n', code: 'DAG_CYCLE', at: '2:16', message: /^cycle in the DAG: A -> A/ },
  {
    text: 'JOB A a\nJOB B b\nPARENT A CHILD B\nPARENT B CHILD A\n',
    code: 'DAG_CYCLE',
    at: '4:16',
    message: /^cycle in the DAG: A -> B -> A$/,
  },
  {
    text: 'JOB A a\nJOB B b\nJOB C c\nJOB D d\nJOB E e\nPARENT A CHILD B\nPARENT B CHILD C D\nPARENT D CHILD E\nPARENT E CHILD B\n',
    code: 'DAG_CYCLE',
    at: '9:16',
    message: /^cycle in the DAG: B -> D -> E -> B$/,
  },
];

describe('dag parse – errors', () => {
  for (const c of cases) {
    test(`dag parse – ${c.code} at ${c.at}: ${JSON.stringify(c.text.split('\n').filter(Boolean).pop())}`, () => {
      let err: unknown;
      try {
        parseDagString(c.text, 'case.dag', { cwd: '/w', isDirectory: () => true });
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof SourceError, `expected a SourceError, got ${String(err)}`);
      assert.equal(err.code, c.code);
      assert.equal(`${err.location.line}:${err.location.column}`, c.at, err.message);
      assert.equal(err.location.file, '/w/case.dag');
      assert.match(err.bareMessage, c.message);
      if (c.hint) assert.match(err.hint ?? '', c.hint);
      // the text says where, and quotes the line
      assert.ok(err.message.includes(`--> /w/case.dag:${c.at}`), err.message);
      assert.ok(err.sourceLine !== undefined);
    });
  }

  test('dag parse – a missing DIR directory is an error at the directory', () => {
    assert.throws(
      () => parseDagString('JOB A a.sub DIR nowhere\n', 'case.dag', { cwd: '/w', isDirectory: () => false }),
      (e: unknown) => e instanceof SourceError && e.location.column === 17 && /not a directory/.test(e.message),
    );
  });

  test('dag parse – a missing DAG file says which', () => {
    assert.throws(
      () =>
        parseDagString('INCLUDE nope.dag\n', 'case.dag', {
          cwd: '/w',
          readFile: () => {
            throw Object.assign(new Error('x'), { code: 'ENOENT' });
          },
        }),
      (e: unknown) =>
        e instanceof SourceError && /cannot read \/w\/nope\.dag: ENOENT/.test(e.message) && e.location.column === 9,
    );
  });
});
