// The web daemon serves at most 2,000 event streams (/v1/events) at once. One client without a token (any local
// user: the daemon listens on loopback) opened all of them, and no one else's dashboard got its events. A client
// (a token's user, or callers without a token from one address) holds at most MAX_SSE_PER_CLIENT; past it a
// stream is refused with TOO_MANY_CLIENTS (429), and other users open theirs as before.
import assert from 'node:assert/strict';
import { request, type ClientRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { MAX_SSE_PER_CLIENT } from '../../daemons/web/server.js';
import { TestPool } from '../integration/harness/pool.js';
import { webAddress } from '../integration/harness/web.js';

/** Open an event stream; resolves with its HTTP status (and its body for a refusal) once the headers arrive. */
function openStream(pool: TestPool, token?: string): Promise<{ status: number; body: string; req: ClientRequest }> {
  const [host, port] = [webAddress(pool).replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(webAddress(pool))![1])];
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, path: '/v1/events', headers: token ? { Authorization: `Bearer ${token}` } : {} },
      (res) => {
        if (res.statusCode === 200) return resolve({ status: 200, body: '', req });
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
});
