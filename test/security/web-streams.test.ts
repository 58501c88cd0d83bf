// The web daemon serves at most 2,000 event streams (/v1/events) at once. One client without a token (any local
// user: the daemon listens on loopback) opened all of them, and no one else's dashboard got its events. A client
// (a token's user, or callers without a token from one address) holds at most MAX_SSE_PER_CLIENT; past it a
// stream is refused with TOO_MANY_CLIENTS (429), and other users open theirs as before.
// The daemon's connections are bounded per client too, and every local user was one client (this host): nobody
// opening connections without pause closed root's stream. A connection whose request carried a token now counts
// against that token's user.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAX_SSE_PER_CLIENT } from '../../daemons/web/server.js';
import { TestPool } from '../integration/harness/pool.js';
import { webAddress } from '../integration/harness/web.js';
import { connectionFlood, scriptAsNobody } from './nobody.js';

/** Open an event stream; resolves with its HTTP status (and its body for a refusal) once the headers arrive; `onData`
 *  is given what a stream accepted sends. */
function openStream(
  pool: TestPool,
  token?: string,
  onData?: (text: string) => void,
): Promise<{ status: number; body: string; req: ClientRequest }> {
  const [host, port] = [webAddress(pool).replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(webAddress(pool))![1])];
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, path: '/v1/events', headers: token ? { Authorization: `Bearer ${token}` } : {} },
      (res) => {
        if (res.statusCode === 200) {
          res.setEncoding('utf8');
          if (onData) res.on('data', onData);
          return resolve({ status: 200, body: '', req });
        }
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, req }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('security – event streams per client', () => {
  let pool: TestPool;
  const streams: ClientRequest[] = [];
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    for (const s of streams) s.destroy();
    await pool?.stop();
  });

  test('security – one client without a token cannot take every event stream; a user with a token still gets one', async () => {
    for (let i = 0; i < MAX_SSE_PER_CLIENT; i++) {
      const s = await openStream(pool);
      streams.push(s.req);
      assert.equal(s.status, 200, `stream ${i}: ${s.body}`);
    }
    const refused = await openStream(pool);
    assert.equal(refused.status, 429, refused.body);
    assert.equal(JSON.parse(refused.body).error.code, 'TOO_MANY_CLIENTS');
    assert.match(
      JSON.parse(refused.body).error.message,
      new RegExp(`${MAX_SSE_PER_CLIENT} event streams of this client \\(address .* \\(without a token\\)\\) are open`),
    );

    const mine = await openStream(pool, pool.token('nobody'));
    streams.push(mine.req);
    assert.equal(mine.status, 200, mine.body);

    // a stream closed makes room again (once the daemon has seen it go)
    streams.shift()!.destroy();
    const again = await pool.waitFor('a stream to be accepted again', async () => {
      const s = await openStream(pool);
      if (s.status === 200) return s;
      return undefined;
    });
    streams.push(again.req);
  });

  test("security – a local user opening connections without pause closes no user's event stream", async () => {
    let text = '';
    let wake = () => {};
    const root = await openStream(pool, pool.token('root'), (d) => {
      text += d;
      wake();
    });
    streams.push(root.req);
    assert.equal(root.status, 200, root.body);
    const closed = new Promise<false>((resolve) => root.req.on('close', () => resolve(false)));
    // nobody opens connections one after another until 64 of them were closed (past the 256 of one client)
    const script = join(pool.work, 'web-churn.mts');
    writeFileSync(script, [...connectionFlood(webAddress(pool)), 'process.exit(0);'].join('\n'), { mode: 0o644 });
    assert.ok(Number((await scriptAsNobody(pool, script, [])).closed) >= 64);
    // root's stream still tells of a job submitted now
    const cluster = await pool.submit(pool.file('web-churn.sub', 'executable = /bin/true\nhold = true\nqueue\n'));
    const told = new Promise<true>((resolve) => {
      wake = () => text.includes(`"id":"${cluster}.0"`) && resolve(true);
      wake();
    });
    assert.equal(await Promise.race([told, closed]), true, "root's event stream was closed");
  });
});
