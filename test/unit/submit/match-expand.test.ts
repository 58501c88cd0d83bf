// Match-time substitution (match-expand.ts): `$$(Attr)`, `$$(Attr:default)`, `$$([expr])` filled in from the
// slot's ad, the MATCH_ records, and the references that hold the job instead.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { ClassAd, quoteString } from '../../../grammar/classad/index.js';
import { joinV2Raw, parseEnv, splitArgs } from '../../../grammar/submit/args-env.js';
import { expandMatchRefs, MAX_EXPANDED_CHARS } from '../../../grammar/submit/match-expand.js';

const slot = ClassAd.fromRecord({
  Name: '"slot1_1@node7"',
  Cpus: '4',
  Memory: '2048',
  OpSys: '"LINUX"',
  Quoted: '"say \\"hi\\""',
  Start: 'TARGET.RequestCpus <= 4',
});

function expand(attrs: Record<string, string>) {
  return expandMatchRefs(ClassAd.fromRecord({ Cmd: '"/bin/sh"', ...attrs }), () => slot, 'slot1_1@node7');
}

function ok(attrs: Record<string, string>) {
  const r = expand(attrs);
  assert.ok(r && 'ad' in r, r && 'error' in r ? r.error : 'nothing expanded');
  return r;
}

function refused(attrs: Record<string, string>): string {
  const r = expand(attrs);
  assert.ok(r && 'error' in r, 'expected a refusal');
  return r.error;
}

describe('match-time substitution – filled in from the slot', () => {
  test('a job without references is left alone (no copy)', () => {
    assert.equal(expand({ Arguments: '"a b"', Requirements: 'TARGET.Cpus > 1' }), undefined);
  });

  test('$$(Attr), $$(Attr:default), $$([expr]) and $$(DOLLARDOLLAR) in Arguments, Cmd and Environment', () => {
    const r = ok({
      Cmd: '"/opt/povray.$$(OpSys)"',
      // as the submit side stores `arguments = "-c 'echo $$(Name) … $$([Cpus * 2]) …'"`
      Arguments: quoteString(
        joinV2Raw(['-c', 'echo $$(Name) $$(Cpus) $$(NoSuchAttr:dflt) $$([Cpus * 2]) $$(DOLLARDOLLAR)']),
      ),
      Environment: quoteString("'MEM=$$([TARGET.Memory * 0.5])' EMPTY=$$(Nope:) SLOT=$$(Quoted)"),
    });
    assert.equal(r.ad.lookupJS('Cmd'), '/opt/povray.LINUX');
    assert.deepEqual(splitArgs(undefined, r.ad.lookupJS('Arguments') as string), [
      '-c',
      'echo slot1_1@node7 4 dflt 8 $$',
    ]);
    assert.deepEqual(parseEnv(undefined, r.ad.lookupJS('Environment') as string), {
      MEM: '1.024000000000000E+03',
      EMPTY: '',
      SLOT: 'say "hi"',
    });
    assert.equal(r.attrs.MATCH_EXP_Cmd, '"/opt/povray.LINUX"');
    assert.equal(r.attrs.MATCH_EXP_Arguments, quoteString(joinV2Raw(['-c', 'echo slot1_1@node7 4 dflt 8 $$'])));
    assert.equal(r.attrs.MATCH_Name, '"slot1_1@node7"');
    assert.equal(r.attrs.MATCH_Cpus, '4');
    assert.equal(r.ad.lookupJS('MATCH_Cpus'), 4);
    assert.equal(r.attrs.MATCH_NoSuchAttr, undefined);
  });

  test('a V2 argument stays one argument whatever the value holds; V1 Args is text', () => {
    const r = ok({ Arguments: '"a $$(Quoted) b"', Args: '"x $$(Quoted)"' });
    assert.deepEqual(splitArgs(undefined, r.ad.lookupJS('Arguments') as string), ['a', 'say "hi"', 'b']);
    assert.equal(r.ad.lookupJS('Args'), 'x say "hi"');
  });

  test('a string with quotes comes in as its text; an expression as written; nothing is expanded twice', () => {
    const r = ok({ A: '"[$$(Quoted)] [$$(Start)]"', B: '"$$(DOLLARDOLLAR)(Name)"' });
    assert.equal(r.ad.lookupJS('A'), '[say "hi"] [TARGET.RequestCpus <= 4]');
    assert.equal(r.ad.lookupJS('B'), '$$(Name)');
  });

  test('$$([expr]) may hold brackets, parens and strings; MY is the job', () => {
    const r = ok({
      RequestCpus: '1',
      A: quoteString('$$([strcat("(", Name, ")", {"]"}[0])]) $$([MY.RequestCpus + TARGET.Cpus])'),
    });
    assert.equal(r.ad.lookupJS('A'), '(slot1_1@node7)] 5');
  });

  test('MATCH_ records are never expanded; non-string attributes are left alone', () => {
    const r = ok({ MATCH_EXP_A: '"$$(Gone)"', A: '"$$(Cpus)"', N: '7' });
    assert.equal(r.ad.lookupJS('MATCH_EXP_A'), '4');
    assert.equal(r.ad.lookupJS('N'), 7);
  });
});

describe('match-time substitution – references that hold the job', () => {
  test('a slot attribute that is missing, with no default, is named', () => {
    assert.equal(
      refused({ Arguments: '"$$(NoSuchAttr)"' }),
      'Cannot expand $$(NoSuchAttr) in Arguments: slot1_1@node7 has no attribute NoSuchAttr, and no default is given',
    );
  });

  test('an expression that is undefined, an error or not ClassAd', () => {
    assert.match(
      refused({ A: '"$$([NoSuchAttr + 1])"' }),
      /Cannot expand \$\$\(\[NoSuchAttr \+ 1\]\) in A: it evaluates to undefined against slot1_1@node7/,
    );
    assert.match(refused({ A: '"$$([1 +])"' }), /Cannot expand \$\$\(\[1 \+\]\) in A: /);
  });

  test('a scoped or malformed name', () => {
    assert.match(refused({ A: '"$$(TARGET.Name)"' }), /'TARGET\.Name' is not an attribute name/);
  });

  test('a value holding a NUL, or an expansion past the bound, holds instead of growing', () => {
    assert.match(refused({ A: quoteString('$$([strcat("a", "\\0")])') }), /NUL/);
    const big = ClassAd.fromRecord({
      Name: '"slot1_1@node7"',
      Huge: JSON.stringify('x'.repeat(MAX_EXPANDED_CHARS / 4 + 1)),
    });
    const r = expandMatchRefs(
      ClassAd.fromRecord({ A: '"$$(Huge)$$(Huge)$$(Huge)$$(Huge)"' }),
      () => big,
      'slot1_1@node7',
    );
    assert.ok(r && 'error' in r);
    assert.match(r.error, /more than 1048576 characters/);
  });

  test('a long reference is quoted short in the reason', () => {
    const e = refused({ A: `"$$(${'A'.repeat(5000)})"` });
    assert.ok(e.length < 600, e);
  });
});
