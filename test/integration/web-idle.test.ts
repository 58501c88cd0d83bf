// The web daemon watches the job queue only while someone uses it over HTTP (WEB_JOBS_IDLE): a pool nobody
// looks at pays nothing per job for it. The first request after a quiet spell must still tell the truth.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestPool } from './harness/pool.js';
import { web } from './harness/web.js';

let pool: TestPool;
before(async () => {
  pool = await TestPool.start({ WEB_JOBS_IDLE: '1' });
});
after(async () => {
  await pool?.stop();
});

const heldCount = (metrics: string) =>
  metrics
    .split('\n')
    .filter((l) => l.startsWith('dsched_jobs{') && l.includes('state="held"'))
    .reduce((a, l) => a + Number(l.split(' ').at(-1)), 0);
const closings = () =>
  readFileSync(join(pool.home, 'log', 'web.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('job watch stream closed: unused')).length;

test('web – the first request after the job watch was closed as unused counts every job', async () => {
  pool.file('held.sub', 'executable = /bin/true\nhold = true\nqueue 4\n');
  await pool.submit('held.sub');
  // nobody asked yet: the first scrape waits for the queue instead of answering with nothing
  const first = await web(pool, '/metrics');
  assert.equal(first.status, 200, first.text);
  assert.equal(heldCount(first.text), 4, first.text);

  // unused for a second, the watches close; jobs submitted meanwhile are in the next answer all the same, and
  // the slots too
  const before = closings();
  await pool.waitFor('the job watch to close as unused', () => closings() > before);
  await pool.submit('held.sub');
  const pageOne = await web(pool, '/v1/pool');
  assert.equal(pageOne.status, 200, pageOne.text);
  assert.equal(pageOne.json.jobs.held, 8, pageOne.text);
  assert.ok(pageOne.json.slots.total > 0, pageOne.text);
  assert.equal(heldCount((await web(pool, '/metrics')).text), 8);
});
