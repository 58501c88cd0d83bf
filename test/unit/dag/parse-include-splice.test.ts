// dag – INCLUDE and SPLICE: names, directories, edges to a splice's initial and terminal nodes, scoped
// categories, and errors located in the file that has them.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SourceError } from '../../../lib/errors.js';
import { parseDagFile, type Dag } from '../../../grammar/dag/index.js';

const FIX = new URL('../../fixtures/dag/', import.meta.url).pathname.replace(/\/$/, '');
const SPLICE = join(FIX, 'splice');

const parents = (d: Dag, name: string): string[] =>
  d.byName
    .get(name)!
    .parents.map((i) => d.nodes[i]!.name)
    .sort();

function sourceError(fn: () => unknown): SourceError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SourceError, `expected a SourceError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

describe('dag parse – INCLUDE', () => {
  test('dag include – included statements take part in both passes, paths relative to the DAG working directory', () => {
    const d = parseDagFile('include/main.dag', { cwd: FIX });
    assert.deepEqual(
      d.nodes.map((n) => n.name),
      ['A', 'B', 'C'],
    );
    assert.deepEqual(parents(d, 'B'), ['A']);
    assert.deepEqual(parents(d, 'C'), ['B']);
    assert.equal(d.byName.get('B')!.vars[0]!.value, 'main');
    assert.equal(d.byName.get('B')!.location.file, join(FIX, 'include/more.dag'));
    assert.deepEqual(d.files, [join(FIX, 'include/main.dag'), join(FIX, 'include/more.dag')]);
  });

  test('dag include – an error in an included file names that file, line and column', () => {
    const e = sourceError(() => parseDagFile('include/bad.dag', { cwd: FIX }));
    assert.equal(e.location.file, join(FIX, 'include/broken.dag'));
    assert.deepEqual([e.location.line, e.location.column], [2, 9]);
    assert.match(e.bareMessage, /expected integer but found "three"/);
  });

  test('dag include – an INCLUDE cycle is an error at the INCLUDE', () => {
    const e = sourceError(() => parseDagFile('include/loop.dag', { cwd: FIX }));
    assert.match(e.bareMessage, /INCLUDE cycle: .*loop\.dag -> .*loop\.dag/);
    assert.deepEqual([e.location.line, e.location.column], [2, 9]);
  });

  test('dag include – useDagDir makes paths relative to the DAG file', () => {
    const d = parseDagFile(join(SPLICE, 'top.dag'), { useDagDir: true });
    assert.equal(d.cwd, SPLICE);
  });
});

describe('dag parse – SPLICE', () => {
  test('dag splice – nodes are named splice+node, the splice sits between its parents and children', () => {
    const d = parseDagFile('top.dag', { cwd: SPLICE });
    assert.deepEqual(
      d.nodes.map((n) => n.name),
      ['X', 'Y', 'DIAMOND+A', 'DIAMOND+B', 'DIAMOND+C', 'DIAMOND+D'],
    );
    assert.deepEqual(parents(d, 'DIAMOND+A'), ['X']);
    assert.deepEqual(parents(d, 'DIAMOND+D'), ['DIAMOND+B', 'DIAMOND+C']);
    assert.deepEqual(parents(d, 'Y'), ['DIAMOND+D']);
    // commands in the outer file reach spliced nodes by their full name
    assert.equal(d.byName.get('DIAMOND+C')!.retries, 2);
    // ALL_NODES in the splice: only its own nodes; $(JOB) stays for the submit step (full name there)
    assert.equal(d.byName.get('X')!.vars.length, 0);
    assert.equal(d.byName.get('DIAMOND+A')!.vars[0]!.value, '$(JOB)');
  });

  test('dag splice – categories are scoped unless global, and the outer MAXJOBS wins', () => {
    const d = parseDagFile('top.dag', { cwd: SPLICE });
    assert.equal(d.byName.get('DIAMOND+B')!.category, 'DIAMOND+work');
    assert.equal(d.byName.get('DIAMOND+D')!.category, '+global');
    assert.equal(d.maxJobs.get('DIAMOND+work'), 3);
    assert.equal(d.maxJobs.get('+global'), 2);
  });

  test('dag splice – one file spliced twice and nested splices (the manual s1.dag and toplevel examples)', () => {
    const d = parseDagFile('nested.dag', { cwd: SPLICE });
    assert.equal(d.nodes.length, 1 + 2 + 7 + 7);
    assert.deepEqual(parents(d, 'S3+A'), ['T']);
    // X1's initial nodes follow A; X2's initial nodes follow X1's terminal nodes; B follows X2's terminals
    assert.deepEqual(parents(d, 'S3+X1+B'), ['S3+A']);
    assert.deepEqual(parents(d, 'S3+X2+C'), ['S3+X1+E', 'S3+X1+F', 'S3+X1+G']);
    assert.deepEqual(parents(d, 'S3+B'), ['S3+X2+E', 'S3+X2+F', 'S3+X2+G']);
    assert.deepEqual(parents(d, 'S3+X1+D'), ['S3+X1+A', 'S3+X1+B', 'S3+X1+C']);
  });

  test('dag splice – DIR: the splice file, its INCLUDEs and its nodes resolve in that directory', () => {
    const d = parseDagFile('with-dir.dag', { cwd: SPLICE });
    assert.deepEqual(
      d.nodes.map((n) => n.name),
      ['S+A', 'S+B'],
    );
    assert.equal(d.byName.get('S+A')!.dir, join(SPLICE, 'sub'));
    assert.equal(d.byName.get('S+B')!.dir, join(SPLICE, 'sub/work'));
    assert.equal(d.byName.get('S+B')!.pre!.command, 'check.sh');
    assert.equal(d.byName.get('S+B')!.pre!.location.file, join(SPLICE, 'sub/inner-more.dag'));
  });

  test('dag splice – an unknown node in a spliced file names that file', () => {
    const e = sourceError(() => parseDagFile('bad-inner.dag', { cwd: SPLICE }));
    assert.equal(e.code, 'DAG_UNKNOWN_NODE');
    assert.equal(e.location.file, join(SPLICE, 'broken-splice.dag'));
    assert.deepEqual([e.location.line, e.location.column], [2, 16]);
  });

  test('dag splice – a splice cannot have a FINAL node', () => {
    const e = sourceError(() => parseDagFile('final-in-splice.dag', { cwd: SPLICE }));
    assert.match(e.bareMessage, /a splice cannot have a FINAL node/);
    assert.equal(e.location.file, join(SPLICE, 'has-final.dag'));
  });

  test('dag splice – a splice that splices itself is an error, not a crash', () => {
    const e = sourceError(() => parseDagFile('self.dag', { cwd: SPLICE }));
    assert.match(e.bareMessage, /SPLICE cycle/);
  });

  test('dag splice – a cycle through a splice names the nodes on it', () => {
    const e = sourceError(() => parseDagFile('cycle.dag', { cwd: SPLICE }));
    assert.equal(e.code, 'DAG_CYCLE');
    assert.match(e.bareMessage, /^cycle in the DAG: S\+A -> S\+B -> S\+D -> Z -> S\+A$/);
    assert.equal(e.location.line, 4);
  });
});

describe('dag parse – CONFIG in a splice', () => {
  const files: Record<string, string> = {
    '/d/top.dag': 'CONFIG dagman.cfg\nJOB A a.sub\nSPLICE S s.dag\n',
    '/d/s.dag': 'CONFIG dagman.cfg\nJOB B b.sub\n',
    '/d/other.dag': 'CONFIG dagman.cfg\nSPLICE S t.dag\n',
    '/d/t.dag': 'JOB B b.sub\nCONFIG other.cfg\n',
    '/d/only.dag': 'JOB A a.sub\nSPLICE S s.dag\n',
  };
  const parse = (f: string) => parseDagFile(f, { cwd: '/d', readFile: (p) => files[p] ?? assert.fail(p) });

  test('dag splice – a CONFIG in a splice applies to the whole DAG when it names the same file', () => {
    assert.equal(parse('/d/top.dag').config, '/d/dagman.cfg');
    assert.equal(parse('/d/only.dag').config, '/d/dagman.cfg');
  });

  test('dag splice – a splice naming another CONFIG file is refused at its line (one CONFIG per DAG)', () => {
    const e = sourceError(() => parse('/d/other.dag'));
    // the splice is read first: the error is at the top DAG's CONFIG and names the splice's
    assert.match(e.bareMessage, /only one CONFIG file is allowed \(\/d\/other\.cfg is given at \/d\/t\.dag:2/);
    assert.deepEqual([e.location.file, e.location.line], ['/d/other.dag', 1]);
  });
});
