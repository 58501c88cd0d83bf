// Mutations of real inputs, as fast-check arbitraries (so a seed replays them): cut, duplicate, repeat a slice
// many times (deep nesting, long lines), insert a token from a dictionary, swap lines, splice two inputs.
import fc from 'fast-check';

/** Tokens every language finds awkward. */
export const COMMON_TOKENS = [
  '\0',
  '\\',
  '\\\n',
  '"',
  "'",
  '`',
  '$',
  '$(',
  ')',
  '(',
  '{',
  '}',
  '[',
  ']',
  '\n',
  '\r\n',
  '\r',
  '\t',
  ' ',
  '#',
  '=',
  ':',
  ';',
  ',',
  '.',
  '..',
  '/',
  '*',
  '%',
  '-',
  '+',
  '!',
  '?',
  '|',
  '&',
  '<',
  '>',
  '@',
  '~',
  '^',
  '0',
  '-1',
  '1e309',
  '-0',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775809',
  '18446744073709551616',
  '1e-400',
  'NaN',
  'Infinity',
  '0x7fffffff',
  '4294967296',
  '99999999999999999999999999999999999999',
  'é',
  '\u00ff',
  '\u{1F600}',
  '\ud800',
  '\uFEFF',
  '\u2028',
  'undefined',
  'error',
  'true',
  'false',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
];

export interface Mutation {
  op: number;
  a: number;
  b: number;
  n: number;
  token: string;
}

const mutation = (tokens: string[]): fc.Arbitrary<Mutation> =>
  fc.record({
    op: fc.nat(9),
    a: fc.nat(),
    b: fc.nat(),
    n: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 3000 })),
    token: fc.constantFrom(...tokens, ...COMMON_TOKENS),
  });

export function applyMutation(s: string, m: Mutation, other: string): string {
  const len = s.length;
  const i = len === 0 ? 0 : m.a % (len + 1);
  const j = Math.min(len, i + (m.b % 64));
  switch (m.op) {
    case 0: // delete a slice
      return s.slice(0, i) + s.slice(j);
    case 1: // insert a token
    case 2:
      return s.slice(0, i) + m.token + s.slice(i);
    case 3: // replace a slice with a token
      return s.slice(0, i) + m.token + s.slice(j);
    case 4: // repeat a slice n times (deep nesting, long words)
      return s.slice(0, j) + s.slice(i, j).repeat(Math.min(m.n, Math.floor(200_000 / Math.max(1, j - i)))) + s.slice(j);
    case 5: {
      // swap two lines
      const lines = s.split('\n');
      const x = m.a % lines.length;
      const y = m.b % lines.length;
      [lines[x], lines[y]] = [lines[y]!, lines[x]!];
      return lines.join('\n');
    }
    case 6: // splice another input in
      return s.slice(0, i) + other.slice(m.b % (other.length + 1));
    case 7: // truncate
      return s.slice(0, i);
    case 8: // a token repeated n times (deep nesting of one bracket, a huge number)
      return (
        s.slice(0, i) + m.token.repeat(Math.min(m.n, Math.floor(100_000 / Math.max(1, m.token.length)))) + s.slice(i)
      );
    default: {
      // flip one character
      if (len === 0) return m.token;
      const c = s.charCodeAt(i % len);
      return s.slice(0, i % len) + String.fromCharCode(c ^ (1 << (m.b % 7))) + s.slice((i % len) + 1);
    }
  }
}

/** A corpus entry (or a generated input) with 1–4 mutations. */
export function mutated(base: fc.Arbitrary<string>, corpus: string[], tokens: string[]): fc.Arbitrary<string> {
  return fc
    .tuple(
      base,
      fc.array(mutation(tokens), { minLength: 1, maxLength: 4 }),
      fc.constantFrom(...(corpus.length ? corpus : [''])),
    )
    .map(([s, ms, other]) => ms.reduce((acc, m) => applyMutation(acc, m, other), s));
}
