// dag – the fast scanner agrees with the grammar: whenever it accepts a file it builds exactly the statements
// dag.peggy builds, and it accepts the plain files large DAGs are made of.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SourceText } from '../../../grammar/source.js';
import { parseDagText, parseDagTextWithGrammar } from '../../../grammar/dag/parse.js';
import { parseDagString, type Dag } from '../../../grammar/dag/index.js';
import { scanPlainDag } from '../../../grammar/dag/scan.js';

const caseOf = (w: string) => fc.constantFrom(w, w.toLowerCase(), w[0] + w.slice(1).toLowerCase());
const blank = fc.constantFrom(' ', '  ', '\t', ' \t ');
const name = fc.constantFrom(
  'A',
  'B',
  'node1',
  'job.1',
  'x-y',
  'CHILD',
  'child',
  'PRE',
  'DIR',
  'NOOP',
  'DONE',
  'ALL_NODES',
  'a\\b',
  'q"x',
  '{a',
  'x#y',
);
const int = fc.constantFrom('0', '3', '-1', '+2', '12', 'x', '3x', '');
const value = fc
  .array(fc.constantFrom('a', ' ', '\t', '\\\\', '\\"', "'", '#', '$(JOB)', '\\n', '"', '\\'), { maxLength: 6 })
  .map((p) => p.join(''));
const varName = fc.constantFrom('x', 'My.A', '+Attr', 'PREPEND', 'append', 'a_b1', '', '+', '%x');

/** A random line, plain or not, valid or not. */
const line: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      caseOf('JOB'),
      blank,
      name,
      blank,
      fc.constantFrom('a.sub', '"q f.sub"', '{', 'x'),
      fc.array(fc.tuple(blank, fc.constantFrom('DIR', 'dir', 'd', 'NOOP', 'DONE', 'x')), { maxLength: 3 }),
    )
    .map(([k, b1, n, b2, f, opts]) => `${k}${b1}${n}${b2}${f}${opts.map(([b, o]) => b + o).join('')}`),
  fc
    .tuple(caseOf('PARENT'), fc.array(fc.tuple(blank, fc.oneof(name, caseOf('CHILD'))), { maxLength: 5 }))
    .map(([k, xs]) => k + xs.map(([b, x]) => b + x).join('')),
  fc
    .tuple(
      caseOf('VARS'),
      blank,
      name,
      fc.option(fc.tuple(blank, caseOf('PREPEND'))),
      fc.array(
        fc.tuple(
          blank,
          varName,
          fc.constantFrom('=', ' = ', '= ', ''),
          fc.constantFrom('"', ''),
          value,
          fc.constantFrom('"', ''),
        ),
        { maxLength: 3 },
      ),
    )
    .map(
      ([k, b, n, m, pairs]) =>
        `${k}${b}${n}${m ? m[0] + m[1] : ''}${pairs.map(([pb, vn, eq, q1, v, q2]) => `${pb}${vn}${eq}${q1}${v}${q2}`).join('')}`,
    ),
  fc
    .tuple(
      caseOf('SCRIPT'),
      fc.option(fc.tuple(blank, caseOf('DEFER'), blank, int, blank, int)),
      fc.option(fc.tuple(blank, caseOf('DEBUG'), blank, fc.constant('f'), blank, caseOf('ALL'))),
      blank,
      fc.constantFrom('PRE', 'post', 'Hold', 'MID'),
      blank,
      name,
      fc.array(fc.tuple(blank, fc.constantFrom('s.sh', '$JOB', '$RETURN', 'x=$RETURN', '#c')), { maxLength: 3 }),
    )
    .map(
      ([k, d, g, b1, kind, b2, n, args]) =>
        `${k}${d ? d.join('') : ''}${g ? g.join('') : ''}${b1}${kind}${b2}${n}${args.map(([b, a]) => b + a).join('')}`,
    ),
  fc
    .tuple(
      fc.constantFrom('RETRY', 'retry', 'ABORT-DAG-ON', 'PRIORITY', 'PRE_SKIP', 'MAXJOBS', 'CATEGORY', 'DONE'),
      fc.array(fc.tuple(blank, fc.oneof(name, int, caseOf('UNLESS-EXIT'), caseOf('RETURN'))), { maxLength: 5 }),
    )
    .map(([k, xs]) => k + xs.map(([b, x]) => b + x).join('')),
  fc.constantFrom(
    '',
    '   ',
    '# comment',
    '  # indented',
    'FINAL F f.sub',
    'SPLICE S s.dag',
    'DOT d.dot UPDATE',
    'FROB x',
    'JOB A a \\',
    '\\',
    'INCLUDE x.dag',
  ),
  // letters that change under Unicode case mapping, and a DEL where a keyword has _
  fc.constantFrom(
    'SCRIPT poſt A s.sh',
    'PRE_S\u212AIP A 1',
    'PRE\u007fSKIP A 1',
    'VARS A PREPEnd x="1"',
    'VARS A ΑPPEND x="1"',
    'job A a.sub NOOP',
    'JOB A a.sub \u212AOOP',
  ),
);

const file = fc
  .tuple(fc.array(line, { maxLength: 8 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([ls, nl, last]) => ls.join(nl) + (last ? nl : ''));

/** Only plain lines: what the scanner must accept. */
const plainLine: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      caseOf('JOB'),
      blank,
      fc.constantFrom('A', 'B', 'n1', 'PRE'),
      blank,
      fc.constantFrom('a.sub', 'x'),
      fc.constantFrom('', ' DIR d', ' NOOP', ' DIR d NOOP DONE', ' done'),
    )
    .map((p) => p.join('')),
  fc
    .tuple(
      caseOf('PARENT'),
      blank,
      fc.constantFrom('A', 'A B'),
      blank,
      caseOf('CHILD'),
      blank,
      fc.constantFrom('C', 'C D', 'CHILD'),
    )
    .map((p) => p.join('')),
  fc
    .tuple(
      caseOf('VARS'),
      blank,
      fc.constantFrom('A', 'B'),
      fc.constantFrom('', ' PREPEND', ' APPEND'),
      fc.array(
        fc.tuple(
          blank,
          fc.constantFrom('x', 'My.y', '+z'),
          fc.constantFrom('=', ' = '),
          fc.constantFrom('"1"', '"a b"', '"\\"q\\""', '"\\\\"', '""'),
        ),
        { minLength: 1, maxLength: 3 },
      ),
    )
    .map(([k, b, n, m, ps]) => `${k}${b}${n}${m}${ps.map((p) => p.join('')).join('')}`),
  fc
    .tuple(
      fc.constantFrom('SCRIPT PRE', 'SCRIPT POST', 'script defer 2 30 post'),
      blank,
      fc.constantFrom('A', 'B'),
      blank,
      fc.constantFrom('s.sh', 's.sh $JOB $RETURN'),
    )
    .map((p) => p.join('')),
  fc.constantFrom(
    'RETRY A 2',
    'RETRY A 2 UNLESS-EXIT 3',
    'ABORT-DAG-ON A 1 RETURN 2',
    'PRIORITY A -4',
    'CATEGORY A c',
    'MAXJOBS c 2',
    'PRE_SKIP A 1',
    'DONE A',
    '# c',
    '',
    '  ',
  ),
);
const plainFile = fc.array(plainLine, { maxLength: 12 }).map((ls) => ls.join('\n') + '\n');

/** Mostly meaningful DAGs: nodes first, then lines about them, some of which only the grammar reads. */
const dagLine: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: plainLine.filter((l) => !/^\s*job/i.test(l)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'SCRIPT DEBUG out.txt ALL PRE A pre.sh $JOB',
      'JOB Q "q file.sub" NOOP',
      'JOB I {\nexecutable = /bin/true\n# a comment inside\n}',
      'PARENT A \\\n  CHILD B',
      'VARS B z="1"\r',
      'FINAL F f.sub',
      'DOT d.dot UPDATE',
      'RETRY B 2\r',
      'SET_JOB_ATTR X = 1',
      'JOB A again.sub',
      'PARENT B CHILD A',
      'RETRY A x',
    ),
  },
);
const dagFile = fc
  .array(dagLine, { maxLength: 10 })
  .map(
    (ls) => ['JOB A a.sub', 'JOB B b.sub', 'JOB n1 n.sub', 'JOB C c', 'JOB D d', 'JOB PRE p', ...ls].join('\n') + '\n',
  );

function grammar(text: string): unknown {
  return attempt(() => parseDagTextWithGrammar(new SourceText('f.dag', text)));
}

function attempt(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe('dag scan – agrees with the grammar', () => {
  test('dag scan – whenever the scanner accepts a file, the grammar builds the same statements', () => {
    let accepted = 0;
    fc.assert(
      fc.property(file, (text) => {
        const fast = scanPlainDag(text);
        if (fast === null) return;
        accepted++;
        assert.deepEqual(fast, grammar(text), JSON.stringify(text));
      }),
      { numRuns: 3000 },
    );
    // the random files must exercise the scanner, not only its refusals
    assert.ok(accepted > 150, `only ${accepted} of 3000 random files took the fast path`);
  });

  test('dag scan – the scanner with the grammar for its other lines gives the same statements and errors', () => {
    fc.assert(
      fc.property(file, (text) => {
        assert.deepEqual(
          attempt(() => parseDagText(new SourceText('f.dag', text))),
          grammar(text),
          JSON.stringify(text),
        );
      }),
      { numRuns: 1500 },
    );
  });

  test('dag scan – a whole DAG (two passes that skip lines) means the same with the scanner and with the grammar alone', () => {
    const summary = (d: Dag): unknown =>
      d.nodes.map((n) => ({ ...n, location: `${n.location.line}:${n.location.column}` }));
    const build = (text: string, grammarOnly: boolean): unknown =>
      attempt(() => summary(parseDagString(text, 'f.dag', { cwd: '/w', isDirectory: () => true, grammarOnly })));
    let built = 0;
    fc.assert(
      fc.property(fc.oneof(file, dagFile), (text) => {
        const a = build(text, false);
        assert.deepEqual(a, build(text, true), JSON.stringify(text));
        if (Array.isArray(a) && a.length > 0) built++;
      }),
      { numRuns: 2000 },
    );
    assert.ok(built > 300, `only ${built} random files made a DAG`);
  });

  test('dag scan – continued lines, inline descriptions and comments ending in \\ keep their place', () => {
    const text =
      'JOB A a\n# note \\\nJOB B {\nexecutable = x \\\n}\nPARENT A \\\n  CHILD B\r\nSCRIPT PRE A "q"\nVARS B x="1"\n';
    assert.deepEqual(parseDagText(new SourceText('f.dag', text)), grammar(text));
  });

  test('dag scan – plain files take the fast path', () => {
    fc.assert(
      fc.property(plainFile, (text) => {
        const fast = scanPlainDag(text);
        assert.notEqual(fast, null, JSON.stringify(text));
        assert.deepEqual(fast, grammar(text));
      }),
      { numRuns: 1000 },
    );
  });

  test('dag scan – declines what needs the grammar', () => {
    for (const text of [
      'JOB A "a b.sub"\n',
      'JOB A {\nx = 1\n}\n',
      'PARENT A \\\nCHILD B\n',
      'JOB A a\rb\n',
      'FINAL F f\n',
      'VARS A x="a\\nb"\n',
      'SCRIPT DEBUG f ALL PRE A s\n',
    ]) {
      assert.equal(scanPlainDag(text), null, text);
    }
    assert.deepEqual(scanPlainDag('JOB A a\r\nJOB B b\r\n'), grammar('JOB A a\r\nJOB B b\r\n'));
  });
});
