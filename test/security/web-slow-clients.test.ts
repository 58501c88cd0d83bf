// Clients of the web daemon that stop reading, as a local user (uid 65534) against a root pool. Headers and whole
// requests are bounded in time (headersTimeout, requestTimeout), but Node answers requests sent back to back on
// one connection (pipelining) without waiting for the answers to be read and keeps every unsent one: a
// connection with 40 requests whose answers were never read stayed open for good with them all in memory
// (thousands: hundreds of MB until the header timeout). Now a connection with more than 16 unanswered requests
// is closed and the requests past them are not handled. And a client that stops reading answers too large for the
// sockets' buffers kept them, unsent, for good (256 connections a client): a connection idle for WEB_IDLE_TIMEOUT
// is closed, while an event stream, which sends a comment at half that, stays open.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'node:http';
import { TestPool } from '../integration/harness/pool.js';
import { web, webAddress } from '../integration/harness/web.js';
import { NOBODY, nobodyFolder, scriptAsNobody } from './nobody.js';

const asRoot = process.getuid?.() === 0;

/** A script that sends `count` requests for `path` back to back on one connection, then `last` (a whole raw
 *  request), reads none of the answers, and prints once the daemon has closed the connection. */
function stalledReader(pool: TestPool, name: string, path: string, count: number, last: string, headers = ''): string {
  const address = webAddress(pool);
  const host = address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const port = Number(address.split(':').pop());
  const script = join(pool.work, name);
  const one = `GET ${path} HTTP/1.1\r\nHost: ${address}\r\n${headers}\r\n`;
  writeFileSync(
    script,
    [
      `import { connect } from 'node:net';`,
      `import { readFileSync } from 'node:fs';`,
      `const s = connect({ host: ${JSON.stringify(host)}, port: ${port} }, () => s.write(${JSON.stringify(one.repeat(count) + last)}));`,
      `s.pause();`,
      `s.on('error', () => {});`,
      // a client that reads nothing may never be told of the daemon's FIN (queued behind answers its full
      // window does not take); the kernel's table of sockets is: the daemon's end goes from ESTABLISHED (01) to
      // FIN_WAIT1 (04) or later, or is gone, once the daemon has closed the connection
      `const hex = (n) => n.toString(16).toUpperCase().padStart(4, '0');`,
      `const state = () => { for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) for (const l of readFileSync(f, 'utf8').split('\\n').slice(1)) { const c = l.trim().split(/\\s+/); if (c[1]?.endsWith(':' + hex(${port})) && c[2]?.endsWith(':' + hex(s.localPort))) return c[3]; } return 'gone'; };`,
      `const poll = setInterval(() => { if (s.localPort !== undefined && state() !== '01') { clearInterval(poll); console.log(JSON.stringify({ closed: true })); process.exit(0); } }, 100);`,
    ].join('\n'),
    { mode: 0o644 },
  );
  return script;
}

describe('security – web clients that stop reading', { skip: !asRoot && 'needs root (acts as uid 65534)' }, () => {
  let pool: TestPool;
  let rootToken: string;
  before(async () => {
    pool = await TestPool.start();
    rootToken = (await pool.run('dsched', ['token', 'create'])).stdout.trim();
  });
  after(async () => {
    await pool?.stop();
  });

  test('security – web: requests sent back to back and never read close the connection; those past 16 are not handled', async () => {
    const { dir, put } = nobodyFolder(pool.work);
    const sub = put('held.sub', 'executable = /bin/true\nhold = true\nqueue\n');
    const h = await pool.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
    assert.equal(h.code, 0, h.stderr);
    const cluster = Number(/cluster (\d+)/.exec(h.stdout)![1]);
    const token = (await pool.run('dsched', ['token', 'create'], NOBODY)).stdout.trim();
    const pid = pool.daemonPid('web');
    // after 40 reads, nobody's own release of their own job: were it handled, the job would leave the hold
    const body = JSON.stringify({ action: 'release', ids: [`${cluster}.0`] });
    const release =
      `POST /v1/jobs/actions HTTP/1.1\r\nHost: ${webAddress(pool)}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const script = stalledReader(pool, 'web-pipeline.mts', '/v1/openapi.json', 40, release);
    assert.deepEqual(await scriptAsNobody(pool, script, []), { closed: true });
    const r = await web(pool, '/v1/whoami', { token: rootToken });
    assert.equal(r.status, 200, r.text);
    assert.equal(pool.daemonPid('web'), pid, 'the web daemon was not restarted');
    assert.deepEqual(
      (await pool.json('dq', ['-allusers', String(cluster)])).map((j) => j.JobStatus),
      [5],
      'the release past the bound was not handled',
    );
  });

  test('security – web: a client that stops reading large answers has its connection closed once idle; an event stream stays open', async () => {
    const idle = await TestPool.start({ WEB_IDLE_TIMEOUT: '10' });
    try {
      const { dir, put } = nobodyFolder(idle.work);
      // 50 held jobs of 20 KB each: an answer of about 1 MB, 16 of them far more than the sockets' buffers hold
      const big = 'x'.repeat(20_000);
      const sub = put('big.sub', `executable = /bin/true\nhold = true\n+Big = "${big}"\nqueue 50\n`);
      const h = await idle.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
      assert.equal(h.code, 0, h.stderr);
      const token = (await idle.run('dsched', ['token', 'create'], NOBODY)).stdout.trim();
      const rootToken = (await idle.run('dsched', ['token', 'create'])).stdout.trim();
      // root's event stream, open before and idle meanwhile: its comments keep it open
      const [host, port] = [webAddress(idle).replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(webAddress(idle))![1])];
      let streamEnded = false;
      const stream = request({
        host: host.replace(/^\[|\]$/g, ''),
        port,
        path: '/v1/events',
        headers: { Authorization: `Bearer ${rootToken}` },
      });
      const comments = new Promise<number>((resolve) => {
        stream.on('response', (res) => {
          let n = 0;
          res.on('data', (b: Buffer) => {
            n += (b.toString().match(/^: keep-alive/gm) ?? []).length;
            if (n === 2) resolve(n);
          });
          res.on('close', () => (streamEnded = true));
        });
      });
      stream.on('error', () => (streamEnded = true));
      stream.end();
      const script = stalledReader(
        idle,
        'web-stalled.mts',
        '/v1/jobs?limit=5000',
        16,
        '',
        `Authorization: Bearer ${token}\r\n`,
      );
      assert.deepEqual(await scriptAsNobody(idle, script, []), { closed: true });
      // root's idle stream got its comments (every 5 s) meanwhile and stayed open
      assert.equal(await comments, 2);
      assert.equal(streamEnded, false, "root's idle event stream was not closed");
      stream.destroy();
      const r = await web(idle, '/v1/whoami', { token: rootToken });
      assert.equal(r.status, 200, r.text);
    } finally {
      await idle.stop();
    }
  });
});
