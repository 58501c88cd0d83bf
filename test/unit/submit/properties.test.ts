// submit properties – random and mutated input only ever gives a result or a SourceError, and
// macro expansion always terminates.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { SourceError } from '../../../lib/errors.js';
import { expandSubmit, loadSubmit, parseEnv, splitArgs } from '../../../grammar/submit/index.js';
import { FIXTURES, input, scratch, type Scratch } from './helpers.js';

let s: Scratch;
before(() => {
  s = scratch();
  s.write('prog.sh', '#!/bin/sh\n', 0o755);
  s.write('rows.txt', 'a 1\nb 2\n');
  s.write('common.inc', 'request_cpus = 2\n');
  s.write('d1/x', '');
});
after(() => s.cleanup());

/** Load and expand; any exception other than SourceError fails the property. */
function submitOrSourceError(text: string, extra: Parameters<typeof input>[2] = {}): void {
  try {
    const plan = loadSubmit(input(s.dir, text, { maxProcs: 2000, ...extra }));
    const { jobs } = expandSubmit(plan, 5);
    assert.ok(Array.isArray(jobs.procs));
    for (const p of jobs.procs) assert.equal(typeof p.ProcId, 'string');
  } catch (e) {
    if (e instanceof SourceError) {
      assert.ok(e.location.line >= 1 && e.location.column >= 1, 'a location');
      return;
    }
    throw e;
  }
}

const SEEDS = [
  `executable = prog.sh\narguments = "a 'b c' ""d"""\nenvironment = "A=1 B='x y'"\noutput = o.$(Process)\nqueue 3\n`,
  `executable = prog.sh\nN = 2\nif $(N) > 1\n  +Big = true\nelse\n  +Big = false\nendif\nqueue $(N) x from (\n a 1\n b 2\n)\n`,
  `executable = prog.sh\nrequest_memory = 2GB\nrequirements = Memory > 1024 && Arch == "X86_64"\ninclude : common.inc\nqueue in [0:2] (p q r)\n`,
  `executable = prog.sh\narguments = $INT(N,%03d) $SUBSTR(S,1) $Fnx(P)\nN = 5\nS = hello\nP = /a/b.c\nqueue matching dirs d*\n`,
  readFileSync(join(FIXTURES, 'script.job'), 'utf8').replace('test.py', 'prog.sh'),
  readFileSync(join(FIXTURES, 'simple.job'), 'utf8').replace('/usr/local/bin/python3.5', 'prog.sh'),
];

const PBS_SEEDS = [
  readFileSync(join(FIXTURES, 'test.py'), 'utf8').replace('0-99', '0-9'),
  '#!/bin/sh\n#PBS -N x -l select=2:ncpus=2:mem=1gb\n#PBS -v "A=1,B=2" -j oe\n#PBS -W depend=afterok:1.h\necho\n',
];

/** A mutation: delete, duplicate, or insert a tricky fragment at a position. */
const FRAGMENTS = [
  '$(',
  ')',
  '"',
  "'",
  '\\\n',
  '\n',
  '(',
  '$(Process)',
  '$(a)',
  'queue',
  ' in ',
  ' from ',
  '[',
  ':',
  '=',
  '#',
  '$$(',
  '$INT(',
  '+',
  'if ',
  'endif\n',
  '@=x\n',
  '\r',
  '\u0000',
  '-J ',
  '#PBS -',
  ',',
  '9999999',
];

const mutated = (seeds: string[]) =>
  fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 }), fc.constantFrom(...FRAGMENTS), fc.nat({ max: 8 })), {
        minLength: 1,
        maxLength: 6,
      }),
    )
    .map(([seed, muts]) => {
      let t = seed;
      for (const [pos, kind, frag, len] of muts) {
        const p = t.length ? pos % t.length : 0;
        if (kind === 0) t = t.slice(0, p) + t.slice(p + len);
        else if (kind === 1) t = t.slice(0, p) + frag + t.slice(p);
        else t = t.slice(0, p) + t.slice(p, p + len) + t.slice(p);
      }
      return t;
    });

describe('submit properties', () => {
  test('submit properties – random bytes give a result or a SourceError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        submitOrSourceError(Buffer.from(bytes).toString('latin1'));
        submitOrSourceError(Buffer.from(bytes).toString('utf8'));
      }),
      { numRuns: 300 },
    );
  });

  test('submit properties – random text built from submit tokens gives a result or a SourceError', () => {
    const line = fc.oneof(
      fc.constantFrom(
        'executable = prog.sh',
        'queue',
        'queue 2',
        'arguments = "x y"',
        'if true',
        'else',
        'endif',
        'a = $(b)',
        'b = $(a)',
        'output = $(a)',
        '+X = 1',
      ),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => submitOrSourceError(lines.join('\n'))),
      { numRuns: 300 },
    );
  });

  test('submit properties – mutated submit files give a result or a SourceError', () => {
    fc.assert(
      fc.property(mutated(SEEDS), (text) => submitOrSourceError(text)),
      { numRuns: 400 },
    );
  });

  test('submit properties – mutated #PBS scripts give a result or a SourceError', () => {
    s.write('job.pbs', '#!/bin/sh\n', 0o755);
    fc.assert(
      fc.property(mutated(PBS_SEEDS), (text) => submitOrSourceError(text, { file: 'job.pbs' })),
      { numRuns: 300 },
    );
  });

  test('submit properties – random qsub command lines give a result or a SourceError', () => {
    s.write('job.pbs', '#!/bin/sh\n', 0o755);
    const arg = fc.oneof(
      fc.constantFrom(
        '-N',
        'x',
        '-l',
        'ncpus=2',
        'mem=1gb',
        '-J',
        '1-3',
        '-W',
        'depend=afterok:1',
        '-v',
        'A=1',
        '-j',
        'oe',
        '-o',
        '-h',
        '-V',
        '--',
        '/bin/echo',
      ),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 8 }), (args) =>
        submitOrSourceError('#!/bin/sh\necho\n', { file: 'job.pbs', pbsArgs: args }),
      ),
      { numRuns: 300 },
    );
  });

  test('submit properties – macro expansion terminates: random macro graphs end in a value or SUBMIT_MACRO', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const def = fc.tuple(
      fc.constantFrom(...names),
      fc.array(
        fc.oneof(
          fc.constantFrom(...names.map((n) => `$(${n})`), '$(a)$(a)', '$(b:$(c))', 'x', ' '),
          fc.constantFrom('$INT(a)', '$SUBSTR(b,1)'),
        ),
        { maxLength: 4 },
      ),
    );
    fc.assert(
      fc.property(fc.array(def, { minLength: 1, maxLength: 8 }), (defs) => {
        const text = `executable = prog.sh\n${defs.map(([n, parts]) => `${n} = ${parts.join('')}`).join('\n')}\narguments = $(a)$(b)$(c)$(d)$(e)\nqueue\n`;
        const t0 = Date.now();
        try {
          expandSubmit(loadSubmit(input(s.dir, text)), 1);
        } catch (e) {
          if (!(e instanceof SourceError)) throw e;
          assert.ok(['SUBMIT_MACRO', 'SUBMIT_SYNTAX', 'SUBMIT_INVALID'].includes(e.code), e.message);
        }
        assert.ok(Date.now() - t0 < 5000, 'expansion took too long');
      }),
      { numRuns: 300 },
    );
  });

  test('submit properties – doubling macros hit the size limit instead of eating memory', () => {
    const defs = Array.from({ length: 40 }, (_, i) => `m${i} = $(m${i + 1})$(m${i + 1})`).join('\n');
    let err: unknown;
    try {
      expandSubmit(loadSubmit(input(s.dir, `executable = prog.sh\n${defs}\nm40 = xx\narguments = $(m0)\nqueue\n`)), 1);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof SourceError && err.code === 'SUBMIT_MACRO', String(err));
  });

  test('submit properties – long macro chains and deeply nested references end in SUBMIT_MACRO, not a stack overflow', () => {
    const chain = Array.from({ length: 20000 }, (_, i) => `m${i} = $(m${i + 1})`).join('\n');
    const texts = [
      `executable = prog.sh\n${chain}\nm20000 = $(Process)\narguments = $(m0)\nqueue 2\n`,
      `executable = prog.sh\narguments = ${'$('.repeat(5000)}x${')'.repeat(5000)}\nqueue\n`,
      `executable = prog.sh\narguments = ${'$ENV('.repeat(5000)}x${')'.repeat(5000)}\nqueue\n`,
    ];
    for (const text of texts) {
      let err: unknown;
      try {
        expandSubmit(loadSubmit(input(s.dir, text)), 1);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof SourceError && err.code === 'SUBMIT_MACRO', String(err));
    }
  });

  test('submit properties – splitArgs and parseEnv never throw on any string', () => {
    fc.assert(
      fc.property(fc.option(fc.string()), fc.option(fc.string()), (a, b) => {
        splitArgs(a ?? undefined, b ?? undefined);
        parseEnv(a ?? undefined, b ?? undefined);
      }),
      { numRuns: 500 },
    );
  });
});
