// Bounds on one evaluation: an expression any user writes (Requirements, Rank, policy expressions) is evaluated by
// root daemons for the whole pool, so what it builds and how much work it does are capped; over a cap → error.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_EVAL_DEPTH,
  MAX_LIST_LENGTH,
  MAX_STRING_LENGTH,
  printValue,
  symmetricMatch,
} from '../../../grammar/classad/index.js';
import { ad, evalPrinted } from './helpers.js';

/** Attributes a0..an, each built from the previous one used twice. */
function doublingChain(n: number, first: string, step: (prev: string) => string): string {
  let text = `a0 = ${first}\n`;
  for (let i = 1; i <= n; i++) text += `a${i} = ${step(`a${i - 1}`)}\n`;
  return text;
}

describe('string bound', () => {
  test('a chain of 30 strcat(previous, previous) is error', () => {
    const job = ad(doublingChain(30, '"x"', (p) => `strcat(${p}, ${p})`));
    assert.equal(printValue(job.evaluate('a30')), 'error');
    assert.equal(evalPrinted('a30', job), 'error');
    assert.equal(evalPrinted('isError(a30)', job), 'error'); // the whole evaluation, not only the inner call
  });

  test('strings up to the bound are built; one character more is error', () => {
    const job = ad(`H = "${'x'.repeat(MAX_STRING_LENGTH / 2)}"\nQ = "${'x'.repeat(MAX_STRING_LENGTH / 4)}"`);
    assert.equal(evalPrinted('size(strcat(H, H))', job), String(MAX_STRING_LENGTH));
    assert.equal(evalPrinted('size(strcat(H, H, "y"))', job), 'error');
    assert.equal(evalPrinted('size(join(",", H, H))', job), 'error');
    assert.equal(evalPrinted('size(replaceAll("x", H, "xyz"))', job), 'error');
    assert.equal(
      evalPrinted('size(replaceAll("xxxxxxxx", Q, "xxxxxxxxxxxxxxxx"))', job),
      String(MAX_STRING_LENGTH / 2),
    );
  });

  test('each match of a substitution is a step of work: more of them than the bound is error', () => {
    // a third of a second each without the step, and a few hundred in one evaluation stayed within the bound
    const job = ad(`Q = "${'x'.repeat(MAX_STRING_LENGTH / 4)}"\nS = "${'x'.repeat(60_000)}"`);
    assert.equal(evalPrinted('size(replaceAll("x", Q, "y"))', job), 'error');
    assert.equal(evalPrinted('size(replaceAll("x", S, "y"))', job), '60000');
    const several = Array.from({ length: 4 }, (_, i) => `size(replaceAll("x", S, "y${i}"))`).join(' + ');
    assert.equal(evalPrinted(several, job), 'error');
    assert.equal(evalPrinted(`isError(${several})`, job), 'error');
  });

  test('a doubling chain of arithmetic is error (work bound)', () => {
    const job = ad(doublingChain(40, '1', (p) => `${p} + ${p}`));
    assert.equal(printValue(job.evaluate('a40')), 'error');
    assert.equal(printValue(job.evaluate('a10')), '1024'); // small ones are untouched
  });

  test('a hostile Requirements does not match, and the ad is usable afterwards', () => {
    const job = ad(doublingChain(30, '"x"', (p) => `strcat(${p}, ${p})`) + 'Requirements = size(a30) > 0\nB = 2');
    const slot = ad('Requirements = true');
    assert.equal(symmetricMatch(job, slot), false);
    assert.equal(printValue(job.evaluate('B')), '2');
    assert.equal(printValue(job.evaluate('a3')), '"xxxxxxxx"');
  });

  test('scanning a long string many times is bounded', () => {
    const job = ad(`L = "${'x'.repeat(MAX_STRING_LENGTH / 2)}"\n` + doublingChain(40, 'size(L)', (p) => `${p} + ${p}`));
    assert.equal(printValue(job.evaluate('a40')), 'error');
    assert.equal(printValue(job.evaluate('a2')), String(4 * (MAX_STRING_LENGTH / 2)));
  });

  test('comparing long strings many times is bounded', () => {
    const h = 'x'.repeat(MAX_STRING_LENGTH / 2);
    const job = ad(
      `L1 = "${h}a"\nL2 = "${h}A"\n` + doublingChain(40, 'ifThenElse(L1 == L2, 1, 0)', (p) => `${p} + ${p}`),
    );
    assert.equal(printValue(job.evaluate('a40')), 'error');
    assert.equal(printValue(job.evaluate('a2')), '4');
  });
});

describe('list bound', () => {
  test('split of a long string into more than the bound is error; below it works', () => {
    const job = ad(`L = "${'x,'.repeat(MAX_LIST_LENGTH + 1)}"\nS = "${'x,'.repeat(1000)}"`);
    assert.equal(evalPrinted('size(split(L, ","))', job), 'error');
    assert.equal(evalPrinted('size(split(S, ","))', job), '1000');
  });

  test('a big list literal is still evaluated', () => {
    const items = Array.from({ length: 5000 }, (_, i) => i).join(',');
    assert.equal(evalPrinted(`sum({${items}})`), String((4999 * 5000) / 2));
    assert.equal(evalPrinted(`size({${items}})`), '5000');
  });

  test('walking a long list many times is bounded', () => {
    const items = Array.from({ length: 50_000 }, (_, i) => i).join(',');
    const job = ad(`L = {${items}}\n` + doublingChain(40, 'member(-1, L) + 1', (p) => `${p} + ${p}`));
    assert.equal(printValue(job.evaluate('a40')), 'error');
    assert.equal(printValue(job.evaluate('a3')), '8');
  });

  test('a list a function builds is a step of work per 8 items: ten splits of 100,000 items are error', () => {
    // 16 ms each, charged 300 steps by their string's KiB, so hundreds stayed within the bound
    const job = ad(`W = "${'ab '.repeat(100_000)}"`);
    assert.equal(evalPrinted('size(split(W))', job), '100000');
    assert.equal(evalPrinted(Array.from({ length: 10 }, () => 'size(split(W))').join(' + '), job), 'error');
  });

  test('each item of a string list split is a step of work: a few hundred splits of a long list are error', () => {
    // a tenth of a second each to split, charged by their KiB alone, so hundreds stayed within the bound
    const job = ad(`S = "${Array.from({ length: 30_000 }, (_, i) => `b${i}`).join(',')}"`);
    assert.equal(evalPrinted('stringList_regexpMember("^a", S)', job), 'false');
    const many = Array.from({ length: 4 }, (_, i) => `stringList_regexpMember("^a${i}", S)`).join(' || ');
    assert.equal(evalPrinted(many, job), 'error');
    assert.equal(
      evalPrinted(`stringListSize(S) + stringListSize(S) + stringListSize(S) + stringListSize(S)`, job),
      'error',
    );
  });

  test('long delimiter strings stay linear', () => {
    const job = ad(`L = "${'a,b,'.repeat(20_000)}"\nM = "${'b,a,'.repeat(10_000)}"`);
    assert.equal(evalPrinted('stringListSize(L, L)', job), '0');
    assert.equal(evalPrinted('stringListSubsetMatch(M, L)', job), 'true');
    assert.equal(evalPrinted('stringListISubsetMatch(strcat(M, ",C"), toUpper(L))', job), 'false');
  });
});

describe('depth and cycles', () => {
  test('attribute references nested deeper than the depth bound are error', () => {
    let text = 'x0 = 1\n';
    const n = MAX_EVAL_DEPTH + 50;
    for (let i = 1; i <= n; i++) text += `x${i} = x${i - 1} + 1\n`;
    const chain = ad(text);
    assert.equal(printValue(chain.evaluate(`x${n}`)), 'error');
    assert.equal(printValue(chain.evaluate('x100')), '101');
  });

  test('reference cycles, also through eval(), are undefined', () => {
    const cyc = ad('a = b\nb = a\nc = eval("c")');
    assert.equal(printValue(cyc.evaluate('a')), 'undefined');
    assert.equal(printValue(cyc.evaluate('c')), 'undefined');
  });

  test('deeply nested expressions evaluate or are error, never throw', () => {
    const deep = '('.repeat(150) + '1' + ')'.repeat(150);
    assert.equal(evalPrinted(`${deep} + 1`), '2');
    const job = ad(`e = "${'('.repeat(190)}1${')'.repeat(190)}"\nf = eval(e)`);
    assert.equal(printValue(job.evaluate('f')), '1');
  });
});
