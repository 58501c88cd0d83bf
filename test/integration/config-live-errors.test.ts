// An edit of the pool's configuration file with a mistake, while the pool runs: every daemon keeps running
// on the configuration it had and logs where the mistake is (file:line:column for a syntax error, file:line
// for a number knob that is none), `dsched reconfig` refuses it at once, and the edit that mends it is taken.
// A number knob that was none (`NEGOTIATOR_INTERVAL = abc`) was once taken, and each daemon died at its next
// use of it, over and over; a START that did not parse killed the startd at once, at each restart.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

const DAEMONS = ['collector', 'negotiator', 'schedd', 'startd', 'master'];

describe('config live errors', () => {
  let pool: TestPool;
  let original = '';
  let pids: Record<string, number> = {};
  let cluster = 0;
  before(async () => {
    pool = await TestPool.start();
    original = readFileSync(join(pool.home, 'config'), 'utf8');
    cluster = await pool.submit(pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue 2\n'));
    pids = Object.fromEntries(DAEMONS.filter((d) => d !== 'master').map((d) => [d, pool.daemonPid(d)]));
  });
  after(async () => {
    await pool.run('dsched', ['stop']);
  });

  /** The refusals each daemon logged so far (their `err` texts). */
  const refusals = (daemon: string): string[] => {
    const p = join(pool.home, 'log', `${daemon}.log`);
    if (!existsSync(p)) return [];
    return readFileSync(p, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"configuration not reloaded: it has an error (the old values stay)"'))
      .map((l) => (JSON.parse(l) as { err: string }).err);
  };
  const waitForRefusal = async (pattern: RegExp) => {
    for (const d of DAEMONS)
      await pool.waitFor(`the ${d} to refuse the edit`, () => refusals(d).some((e) => pattern.test(e)));
  };
  const sameDaemons = async () => {
    const s = await pool.run('dsched', ['status']);
    assert.equal(s.code, 0, s.stdout + s.stderr);
    for (const [d, pid] of Object.entries(pids)) assert.equal(pool.daemonPid(d), pid, `the ${d} was not restarted`);
  };

  test('config live errors – a syntax error: the daemons keep running and log the file, line and column', async () => {
    const file = join(pool.home, 'config');
    const line = original.split('\n').length;
    appendFileSync(file, '  NEGOTIATOR INTERVAL 7\n');
    await waitForRefusal(new RegExp(`^expected \`NAME = value\`\\n--> ${file}:${line}:3\\n`));
    const r = await pool.run('dsched', ['reconfig']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`error\\[CONFIG_INVALID\\]: expected \`NAME = value\`\\n--> ${file}:${line}:3`));
    writeFileSync(file, original);
    await sameDaemons();
  });

  test('config live errors – a number knob that is none: kept out, its file and line said, nothing restarts', async () => {
    const file = join(pool.home, 'config');
    const line = original.split('\n').length;
    appendFileSync(file, 'NEGOTIATOR_INTERVAL = abc\n');
    await waitForRefusal(new RegExp(`^NEGOTIATOR_INTERVAL = abc \\(from ${file}:${line}\\) is not a whole number$`));
    const r = await pool.run('dsched', ['reconfig']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`NEGOTIATOR_INTERVAL = abc \\(from ${file}:${line}\\) is not a whole number`));
    // the negotiator goes on negotiating on its old interval: a job submitted now runs
    const ran = await pool.submit(pool.file('run.sub', 'executable = /bin/true\nqueue\n'));
    await pool.waitForHistory(ran, 1);
    await sameDaemons();
  });

  test('config live errors – a START that does not parse: the startd keeps its START and says where', async () => {
    const file = join(pool.home, 'config');
    const line = original.split('\n').length;
    writeFileSync(file, original + 'START = (TARGET.Owner ==\n');
    for (const d of ['startd', 'negotiator'])
      await pool.waitFor(`the ${d} to refuse the edit`, () =>
        refusals(d).some((e) =>
          new RegExp(
            `^START = \\(TARGET\\.Owner == \\(from ${file}:${line}\\) is no ClassAd expression: expected`,
          ).test(e),
        ),
      );
    const r = await pool.run('dsched', ['reconfig']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /error\[CONFIG_INVALID\]: START = \(TARGET\.Owner == \(from \S+:\d+\) is no ClassAd expression/,
    );
    await sameDaemons();
  });

  test('config live errors – the edit that mends it is taken, and no job was lost', async () => {
    writeFileSync(join(pool.home, 'config'), original);
    await pool.reconfigure('NEGOTIATOR_INTERVAL = 3\n', ['negotiator', 'schedd']);
    await sameDaemons();
    assert.equal((await pool.json('dq', [String(cluster)])).length, 2);
  });

  test('config live errors – a knob that needs a restart: only the daemon that reads it says so', async () => {
    // every daemon once warned that NUM_CPUS needed its restart, sending admins to restart the collector
    const restartWarnings = (daemon: string) =>
      readFileSync(join(pool.home, 'log', `${daemon}.log`), 'utf8')
        .split('\n')
        .filter((l) => l.includes('need a restart of the'))
        .map((l) => JSON.parse(l) as { knobs: string[]; msg: string });
    await pool.reconfigure('NUM_CPUS = 3\n', DAEMONS);
    // a daemon logs the warning just after its reload line, in a write of its own: a read between the two
    // finds the reload without it
    const startd = await pool.waitFor('the startd to say NUM_CPUS needs its restart', () => {
      const w = restartWarnings('startd').filter((x) => x.knobs.includes('NUM_CPUS'));
      return w.length > 0 && w;
    });
    assert.equal(startd.length, 1, JSON.stringify(startd));
    assert.match(startd[0]!.msg, /restart of the startd/);
    for (const d of DAEMONS.filter((x) => x !== 'startd')) assert.deepEqual(restartWarnings(d), [], d);
    writeFileSync(join(pool.home, 'config'), original);
    await sameDaemons();
  });
});
