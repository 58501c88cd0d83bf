// ClassAd expressions and ads: grammar-aware generation (every operator, escapes, huge numbers, deep nesting,
// every builtin with random arguments) and mutations of the unit tests' tables. Each input is parsed, printed
// and re-read, compiled, and evaluated twice (generated code and closures); the two must print the same.
import fc from 'fast-check';
import { setCodegen } from '../../../grammar/classad/compile.js';
import { functionNames } from '../../../grammar/classad/functions.js';
import {
  ClassAd,
  compile,
  parseClassAd,
  parseExpr,
  printValue,
  unparse,
  type Expr,
} from '../../../grammar/classad/index.js';
import { loadCorpus } from '../corpus.js';
import { mutated } from '../mutate.js';
import { Finding, type FuzzInput, type Target } from '../target.js';

const NAMES = [
  'a',
  'b',
  'x',
  'Self',
  'Cycle',
  'L',
  'Ad',
  'S',
  'R',
  'Big',
  'Owner',
  'RequestCpus',
  'Memory',
  'Cpus',
  'Requirements',
  'Rank',
  'undefinedattr',
  'CurrentTime',
];
const BINARY = [
  '||',
  '&&',
  '|',
  '^',
  '&',
  '==',
  '!=',
  '=?=',
  '=!=',
  ' is ',
  ' isnt ',
  '<',
  '<=',
  '>',
  '>=',
  '<<',
  '>>',
  '>>>',
  '+',
  '-',
  '*',
  '/',
  '%',
];
const UNARY = ['-', '+', '!', '~'];

const int = fc.oneof(
  fc.integer({ min: -3, max: 100 }).map(String),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.constantFrom(
    '9223372036854775807',
    '9223372036854775808',
    '-9223372036854775808',
    '18446744073709551615',
    '0',
    '00',
    '017',
    '08',
    '0x1f',
    '0X',
    '1' + '0'.repeat(400),
  ),
);
const real = fc.oneof(
  fc.double().map((x) => (Number.isFinite(x) ? String(x) : '1e309')),
  fc.constantFrom(
    '1.',
    '.5',
    '1e10',
    '1E-5',
    '1e308',
    '1e309',
    '-1e309',
    '4.9e-324',
    '1.7976931348623157e308',
    '0.0',
    '-0.0',
    '1e',
    '1e+',
  ),
);
const escape = fc.constantFrom(
  '\\n',
  '\\t',
  '\\\\',
  '\\"',
  "\\'",
  '\\x41',
  '\\x',
  '\\u00e9',
  '\\uD800',
  '\\377',
  '\\0',
  '\\q',
  '\\',
  '\\b',
  '\\f',
  '\\r',
  '\\v',
  '\\a',
  '\\?',
);
const str = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.string({ maxLength: 6, unit: 'binary' }).map((s) => s.replace(/["\\]/g, '')) },
      { weight: 1, arbitrary: escape },
    ),
    { maxLength: 5 },
  )
  .map((parts) => `"${parts.join('')}"`);
const name = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...NAMES) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "'odd name'",
      "'a\\'b'",
      'MY.a',
      'TARGET.Memory',
      'my.Self',
      'target.x',
      'PARENT.a',
      '.a',
      'my',
      'target',
    ),
  },
);

const FUNCS = functionNames();

const { expr } = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    int,
    real,
    str,
    name,
    fc.constantFrom(
      'true',
      'false',
      'undefined',
      'error',
      'TRUE',
      'UNDEFINED',
      '{}',
      '[]',
      '{ 1, 2, 3 }',
      '[ a = 1; b = a + 1 ]',
    ),
    fc.tuple(fc.constantFrom(...UNARY), tie('expr')).map(([op, e]) => `${op}${e}`),
    fc.tuple(tie('expr'), fc.constantFrom(...BINARY), tie('expr')).map(([l, op, r]) => `${l} ${op} ${r}`),
    fc.tuple(tie('expr'), fc.constantFrom(...BINARY), tie('expr')).map(([l, op, r]) => `(${l})${op}(${r})`),
    fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, y, n]) => `${c} ? ${y} : ${n}`),
    fc.tuple(tie('expr'), tie('expr')).map(([c, n]) => `${c} ?: ${n}`),
    fc.tuple(tie('expr'), tie('expr')).map(([b, i]) => `${b}[${i}]`),
    fc.tuple(tie('expr'), name).map(([s, n]) => `(${s}).${n}`),
    fc
      .tuple(
        fc.constantFrom(...FUNCS, 'nosuch', 'IFTHENELSE', 'StrCat', 'getenv', 'eval'),
        fc.array(tie('expr'), { maxLength: 4 }),
      )
      .map(([f, a]) => `${f}(${a.join(', ')})`),
    fc.array(tie('expr'), { maxLength: 4 }).map((items) => `{ ${items.join(', ')} }`),
    fc
      .array(fc.tuple(name, tie('expr')), { maxLength: 3 })
      .map((as) => `[ ${as.map(([n, e]) => `${n.replace(/^.*\./, '')} = ${e}`).join('; ')} ]`),
    tie('expr').map((e) => `(${e})`),
  ),
}));

// deep nesting and long chains, which the parser's limits must turn into INPUT_TOO_LARGE and not a stack overflow
const deep = fc.oneof(
  fc.tuple(fc.integer({ min: 150, max: 260 }), expr).map(([n, e]) => '('.repeat(n) + e + ')'.repeat(n)),
  fc
    .tuple(fc.integer({ min: 150, max: 260 }), fc.constantFrom('{', '[a='))
    .map(([n, o]) => o.repeat(n) + '1' + (o === '{' ? '}' : ']').repeat(n)),
  fc
    .tuple(fc.integer({ min: 500, max: 3000 }), fc.constantFrom('-', '!', '~', '+', '- '))
    .map(([n, op]) => op.repeat(n) + '1'),
  fc
    .tuple(fc.integer({ min: 500, max: 5000 }), fc.constantFrom(...BINARY))
    .map(([n, op]) => Array(n).fill('a').join(op)),
  fc
    .tuple(fc.integer({ min: 300, max: 2000 }), fc.constantFrom('1 ? ', 'a[', 'f(', 'strcat('))
    .map(([n, p]) => p.repeat(n) + '1'),
  fc.integer({ min: 200, max: 1500 }).map((n) => 'a' + '.b'.repeat(n)),
  fc
    .integer({ min: 100, max: 600 })
    .map((n) => 'eval("' + 'eval(\\"'.repeat(Math.min(n, 3)) + '1' + '\\")'.repeat(Math.min(n, 3)) + '")'),
);

// an ad with every kind of value, self-reference, cycles and deep lists for the expressions to reach
const MY_AD = `[
  a = 1; b = "two"; x = 2.5; Self = Self; Cycle = Cycle2; Cycle2 = Cycle; L = { 1, "s", { 2, 3 }, [ q = 1 ], undefined, error };
  Ad = [ a = 10; p = parent.a; n = [ m = a ] ]; S = "a,b, c;d"; R = "^(a+)+$"; Big = 9223372036854775807;
  Owner = "alice"; RequestCpus = 4; Memory = 2048; Cpus = 8; Requirements = TARGET.Memory >= MY.Memory; Rank = -Cpus;
  E = eval("a + 1"); Deep = { { { { { 1 } } } } }; EmptyS = ""; Neg = -9223372036854775808
]`;
const TARGET_AD = `[ a = 2; Memory = 4096; Cpus = 2; x = "t"; Requirements = true; Self = MY.Self; L = {}; Ad = [ a = "t" ] ]`;

// answers that may differ between two evaluations: the clock and random()
const NONDETERMINISTIC =
  /random|currentTime|\btime\s*\(|dayTime|CurrentTime|absTime\s*\(\s*\)|splitTime|formatTime|getYear|getMonth|getDay|getHours|getMinutes|getSeconds|timeZoneOffset/i;

function evalBoth(e: Expr, my: ClassAd, target: ClassAd | undefined, what: string, check: boolean): void {
  const viaCodegen = printValue(compile(e)(my, target));
  setCodegen(false);
  let viaClosures: string;
  try {
    viaClosures = printValue(compile(e)(my, target));
  } finally {
    setCodegen(true);
  }
  if (check && viaClosures !== viaCodegen) {
    throw new Finding(
      'generated code and closures disagree',
      `generated code and closures disagree on ${what}: ${viaCodegen.slice(0, 200)} vs ${viaClosures.slice(0, 200)}`,
    );
  }
}

function roundTrip(e: Expr): void {
  const printed = unparse(e);
  let again: string;
  try {
    again = unparse(parseExpr(printed));
  } catch (err) {
    throw new Finding(
      'the printed form does not parse again',
      `the printed form does not parse again: ${printed.slice(0, 200)} (${(err as Error).message.split('\n')[0]})`,
    );
  }
  if (again !== printed)
    throw new Finding(
      'printing is not stable',
      `printing is not stable: ${printed.slice(0, 200)} then ${again.slice(0, 200)}`,
    );
}

let myAd: ClassAd | undefined;
let targetAd: ClassAd | undefined;

function runClassAd(input: FuzzInput): void {
  myAd ??= parseClassAd(MY_AD, '<fuzz my ad>');
  targetAd ??= parseClassAd(TARGET_AD, '<fuzz target ad>');
  const text = input.text;
  const check = !NONDETERMINISTIC.test(text);
  if (text.trimStart().startsWith('[') || /^\s*\w+\s*=(?!=)/.test(text)) {
    // a whole ad: every attribute evaluated in it, against the target
    const ad = parseClassAd(text, '<fuzz>');
    for (const n of ad.names().slice(0, 20)) {
      const e = ad.get(n)!;
      roundTrip(e);
      evalBoth(e, ad, targetAd, `attribute ${n}`, check);
    }
    ad.toLong();
    ad.toJSON();
    ClassAd.fromRecord(ad.toRecord());
    return;
  }
  const e = parseExpr(text);
  roundTrip(e);
  evalBoth(e, myAd, targetAd, 'the expression', check);
  evalBoth(e, new ClassAd(), undefined, 'the expression in an empty ad', check);
}

export const classadTarget: Target = {
  name: 'classad',
  ext: 'classad',
  arbitrary() {
    const corpus = loadCorpus().classad;
    const seed = fc.constantFrom(...corpus);
    const tokens = [
      ...BINARY,
      ...FUNCS.map((f) => `${f}(`),
      'MY.',
      'TARGET.',
      '?:',
      '"\\',
      '[',
      ']',
      '{',
      '}',
      ',',
      ';',
    ];
    return fc
      .oneof(
        { weight: 4, arbitrary: expr },
        { weight: 1, arbitrary: deep },
        { weight: 2, arbitrary: seed },
        { weight: 4, arbitrary: mutated(fc.oneof(seed, expr), corpus, tokens) },
      )
      .map((text) => ({ text }));
  },
  run: runClassAd,
};
