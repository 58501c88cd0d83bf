// An execute host whose clock is out of step with the central host's (no NTP, a wrong time zone taken for
// UTC): what the pool shows and decides from its ads is on the central host's clock.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from './harness/pool.js';

const SKEW = -3600; // the execute host is an hour behind

describe('clock skew', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start({ DAEMON_LIST: 'COLLECTOR, NEGOTIATOR, SCHEDD' });
    // the startd runs with its clock shifted: Date as this preload makes it
    const preload = join(pool.work, 'skew.mjs');
    writeFileSync(
      preload,
      `const skew = ${SKEW * 1000};\nconst RealDate = Date;\nconst realNow = RealDate.now.bind(RealDate);\n` +
        `globalThis.Date = class extends RealDate {\n  constructor(...a) { if (a.length) super(...a); else super(realNow() + skew); }\n` +
        `  static now() { return realNow() + skew; }\n};\n`,
    );
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `--import ${preload}`;
    try {
      pool.startDaemon('startd');
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
  });
  after(async () => {
    await pool?.stop();
  });

  test("clock skew – dstatus's ActvtyTime of a slot on a host an hour behind is on this host's clock, not an hour long", async () => {
    const slots = await pool.waitFor('the skewed startd to advertise', async () => {
      const s = await pool.json('dstatus', []);
      return s.length ? s : undefined;
    });
    const sent = Number(slots[0]!.MyCurrentTime);
    const heard = Number(slots[0]!.LastHeardFrom);
    assert.ok(Math.abs(heard - sent - -SKEW) < 120, `the ad tells the skew: sent ${sent}, heard ${heard}`);
    const r = await pool.run('dstatus', []);
    assert.equal(r.code, 0, r.stderr);
    const row = r.stdout.split('\n').find((l) => l.startsWith('slot1@'));
    const m = /(\d+)\+(\d\d):(\d\d):(\d\d)\s*$/.exec(row ?? '');
    assert.ok(m, r.stdout);
    assert.equal(m[1], '0');
    assert.equal(m[2], '00', `ActvtyTime ${m[0]}: the hour of skew is not counted`);
  });
});
