// The command agent parses each hot command's line with a parser declared once (parseCli): what one command
// line gave must never show in the next, and a line refused must leave the next one parsed as the first was.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Argv } from 'yargs';
import { parseCli } from '../../../cli/shared/yargs.js';

describe('cli – a parser kept between command lines', () => {
  test('cli – each command line is parsed on its own, through one declaration', async () => {
    let declared = 0;
    const declare = (y: Argv) => {
      declared++;
      return y
        .option('af', { type: 'string', array: true })
        .option('nobatch', { type: 'boolean' })
        .option('limit', { type: 'number' });
    };
    const usage = 'usage: reuse-test';
    const first = await parseCli('reuse-test', ['-af', 'ClusterId', 'ProcId', '-nobatch', '12'], usage, {}, declare);
    assert.deepEqual(first.af, ['ClusterId', 'ProcId']);
    assert.equal(first.nobatch, true);
    assert.deepEqual(first._, ['12']);
    const second = await parseCli('reuse-test', ['-lim', '5', '-'], usage, {}, declare);
    assert.equal(second.af, undefined);
    assert.equal(second.nobatch, undefined);
    assert.equal(second.limit, 5);
    assert.deepEqual(second._, ['-']);
    assert.equal(declared, 1);

    // refused lines name what was typed in them, not in an earlier line
    assert.throws(() => parseCli('reuse-test', ['-limit', 'abc'], usage, {}, declare), /-limit needs a number/);
    assert.throws(() => parseCli('reuse-test', ['-nosuch'], usage, {}, declare), /Unknown argument: -nosuch$/);
    const third = await parseCli('reuse-test', ['13', '-af', 'Owner'], usage, {}, declare);
    assert.deepEqual(third.af, ['Owner']);
    assert.equal(third.limit, undefined);
    assert.deepEqual(third._, ['13']);
  });
});
