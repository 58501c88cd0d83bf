// Clients of the web daemon that stop reading, as a local user (uid 65534) against a root pool. Headers and whole
// requests are bounded in time (headersTimeout, requestTimeout), but Node answers requests sent back to back on
// one connection (pipelining) without waiting for the answers to be read and keeps every unsent one: a
// connection with 40 requests whose answers were never read stayed open for good with them all in memory
// (thousands: hundreds of MB until the header timeout). Now a connection with more than 16 unanswered requests
// is closed and the requests past them are not handled. And a client that stops reading answers too large for the
// sockets' buffers kept them, unsent, for good (256 connections a client): a connection whose answers waited
// WEB_IDLE_TIMEOUT with nothing taken is closed, while a slow reader and an event stream (a comment at half that)
// stay open.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'node:http';
import { connect } from 'node:net';
import { TestPool } from '../integration/harness/pool.js';
import { web, webAddress } from '../integration/harness/web.js';
import { NOBODY, nobodyFolder, scriptAsNobody } from './nobody.js';

const asRoot = process.getuid?.() === 0;

/** A script that sends `count` requests for `path` back to back on one connection, then `last` (a whole raw
 *  request), reads none of the answers, and prints once the daemon has closed the connection (or after 5 min
 *  that it has not). */
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
      // window does not take); the kernel's table of sockets is: once the daemon has closed the connection, its
      // end is in FIN_WAIT1 (04), FIN_WAIT2 (05) or CLOSING (0B), or this end is no longer ESTABLISHED (01): a
      // FIN it was told of, or a reset, which takes both ends away
      `const hex = (n) => ':' + n.toString(16).toUpperCase().padStart(4, '0');`,
      `const closed = () => { let mine = false; for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) for (const l of readFileSync(f, 'utf8').split('\\n').slice(1)) { const c = l.trim().split(/\\s+/); if (c[1]?.endsWith(hex(${port})) && c[2]?.endsWith(hex(s.localPort)) && ['04', '05', '0B'].includes(c[3])) return true; if (c[1]?.endsWith(hex(s.localPort)) && c[2]?.endsWith(hex(${port})) && c[3] === '01') mine = true; } return !mine; };`,
      `s.once('connect', () => { const poll = setInterval(() => { if (closed()) { clearInterval(poll); console.log(JSON.stringify({ closed: true })); process.exit(0); } }, 100); });`,
      // a daemon that never closes it fails the test rather than hanging it: a bound far past any timeout here
      `setTimeout(() => { console.log(JSON.stringify({ closed: false })); process.exit(0); }, 300_000);`,
    ].join('\n'),
    { mode: 0o644 },
  );
  return script;
}

/** Send `count` requests for `path` on one connection (the last asks to close it) and read the answers 64 KB at a
 *  time, with a pause after each: how many answers came whole, and the error that ended the connection if any. */
function pacedReader(pool: TestPool, path: string, count: number, headers: string) {
  const address = webAddress(pool);
  const one = (close: string) => `GET ${path} HTTP/1.1\r\nHost: ${address}\r\n${headers}${close}\r\n`;
  const s = connect({
    host: address.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''),
    port: Number(address.split(':').pop()),
  });
  s.write(one('').repeat(count - 1) + one('Connection: close\r\n'));
  return new Promise<{ answers: number; error: string | undefined }>((resolve) => {
    let answers = 0;
    let tail = '';
    let error: string | undefined;
    s.on('data', (b: Buffer) => {
      // a status line split between two reads is found in `tail` + the next
      const text = tail + b.toString('latin1');
      answers += (text.match(/HTTP\/1\.1 200 /g) ?? []).length;
      tail = text.slice(-12);
      s.pause();
      setTimeout(() => s.resume(), 50);
    });
    s.on('error', (e) => (error = e.message));
    s.on('close', () => resolve({ answers, error }));
  });
}

/** An event stream (/v1/events) read as it comes: `message()` waits for what it sends next, and fails if the
 *  stream ends first. That is a keep-alive comment only while no event is due: a pool whose ads change every
 *  few seconds (a `pool` event) sends events instead, and no comment at all. */
function eventStream(pool: TestPool, token: string) {
  const address = webAddress(pool);
  let next: { resolve: () => void; reject: (e: Error) => void } | undefined;
  let ended: Error | undefined;
  const end = (why: string) => {
    ended ??= new Error(`the event stream was closed (${why})`);
    next?.reject(ended);
  };
  const req = request({
    host: address.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''),
    port: Number(address.split(':').pop()),
    path: '/v1/events',
    headers: { Authorization: `Bearer ${token}` },
  });
  req.on('response', (res) => {
    res.setEncoding('utf8');
    res.on('data', () => next?.resolve());
    res.on('close', () => end('by the daemon'));
  });
  req.on('error', (e) => end(e.message));
  req.end();
  return {
    message: () =>
      new Promise<void>((resolve, reject) => {
        if (ended) return reject(ended);
        next = { resolve, reject };
      }),
    close: () => {
      ended = new Error('closed by the test');
      req.destroy();
    },
  };
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

  test(
    'security – web: a client that stops reading large answers has its connection closed; a slow reader and an idle event stream stay open',
    { timeout: 600_000 },
    async () => {
      const T = 8;
      const idle = await TestPool.start({ WEB_IDLE_TIMEOUT: String(T) });
      try {
        const { dir, put } = nobodyFolder(idle.work);
        // 50 held jobs of 20 KB each: an answer of about 1 MB, 16 of them far more than the sockets' buffers hold
        const big = 'x'.repeat(20_000);
        const sub = put('big.sub', `executable = /bin/true\nhold = true\n+Big = "${big}"\nqueue 50\n`);
        const h = await idle.run('dsubmit', [sub], { ...NOBODY, cwd: dir });
        assert.equal(h.code, 0, h.stderr);
        const token = (await idle.run('dsched', ['token', 'create'], NOBODY)).stdout.trim();
        const rootToken = (await idle.run('dsched', ['token', 'create'])).stdout.trim();
        // root's event stream, open before the readers and read as it comes while they read: its comments (every
        // T/2 with no event due) keep it open, and it still sends once they are done
        const events = eventStream(idle, rootToken);
        const path = '/v1/jobs?limit=5000';
        const auth = `Authorization: Bearer ${token}\r\n`;
        const stalled = stalledReader(idle, 'web-stalled.mts', path, 16, '', auth);
        const [closed, paced] = await Promise.all([
          scriptAsNobody(idle, stalled, []),
          // 16 MB read 64 KB at a time with a pause after each, for longer than T: its connection is never idle
          // that long, and answers wait unsent on it (past the 4 MB the kernel's buffers hold) for most of it
          pacedReader(idle, path, 16, auth),
        ]);
        assert.deepEqual(closed, { closed: true });
        assert.deepEqual(paced, { answers: 16, error: undefined }, 'the slow reader got all its answers');
        await events.message();
        events.close();
        const r = await web(idle, '/v1/whoami', { token: rootToken });
        assert.equal(r.status, 200, r.text);
      } finally {
        await idle.stop();
      }
    },
  );
});
