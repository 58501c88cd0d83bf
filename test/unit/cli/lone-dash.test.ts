// A lone `-` on a command line means standard input (`dsched join ADDRESS -`, `dsubmit -`): every command's
// yargs setup hands it to the command as `-`, in a positional, an option's value or the other words.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cli } from '../../../cli/shared/yargs.js';

describe('cli – a lone dash', () => {
  test('cli – a lone dash reaches a command positional as itself', async () => {
    let token: unknown;
    await cli('dsched', ['join', 'central:9618', '-'], 'usage')
      .command(
        'join <ADDRESS> <TOKEN>',
        'join',
        (c) => c.positional('ADDRESS', { type: 'string' }).positional('TOKEN', { type: 'string' }),
        (a) => void (token = a.TOKEN),
      )
      .parse();
    assert.equal(token, '-');
  });

  test("cli – a lone dash is an option's value and a plain word, not an option", async () => {
    const a = await cli('dq', ['-constraint', '-', 'alice', '-'], 'usage')
      .option('constraint', { type: 'string' })
      .parse();
    assert.equal(a.constraint, '-');
    assert.deepEqual(a._, ['alice', '-']);
  });
});
