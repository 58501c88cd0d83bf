// master stop – the daemons stop in stages (STOP_STAGES): the negotiator and web daemon first, then the
// startds (their evictions reach the schedd), then the schedd, the collector last, each stage only once the one
// before has exited; one that ignores SIGTERM is killed when the grace time is over, and the later stages still stop.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Supervisor, type DaemonState } from '../../../daemons/master/supervisor.js';
import { createLogger } from '../../../lib/log.js';

const dir = mkdtempSync(join(tmpdir(), 'dsched-unit-master-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A stand-in daemon: writes `term NAME` when told to stop and `exit NAME` just before it exits (or nothing,
 * and lives on, with `ignoreTerm`). It writes `ready` once its handler is in place.
 */
function fakeDaemon(name: string, journal: string, ignoreTerm = false): Promise<DaemonState> {
  const script = `
    const fs = require('node:fs');
    const note = (s) => fs.appendFileSync(${JSON.stringify(journal)}, s + '\\n');
    process.on('SIGTERM', () => {
      note('term ${name}');
      if (${ignoreTerm}) return;
      setImmediate(() => { note('exit ${name}'); process.exit(0); });
    });
    setInterval(() => {}, 1000);
    process.stdout.write('ready');`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', () =>
      resolve({
        name,
        child,
        pid: child.pid!,
        state: 'running',
        restarts: 0,
        lastExit: '',
        startedAt: Date.now(),
        backoffMs: 1000,
      }),
    );
  });
}

async function supervisorWith(journal: string, names: string[], ignoring: string[] = []): Promise<Supervisor> {
  const s = new Supervisor(createLogger('master', undefined, 'silent'), dir, () => 60, dir);
  for (const n of names) s.daemons.set(n, await fakeDaemon(n, journal, ignoring.includes(n)));
  return s;
}

const lines = (journal: string) => readFileSync(journal, 'utf8').trim().split('\n');

describe('master stop – stages', () => {
  test('master stop – each stage is told to stop only after the stage before has exited', async () => {
    const journal = join(dir, 'order.log');
    const s = await supervisorWith(journal, ['collector', 'startd', 'schedd', 'negotiator', 'web']);
    await s.stop(60_000);
    const got = lines(journal);
    const at = (l: string) => {
      const i = got.indexOf(l);
      assert.ok(i >= 0, `${l} in ${got.join(', ')}`);
      return i;
    };
    for (const first of ['negotiator', 'web']) assert.ok(at(`exit ${first}`) < at('term startd'), got.join(', '));
    assert.ok(at('exit startd') < at('term schedd'), got.join(', '));
    assert.ok(at('exit schedd') < at('term collector'), got.join(', '));
    assert.equal(got.length, 10, got.join(', '));
  });

  test('master stop – a daemon that ignores SIGTERM is killed at the grace time, and the later stages still stop', async () => {
    const journal = join(dir, 'stuck.log');
    const s = await supervisorWith(journal, ['collector', 'startd', 'schedd'], ['schedd']);
    const schedd = s.daemons.get('schedd')!.child!;
    const killed = new Promise<NodeJS.Signals | null>((resolve) =>
      schedd.once('exit', (_code, signal) => resolve(signal)),
    );
    await s.stop(500);
    assert.equal(await killed, 'SIGKILL');
    for (const d of ['collector', 'startd'])
      assert.equal(
        s.daemons.get(d)!.child!.exitCode !== null || s.daemons.get(d)!.child!.signalCode !== null,
        true,
        `${d} exited`,
      );
    assert.ok(lines(journal).includes('term schedd'), 'the schedd was asked');
  });
});
