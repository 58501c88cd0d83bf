// dqedit – run as the command agent runs commands (several in one process): --help, --version and usage errors
// write to the command's own streams and return its exit code, never ending the process.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { hostCommands, runCommand, type CommandMain } from '../../../cli/shared/run-cli.js';

const commands = new Map<string, CommandMain>();
hostCommands((name, main) => void commands.set(name, main));
await import('../../../cli/dqedit.js');

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [stdout, stderr] = [new PassThrough(), new PassThrough()];
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (d: Buffer) => out.push(d.toString()));
  stderr.on('data', (d: Buffer) => err.push(d.toString()));
  const code = await runCommand('dqedit', commands.get('dqedit')!, {
    argv,
    cwd: process.cwd(),
    env: {},
    stdin: new PassThrough(),
    stdout,
    stderr,
    signal: new AbortController().signal,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

test('dqedit – --help, --version and usage errors go to the command streams with its exit code', async () => {
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: dqedit JOB ATTR VALUE/);
  const version = await run(['-version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /dqedit/);
  const bad = await run(['12', 'JobPrio']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^dqedit: error\[USAGE\]: give attributes and values in pairs/);
  assert.equal(bad.stdout, '');
});
