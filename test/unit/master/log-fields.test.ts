// master log – one field per meaning: a line of the master's log is the master's (`"daemon":"master"`, once),
// and the daemon it is about is its `child`, in the node master's log as in the native master's (a JSON object
// with one key twice is read as its last one by most readers, which then took the line for the child's).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Supervisor } from '../../../daemons/master/supervisor.js';
import { createLogger } from '../../../lib/log.js';

const dir = mkdtempSync(join(tmpdir(), 'dsched-unit-master-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const NATIVE = join(import.meta.dirname, '..', '..', '..', 'dist', 'daemons', 'master', 'dsched-master');

/** Wait (bounded) until the log holds a line with `msg`; its lines then. */
async function linesOnce(file: string, msg: string): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
    if (lines.some((l) => l.includes(msg))) return lines;
    if (Date.now() > deadline) throw new Error(`no '${msg}' in ${file}: ${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function checkLines(lines: string[], child: string) {
  for (const l of lines) {
    assert.equal(l.match(/"daemon":/g)?.length, 1, `one daemon field: ${l}`);
    assert.equal((JSON.parse(l) as { daemon: string }).daemon, 'master', l);
  }
  const died = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((o) => o.msg === 'daemon died; restarting');
  assert.equal(died?.child, child, JSON.stringify(died));
}

describe('master log – fields', () => {
  test('master log – the node master names the daemon it is about as child', async () => {
    const logs = join(dir, 'node');
    mkdirSync(logs, { recursive: true });
    // a daemon program that is not there: it dies at once, and the master says so
    const s = new Supervisor(createLogger('master', logs), logs, () => 60, logs);
    s.start(['nosuchdaemon']);
    const lines = await linesOnce(join(logs, 'master.log'), 'daemon died');
    await s.stop(5_000);
    checkLines(lines, 'nosuchdaemon');
  });

  test(
    'master log – the native master names the daemon it is about as child',
    { skip: !existsSync(NATIVE) },
    async () => {
      const logs = join(dir, 'native');
      mkdirSync(logs, { recursive: true });
      const master = spawn(NATIVE, [`dsched-unit-${process.pid}`, logs, logs, '60', 'quitter', '/bin/false'], {
        stdio: 'ignore',
      });
      const exited = new Promise((r) => master.once('exit', r));
      try {
        const lines = await linesOnce(join(logs, 'master.log'), 'daemon died');
        checkLines(lines, 'quitter');
      } finally {
        master.kill('SIGTERM');
        await exited;
      }
    },
  );
});
