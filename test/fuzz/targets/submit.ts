// Submit descriptions: generated from the statement forms condor_submit reads (commands, +Attr, macros and
// their functions, every queue form, include of present and missing files, if/elif/else/endif, continuation
// lines) and mutations of the fixtures and test tables. Each goes through loadSubmit + expandSubmit.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { SIMPLE_COMMANDS, SPECIAL_COMMANDS } from '../../../grammar/submit/commands.js';
import { expandSubmit, loadSubmit, type SubmitInput } from '../../../grammar/submit/index.js';
import { loadCorpus, ROOT } from '../corpus.js';
import { COMMON_TOKENS, mutated } from '../mutate.js';
import type { FuzzInput, Target } from '../target.js';

let dir: string | undefined;
/** A submit directory with the fixtures in it (include files, `queue from` tables, executables, a `matching` folder). */
export function submitDir(): string {
  if (dir) return dir;
  dir = mkdtempSync(join(tmpdir(), 'dsched-fuzz-submit-'));
  cpSync(join(ROOT, 'test', 'fixtures', 'submit'), dir, { recursive: true });
  mkdirSync(join(dir, 'in'), { recursive: true });
  for (const n of ['a.txt', 'b.txt', 'c.dat']) writeFileSync(join(dir, 'in', n), `${n}\n`);
  mkdirSync(join(dir, 'in', 'sub.d'), { recursive: true });
  writeFileSync(join(dir, 'self.inc'), 'include : self.inc\n');
  writeFileSync(join(dir, 'loop-a.inc'), 'include : loop-b.inc\n');
  writeFileSync(join(dir, 'loop-b.inc'), 'include : loop-a.inc\n');
  writeFileSync(join(dir, 'big-rows.txt'), Array.from({ length: 3000 }, (_, i) => `r${i} ${i}`).join('\n'));
  return dir;
}

export const ENV: Record<string, string> = {
  HOME: '/home/alice',
  PATH: '/usr/bin:/bin',
  USER: 'alice',
  EMPTY: '',
  LONG: 'x'.repeat(5000),
};

export function submitInput(text: string, extra: Partial<SubmitInput> = {}): SubmitInput {
  return {
    file: 'job.sub',
    text,
    cwd: submitDir(),
    env: ENV,
    owner: 'alice',
    hostname: 'submit.example.org',
    maxProcs: 5000,
    ...extra,
  };
}

const COMMANDS = [...Object.keys(SIMPLE_COMMANDS), ...SPECIAL_COMMANDS.filter((c) => !c.endsWith('.'))];
const MACRO_NAMES = [
  'X',
  'Y',
  'Z',
  'Process',
  'ProcId',
  'Cluster',
  'ClusterId',
  'Item',
  'Step',
  'Row',
  'Node',
  'ItemIndex',
  'name',
  'n',
  'A',
];

const macroRef = fc.oneof(
  fc.constantFrom(...MACRO_NAMES).map((n) => `$(${n})`),
  fc.tuple(fc.constantFrom(...MACRO_NAMES), fc.constantFrom('', 'x', '$(Y)', '')).map(([n, d]) => `$(${n}:${d})`),
  fc.constantFrom(
    '$ENV(HOME)',
    '$ENV(NOPE:dflt)',
    '$ENV(LONG)',
    '$(DOLLAR)',
    '$$(Memory)',
    '$$([Memory * 2])',
    '$INT(X)',
    '$INT(X,%05d)',
    '$REAL(X,%.3f)',
    '$REAL(X,%n)',
    '$INT(Process,%999999d)',
    '$RANDOM_CHOICE(a,b,c)',
    '$RANDOM_INTEGER(1,10,2)',
    '$RANDOM_INTEGER(10,1)',
    '$CHOICE(Process,a,b)',
    '$CHOICE(X,)',
    '$SUBSTR(X,1,2)',
    '$SUBSTR(X,-99)',
    '$F(in/a.txt)',
    '$Fpdnxq(X)',
    '$Fqa(X)',
    '$BASENAME(X)',
    '$DIRNAME(X)',
    '$EVAL(1+2)',
    '$EVAL(X)',
    '$STRING(X)',
    '$(X',
    '$()',
    '$(:)',
    '$(X:$(X))',
    '$(X)$(X)$(X)$(X)',
    '$ENV()',
    '$F()',
    '$INT()',
    '$(=)',
  ),
);
const word = fc.oneof(
  fc.constantFrom(
    'a',
    'b c',
    '"quoted ""word"""',
    "'single word'",
    'in/a.txt',
    '/bin/echo',
    'job.sh',
    '1',
    '-1',
    '1GB',
    '2 GB',
    '100M',
    '1.5T',
    '0',
    'true',
    'YES',
    'NO',
    'IF_NEEDED',
    'ON_EXIT',
    'vanilla',
    'local',
    'docker',
    'Memory > 1024',
    'TARGET.Cpus >= 2 && MY.RequestMemory < 10',
    '"A=1 B=2"',
    'A=1;B=2',
    '9223372036854775808',
    '1e309',
    'x'.repeat(300),
    '',
  ),
  macroRef,
  fc.string({ maxLength: 10 }),
);
const value = fc.array(word, { minLength: 0, maxLength: 4 }).map((ws) => ws.join(' '));

const queueLine = fc.oneof(
  fc.constantFrom(
    'queue',
    'Queue',
    'QUEUE 0',
    'queue 3',
    'queue 100000',
    'queue -1',
    'queue $(X)',
    'queue 2 in (a b)',
    'queue name in (a, b, c)',
    'queue name in (\n a\n b\n)',
    'queue name from (\n1\n2\n)',
    'queue a,b from (\n1 2\n3 4\n)',
    'queue from rows.txt',
    'queue a b from rows.txt',
    'queue name from missing.txt',
    'queue name matching in/*.txt',
    'queue name matching files in/*',
    'queue name matching dirs in/*',
    'queue 2 name matching *',
    'queue name in [1:3] (a b c d)',
    'queue name in [::-1] (a b c)',
    'queue name from [5:] big-rows.txt',
    'queue name in [:2:0] (a b)',
    'queue from (',
    'queue x from',
    'queue 1 x',
    'queue 2 a, b, c from (\n1\n)',
    'queue name from (\n)\n',
  ),
  fc
    .tuple(fc.integer({ min: 0, max: 40 }), fc.constantFrom(...MACRO_NAMES), fc.array(word, { maxLength: 4 }))
    .map(([n, v, items]) => `queue ${n} ${v} in (${items.join(', ')})`),
);

const statement = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...COMMANDS), value).map(([c, v]) => `${c} = ${v}`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('+Foo', '+ProjectName', 'MY.Bar', '+a', '+Requirements', '+Owner', '+ClusterId', 'My.', '+'),
        value,
      )
      .map(([c, v]) => `${c} = ${v}`),
  },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...MACRO_NAMES), value).map(([n, v]) => `${n} = ${v}`) },
  { weight: 1, arbitrary: fc.constantFrom('X = $(X)', 'X = $(Y)', 'Y = $(X)', 'X = $(X)$(X)', 'A = $(A:$(A))') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'include : common.inc',
      'include : missing.inc',
      'include ifexist : missing.inc',
      'include : self.inc',
      'include : loop-a.inc',
      'include command : echo hi',
      'include : echo hi |',
      'include :',
      'include : /nonexistent/dir/x',
      'include : in',
      'include : $(X)',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'if $(X)',
      'if defined X',
      'if !defined Y',
      'if version >= 8.0',
      'if $(X) == 1',
      'elif true',
      'elif defined Z',
      'else',
      'endif',
      'if',
      'if 0',
      'if 1',
      'if false',
      'if true && false',
      'error : stop here',
      'warning : careful',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '# comment',
      '',
      '   ',
      'executable = \\',
      '  job.sh',
      'arguments = a \\\n b \\\n c',
      '[',
      'garbage line',
      '=',
      'x =',
      '= y',
    ),
  },
  { weight: 1, arbitrary: queueLine },
);

const generated = fc
  .tuple(fc.array(statement, { maxLength: 25 }), fc.option(queueLine, { nil: undefined }))
  .map(([lines, q]) => ['executable = job.sh', ...lines, ...(q ? [q] : [])].join('\n') + '\n');

function runSubmit(input: FuzzInput): void {
  const plan = loadSubmit(submitInput(input.text));
  expandSubmit(plan, 123);
}

export const submitTarget: Target = {
  name: 'submit',
  ext: 'sub',
  arbitrary() {
    const corpus = loadCorpus().submit;
    const seed = fc.constantFrom(...corpus);
    const tokens = [
      ...COMMANDS.slice(0, 30),
      'queue',
      '$(',
      '$ENV(',
      '$INT(',
      'include : ',
      'if ',
      'endif',
      'else',
      ' from ',
      ' in ',
      ' matching ',
      ...COMMON_TOKENS,
    ];
    return fc
      .oneof(
        { weight: 5, arbitrary: generated },
        { weight: 1, arbitrary: seed },
        { weight: 4, arbitrary: mutated(fc.oneof(seed, generated), corpus, tokens) },
      )
      .map((text) => ({ text }));
  },
  run: runSubmit,
};
