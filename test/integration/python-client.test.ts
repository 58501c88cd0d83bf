// The Python client (clients/python) against a real pool: python3 scripts submit, query, hold and release through
// the web daemon's HTTP API, follow the jobs through their event log, and read the history; the client's unit
// tests (unittest) run too, the event-log parser reading the same events as dsched writes them in both forms.
// Skipped only without python3.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatEventJson, formatEvents, parseUserLog, type UserLogEvent } from '../../lib/user-log/index.js';
import { ROOT, DIST, TestPool } from './harness/pool.js';

const CLIENT = join(ROOT, 'clients', 'python');
const python = spawnSync('python3', ['--version']).status === 0;

function py(
  pool: TestPool,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', args, {
      cwd: pool.work,
      // the client finds the pool and the user's token itself, as the CLIs do
      env: {
        ...pool.env,
        PYTHONPATH: CLIENT,
        PYTHONDONTWRITEBYTECODE: '1',
        DSCHED_CLI: `${process.execPath} ${join(DIST, 'cli', 'dsched.js')}`,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe('python client', { skip: python ? false : 'python3 is not installed' }, () => {
  let pool: TestPool;
  before(async () => {
    pool = TestPool.create();
    const r = await pool.run('dsched', ['start']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await pool?.stop();
  });

  test('python client – submit 3, query, hold/release, follow the event log to the end, history, typed errors', async () => {
    const r = await py(pool, [join(CLIENT, 'tests', 'pool_scenario.py'), pool.work]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const seen = JSON.parse(r.stdout);
    const hist = (await pool.json('dhistory', [String(seen.cluster)])) as Array<Record<string, unknown>>;
    assert.deepEqual(hist.map((a) => a.ProcId).sort(), [0, 1, 2]);
    assert.deepEqual(seen.history.map((a: { ProcId: number }) => a.ProcId).sort(), [0, 1, 2]);
    assert.match(seen.missing, /999999\.0 is not in the queue/);
    assert.equal(seen.bad_submit, 'CLASSAD_SYNTAX'); // request_cpus = ( is a broken expression
    assert.equal(seen.unauthenticated, 401);
  });

  test("python client – the event-log parser reads dsched's text and JSON-lines forms alike (unittest)", async () => {
    // the pool's own log of the scenario, and events of every kind dsched writes, in both forms
    const real = parseUserLog(readFileSync(join(pool.work, 'py.log'), 'utf8')).events;
    assert.ok(real.length >= 9);
    const t = 1_796_544_000;
    const made: UserLogEvent[] = [
      { type: 'submit', cluster: 7, proc: 0, time: t, host: '127.0.0.1:9618', logNotes: 'DAG Node: a' },
      { type: 'execute', cluster: 7, proc: 0, time: t + 1, host: '10.0.0.2:4000', slotName: 'slot1_1@n2' },
      {
        type: 'image_size',
        cluster: 7,
        proc: 0,
        time: t + 2,
        imageSizeKb: 2048,
        memoryUsageMb: 2,
        residentSetSizeKb: 1800,
      },
      { type: 'suspended', cluster: 7, proc: 0, time: t + 3, numPids: 2 },
      { type: 'unsuspended', cluster: 7, proc: 0, time: t + 4 },
      {
        type: 'evicted',
        cluster: 7,
        proc: 0,
        time: t + 5,
        reason: 'the owner came back',
        sentBytes: 5,
        receivedBytes: 6,
      },
      { type: 'held', cluster: 7, proc: 0, time: t + 6, reason: 'over its walltime', code: 3, subCode: 0 },
      { type: 'released', cluster: 7, proc: 0, time: t + 7, reason: 'via drelease' },
      {
        type: 'terminated',
        cluster: 7,
        proc: 0,
        time: t + 8,
        normal: false,
        signal: 9,
        runRemoteUsage: { user: 61, sys: 2 },
        resources: [
          { name: 'Cpus', usage: 0.5, request: 1, allocated: 1 },
          { name: 'Memory', usage: 20, request: 128, allocated: 128 },
        ],
      },
      {
        type: 'job_ad',
        cluster: 7,
        proc: 0,
        time: t + 9,
        attributes: { Owner: '"alice"', ExitCode: '3', Done: 'true' },
      },
      { type: 'aborted', cluster: 7, proc: 1, time: t + 10, reason: 'via drm' },
      {
        type: 'disconnected',
        cluster: 7,
        proc: 2,
        time: t + 11,
        reason: 'the startd did not answer',
        startdName: 'slot1@n2',
        startdAddress: '10.0.0.2:4000',
      },
      {
        type: 'reconnected',
        cluster: 7,
        proc: 2,
        time: t + 12,
        startdName: 'slot1@n2',
        startdAddress: '10.0.0.2:4000',
        starterAddress: '10.0.0.2:4001',
      },
      { type: 'reconnect_failed', cluster: 7, proc: 2, time: t + 13, reason: 'lease expired', startdName: 'slot1@n2' },
    ];
    const events = [...real, ...made];
    const text = join(pool.work, 'both.log');
    const jsonl = join(pool.work, 'both.jsonl');
    writeFileSync(text, formatEvents(events));
    writeFileSync(jsonl, events.map(formatEventJson).join(''));
    const r = await py(pool, ['-m', 'unittest', 'discover', '-v', '-s', join(CLIENT, 'tests'), '-p', 'test_*.py'], {
      DSCHED_TEST_TEXT_LOG: text,
      DSCHED_TEST_JSONL_LOG: jsonl,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /test_the_same_events_in_both_forms \S+ \.\.\. ok/);
  });
});
