// Attacks on the web daemon of a pool run by root: another local user (uid 65534, with their own token), an
// anonymous caller, a web page of another origin in the user's browser (CSRF, DNS rebinding, CORS), forged
// tokens, oversized or odd requests. Each is refused with a clear error and leaves the queue and files as they were.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { signToken } from '../../lib/rpc/auth.js';
import { TestPool, type RunOptions } from '../integration/harness/pool.js';
import { web, webAddress } from '../integration/harness/web.js';

const asRoot = process.getuid?.() === 0;
const NOBODY: RunOptions = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: '/tmp' } };

describe('web – attacks', { skip: !asRoot && 'needs root (acts as uid 65534)' }, () => {
  let pool: TestPool;
  let cluster: number;
  let rootToken: string;
  let nobodyToken: string;
  let secret: string;
  const status = async () => (await pool.json('dq', ['-allusers', String(cluster)])).map((j) => j.JobStatus);

  before(async () => {
    pool = await TestPool.start({ PRIVATE_JOB_ATTRS: 'PrivateNote', WEB_MAX_BODY: '4' });
    secret = pool.file('secret.txt', 'root only: s3cret-value\n', 0o600);
    pool.file(
      'held.sub',
      `executable = /bin/true\nhold = true\nenvironment = "API_TOKEN=s3cret-env"\n+PrivateNote = "root's note"\noutput = ${secret}\nqueue 2\n`,
    );
    cluster = await pool.submit('held.sub');
    rootToken = (await pool.run('dsched', ['token', 'create'])).stdout.trim();
    const t = await pool.run('dsched', ['token', 'create'], NOBODY);
    assert.equal(t.code, 0, t.stderr);
    nobodyToken = t.stdout.trim();
  });
  after(async () => {
    await pool?.stop();
  });

  test("web – another user's token cannot release, remove or change the priority of root's jobs", async () => {
    for (const action of ['release', 'remove', 'prio']) {
      const r = await web(pool, '/v1/jobs/actions', {
        token: nobodyToken,
        body: { action, ids: [`${cluster}.0`], value: action === 'prio' ? '5' : undefined },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.results[0].ok, false, `${action} refused`);
      assert.match(r.json.results[0].error, /not yours|permission|may not|owner/i);
      assert.equal(r.json.results[0].code, 'PERMISSION_DENIED', `${action}: ${r.text}`);
    }
    const byConstraint = await web(pool, '/v1/jobs/actions', {
      token: nobodyToken,
      body: { action: 'remove', constraint: 'true' },
    });
    assert.ok(
      byConstraint.json.results.every((x: { ok: boolean }) => !x.ok),
      byConstraint.text,
    );
    assert.deepEqual(await status(), [5, 5], 'the jobs are still held');
  });

  test('web – no write without a token, and a forged or malformed token is refused', async () => {
    const anon = await web(pool, '/v1/jobs/actions', { body: { action: 'remove', ids: [`${cluster}.0`] } });
    assert.equal(anon.status, 401);
    assert.equal(anon.json.error.code, 'UNAUTHENTICATED');
    const sub = await web(pool, '/v1/submit', { body: { text: 'executable = /bin/true\nqueue\n' } });
    assert.equal(sub.status, 401);
    const other = generateKeyPairSync('ed25519').privateKey;
    const forged = signToken(other, { user: 'root', admin: true });
    const f = await web(pool, '/v1/jobs/actions', { token: forged, body: { action: 'remove', ids: [`${cluster}.0`] } });
    assert.equal(f.status, 401);
    assert.match(f.json.error.message, /signature/);
    const bad = await web(pool, '/v1/jobs', { headers: { Authorization: 'Basic cm9vdDpyb290' } });
    assert.equal(bad.status, 401);
    assert.deepEqual(await status(), [5, 5]);
  });

  test('web – a page of another origin can neither act (CSRF) nor read through the browser (CORS, DNS rebinding)', async () => {
    const csrf = await web(pool, '/v1/jobs/actions', {
      token: rootToken,
      headers: { Origin: 'http://evil.example' },
      body: { action: 'remove', ids: [`${cluster}.0`] },
    });
    assert.equal(csrf.status, 403);
    const form = await web(pool, '/v1/jobs/actions', {
      token: rootToken,
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify({ action: 'remove', ids: [`${cluster}.0`] }),
    });
    assert.equal(form.status, 415, 'a body a form could post is refused');
    const preflight = await web(pool, '/v1/jobs/actions', {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    const read = await web(pool, '/v1/jobs', { headers: { Origin: 'http://evil.example' } });
    assert.equal(read.headers['access-control-allow-origin'], undefined, 'no CORS grant for another origin');
    const rebound = await web(pool, '/v1/jobs', {
      headers: { Host: `evil.example:${webAddress(pool).split(':')[1]}` },
    });
    assert.equal(rebound.status, 421);
    assert.deepEqual(await status(), [5, 5]);
  });

  test('web – private attributes are shown to neither anonymous readers nor another user, nor testable by a constraint', async () => {
    for (const token of [undefined, nobodyToken]) {
      const r = await web(pool, `/v1/jobs/${cluster}.0`, { token });
      assert.equal(r.status, 200, r.text);
      assert.doesNotMatch(r.text, /s3cret-env|root's note/);
      const probe = await web(pool, `/v1/jobs?constraint=${encodeURIComponent('PrivateNote =!= undefined')}`, {
        token,
      });
      assert.equal(probe.json.jobs.length, 0, 'a constraint does not see them either');
      const events = await web(pool, '/metrics', { token });
      assert.doesNotMatch(events.text, /s3cret/);
    }
    const mine = await web(pool, `/v1/jobs/${cluster}.0`, { token: rootToken });
    assert.match(mine.text, /root's note/);
  });

  test("web – a job's files are read with the caller's rights: nobody cannot read root's 0600 output", async () => {
    const r = await web(pool, `/v1/jobs/${cluster}.0/output`, { token: nobodyToken });
    assert.equal(r.status, 403, r.text);
    assert.doesNotMatch(r.text, /s3cret/);
    const anon = await web(pool, `/v1/jobs/${cluster}.0/output`);
    assert.equal(anon.status, 401);
    const mine = await web(pool, `/v1/jobs/${cluster}.0/output`, { token: rootToken });
    assert.match(mine.json.text, /s3cret-value/);
  });

  test('web – a submission reads included files as its user, and gets no environment from the daemon', async () => {
    const before = readFileSync(secret, 'utf8');
    const r = await web(pool, '/v1/submit', {
      token: nobodyToken,
      body: { cwd: '/tmp', text: `include : ${secret}\nexecutable = /bin/true\nqueue\n` },
    });
    assert.ok(r.status === 403 || r.status === 400, r.text);
    assert.doesNotMatch(r.text, /s3cret/);
    const env = await web(pool, '/v1/submit', {
      token: nobodyToken,
      body: { cwd: '/tmp', text: 'executable = /bin/true\ngetenv = true\nhold = true\nqueue\n' },
    });
    assert.equal(env.status, 200, env.text);
    const ad = await web(pool, `/v1/jobs/${env.json.cluster}.0`, { token: nobodyToken });
    assert.equal(ad.json.Owner, 'nobody');
    assert.doesNotMatch(String(ad.json.Environment ?? ''), /DSCHED_HOME|PATH=/);
    assert.equal(readFileSync(secret, 'utf8'), before);
    assert.equal(statSync(secret).mode & 0o777, 0o600);
  });

  test('web – bodies are bounded, path parameters validated, and errors carry no stack', async () => {
    const big = await web(pool, '/v1/submit', { token: rootToken, body: { text: 'x'.repeat(8192) } });
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, 'INPUT_TOO_LARGE');
    for (const path of [
      '/v1/jobs/..%2f..%2fetc%2fpasswd',
      '/v1/jobs/1.2.3',
      '/v1/jobs/1e5',
      '/v1/dags/-1',
      '/ui/..%2fapi.ts',
      '/v1/jobs/1/output?stream=../../etc/passwd',
    ]) {
      const r = await web(pool, path, { token: rootToken });
      assert.ok([400, 404].includes(r.status), `${path}: ${r.status} ${r.text}`);
      assert.doesNotMatch(r.text, /root:x:0|\bat .*\.(ts|js):\d+/);
    }
    const malformed = await web(pool, '/v1/jobs/actions', { token: rootToken, body: '{"action": "remove", "ids": [' });
    assert.equal(malformed.status, 400, malformed.text);
    const syntax = await web(pool, `/v1/jobs?constraint=${encodeURIComponent('((( nope')}`);
    assert.equal(syntax.status, 400);
    assert.doesNotMatch(syntax.text, /\bat .*\.(ts|js):\d+/);
  });

  test('web – one client cannot take every event stream: anonymous ones are bounded per address, users keep theirs', async () => {
    const [host, port] = [webAddress(pool).replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(webAddress(pool))![1])];
    const open: ClientRequest[] = [];
    /** An event stream: its status once it answers (200 once its first event came). */
    const stream = (token?: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          { host, port, path: '/v1/events', headers: token ? { Authorization: `Bearer ${token}` } : {} },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => {
              text += d;
              if (res.statusCode === 200 && text.includes('event: hello')) resolve({ status: 200, text });
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        req.setTimeout(60_000, () => req.destroy(new Error('no answer in 60 s')));
        req.end();
        open.push(req);
      });
    try {
      for (let i = 0; i < 16; i++) assert.equal((await stream()).status, 200, `anonymous stream ${i + 1}`);
      const refused = await stream();
      assert.equal(refused.status, 429, refused.text);
      assert.match(refused.text, /TOO_MANY_CLIENTS.*event streams of this client/);
      // a user with a token is another client: its stream opens
      assert.equal((await stream(nobodyToken)).status, 200);
    } finally {
      for (const r of open) r.destroy();
    }
  });

  test("web – the token is never written to the daemon's log", async () => {
    const log = readFileSync(join(pool.home, 'log', 'web.log'), 'utf8');
    assert.ok(!log.includes(rootToken.split('.')[2]!) && !log.includes(nobodyToken.split('.')[2]!));
  });
});
