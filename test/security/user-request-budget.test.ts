// A call with a user token may send a request of up to 512 MB, and the daemon reads it whole before its
// handler runs: one user's calls in parallel (a connection carries up to 1000) made the schedd hold as many
// requests as were opened (four of 100 MB: a gigabyte) until it ran out of memory, and then no one was served.
// A user's requests being read are now charged to that user (USER_REQUEST_BUDGET, 16 MiB here) from each
// message's declared length, before its body is read: past it the call is refused, nothing of it kept; another
// user's calls are not touched, and a call that ends gives back its part. The client speaks raw HTTP/2 so that
// its calls stay open with their bodies half sent, as a hostile user's would.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';

const RESOURCE_EXHAUSTED = 8;
/** The local user (uid 65534) whose token the hostile calls carry. */
const USER = 'nobody';
const MESSAGE = 10 * 1024 * 1024; // declared by each call: two of them pass the 16 MiB budget

interface Held {
  stream: ClientHttp2Stream;
  answered?: { status: number; code?: string; message: string };
}

describe('security – bytes of one user’s requests in flight', () => {
  let pool: TestPool;
  let session: ClientHttp2Session;

  before(async () => {
    pool = await TestPool.start({ USER_REQUEST_BUDGET: '16MB' });
    const ca = readFileSync(join(pool.home, 'ca', 'ca.crt'));
    session = http2Connect(`https://${pool.daemonAddress('schedd')}`, { ca, checkServerIdentity: () => undefined });
    session.on('error', () => {});
  });
  after(async () => {
    session?.destroy();
    await pool?.stop();
  });

  /** A Schedd.Edit (or `method`) as `user` whose message declares `length` bytes, of which only the first few KB are sent. */
  const hold = (user: string, method = 'Edit', length = MESSAGE): Held => {
    const stream = session.request({
      ':method': 'POST',
      ':path': `/dsched.v1.Schedd/${method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
      authorization: `Bearer ${pool.token(user)}`,
    });
    const head = Buffer.alloc(5);
    head.writeUInt32BE(length, 1);
    stream.write(Buffer.concat([head, Buffer.alloc(4096)]));
    const held: Held = { stream };
    const seen: Record<string, unknown> = {};
    const done = () => {
      if (seen['grpc-status'] === undefined) return;
      held.answered = {
        status: Number(seen['grpc-status']),
        code: seen['dsched-error-code'] === undefined ? undefined : String(seen['dsched-error-code']),
        message: decodeURIComponent(String(seen['grpc-message'] ?? '')),
      };
    };
    stream.on('response', (h) => (Object.assign(seen, h), done()));
    stream.on('trailers', (h) => (Object.assign(seen, h), done()));
    stream.on('error', () => {});
    stream.resume();
    return held;
  };

  test('security – a user’s calls past their budget are refused before the body is read; others are served', async () => {
    const first = hold(USER);
    const second = hold(USER);
    await pool.waitFor('the second call to be refused', () => second.answered, 30_000);
    assert.equal(second.answered!.status, RESOURCE_EXHAUSTED, second.answered!.message);
    assert.equal(second.answered!.code, 'USER_REQUEST_LIMIT', second.answered!.message);
    assert.match(second.answered!.message, /nobody's calls already have 10 MiB .*USER_REQUEST_BUDGET/);
    assert.equal(first.answered, undefined, 'the first call is still being read');

    // another user is not touched: a call as large is read, and dq answers
    const other = hold('daemon');
    const q = await pool.run('dq', ['-allusers']);
    assert.equal(q.code, 0, q.stderr);
    assert.equal(other.answered, undefined, "another user's call is being read");

    // a call that ends gives its part back: nobody's next call is read again
    first.stream.close();
    other.stream.close();
    await pool.waitFor(
      'nobody’s budget to come back',
      async () => {
        const again = hold(USER);
        await new Promise((r) => setTimeout(r, 300));
        again.stream.close();
        return again.answered === undefined;
      },
      30_000,
    );
  });

  // a list of job ids decodes to about 40 times its size in one turn: 512 MB of them ran the schedd out of memory
  test('security – a request that only selects jobs is refused past 4 MiB, before its body is read', async () => {
    for (const method of ['Act', 'Query', 'QueryJobs', 'QueryAutoclusters', 'WatchJobs']) {
      const call = hold(USER, method, 5 * 1024 * 1024);
      await pool.waitFor(`${method} to be refused`, () => call.answered, 30_000);
      assert.equal(call.answered!.status, RESOURCE_EXHAUSTED, `${method}: ${call.answered!.message}`);
      call.stream.close();
    }
  });
});
