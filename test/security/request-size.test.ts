// grpc-js reads a whole request, up to the server's limit (512 MB: a large submission travels as one message),
// before any handler runs. A caller with no credential at all (anyone who reaches a daemon's port) sent a few
// requests of 200 MB to the schedd and its memory went up by gigabytes, as many as it had calls open: the check
// of who may call came only after. A caller is now identified and checked when its call's headers arrive, and a
// refused call is answered before a byte of its request is read; a method open to anyone (the authentication
// handshake, a job's chirp) reads at most 2 MiB.
//
// A request's length does not bound what it costs decoded either: protobufjs makes an object for each element
// of a repeated field or map, about 40 times the few bytes it takes on the wire, in one turn of the daemon. A
// user's Submit of a million empty procs (2 bytes each), of one proc with a million attributes, or an Edit of a
// million job ids, made the schedd hold 1.6 GB before any check ran. The elements of such a request are now
// counted in its bytes before it is decoded, and past requestElements(MAX_JOBS_PER_SUBMISSION) it is refused,
// saying what to do; an admin who raises the limit raises that bound with it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { DschedError } from '../../lib/errors.js';
import { CollectorClient } from '../../lib/rpc/clients/collector.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import { ANONYMOUS_REQUEST_BYTES } from '../../lib/rpc/server.js';
import { PARAMS } from '../../lib/config/params.js';
import { requestElements } from '../../lib/rpc/request-elements.js';
import { TestPool } from '../integration/harness/pool.js';

/** The most memory the process has held at once, in MB. */
const peakMb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('security – request size before authentication', () => {
  let pool: TestPool;
  before(async () => {
    pool = await TestPool.start();
  });
  after(async () => {
    await pool?.stop();
  });

  test('security – requests of 200 MB without a credential, or to a method the caller may not call, are refused unread', async () => {
    const schedd = pool.daemonPid('schedd');
    const collector = pool.daemonPid('collector');
    const before = { schedd: peakMb(schedd), collector: peakMb(collector) };
    const big = 'x'.repeat(200 * 1024 * 1024);
    const anonymous = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(undefined));
    const user = new CollectorClient(pool.daemonAddress('collector'), pool.creds(pool.token('nobody')));
    try {
      const errors = await Promise.all([
        ...[0, 1, 2].map(() => refusal(anonymous.rpc.unary('Query', { constraint: big }, { deadlineMs: 120_000 }))),
        refusal(user.rpc.unary('Invalidate', { type: 'Machine', names: [big] }, { deadlineMs: 120_000 })),
      ]);
      for (const e of errors.slice(0, 3))
        assert.ok(e instanceof DschedError && e.code === 'UNAUTHENTICATED', String(e));
      assert.ok(errors[3] instanceof DschedError && errors[3].code === 'PERMISSION_DENIED', String(errors[3]));
      // a method open to anyone takes a request of its size, and no more
      const tooLarge = await refusal(
        anonymous.rpc.unary('BeginAuth', { user: 'x'.repeat(ANONYMOUS_REQUEST_BYTES + 1) }, { deadlineMs: 60_000 }),
      );
      assert.ok(tooLarge instanceof Error, String(tooLarge));
      assert.match(tooLarge.message, /larger than/);
    } finally {
      anonymous.close();
      user.close();
    }
    // the requests were never held: a few MB at most, not the 600 MB sent (with gigabytes of decoding)
    assert.ok(peakMb(schedd) - before.schedd < 100, `schedd peak ${before.schedd} -> ${peakMb(schedd)} MB`);
    assert.ok(
      peakMb(collector) - before.collector < 100,
      `collector peak ${before.collector} -> ${peakMb(collector)} MB`,
    );
    // the pool answers its users as before
    const q = await pool.run('dq', ['-allusers']);
    assert.equal(q.code, 0, q.stderr);
    pool.file('ok.sub', 'executable = /bin/true\nqueue\n');
    await pool.waitForHistory(await pool.submit('ok.sub'), 1);
  });

  test('security – a Submit or Edit of more elements than MAX_JOBS_PER_SUBMISSION allows is refused before it is decoded', async () => {
    const schedd = pool.daemonPid('schedd');
    const user = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('nobody')));
    const n = requestElements(Number(PARAMS.MAX_JOBS_PER_SUBMISSION.default)) + 1000;
    const peakBefore = peakMb(schedd);
    try {
      const attrs: Record<string, string> = {};
      for (let i = 0; i < n; i++) attrs[`A${i}`] = '1';
      const ids = Array.from({ length: n }, (_, i) => ({ cluster: 1, proc: i }));
      const errors = [
        await refusal(
          user.rpc.unary(
            'Submit',
            { cluster: 1, procs: Array.from({ length: n }, () => ({})) },
            { deadlineMs: 120_000 },
          ),
        ),
        await refusal(user.rpc.unary('Submit', { cluster: 1, procs: [{ attrs }] }, { deadlineMs: 120_000 })),
        await refusal(user.rpc.unary('Edit', { ids, attrs: { Foo: '1' } }, { deadlineMs: 120_000 })),
      ];
      for (const e of errors) {
        assert.ok(e instanceof DschedError && e.code === 'INPUT_TOO_LARGE', String(e));
        assert.match(e.message, /more than \d+ elements .*(pieces|constraint)/);
      }
    } finally {
      user.close();
    }
    // decoded, the procs alone were hundreds of MB; refused, the schedd held the bytes and no more
    assert.ok(peakMb(schedd) - peakBefore < 100, `schedd peak ${peakBefore} -> ${peakMb(schedd)} MB`);
    // the pool takes a large submission as before
    pool.file('many.sub', 'executable = /bin/true\nhold = true\narguments = $(Process)\nqueue 20000\n');
    const r = await pool.run('dsubmit', ['many.sub']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('security – the bound on a Submit follows MAX_JOBS_PER_SUBMISSION when an admin raises it', async () => {
    // raised past the default bound: a whole submission of that many procs must go in one request (only just
    // past it: the request this test builds and encodes is the test's cost, on a loaded machine within its deadline)
    const maxProcs = Number(PARAMS.MAX_JOBS_PER_SUBMISSION.default) + 100_000;
    await pool.reconfigure(`MAX_JOBS_PER_SUBMISSION = ${maxProcs}\n`, ['schedd']);
    const max = requestElements(maxProcs);
    assert.ok(max >= maxProcs && max > requestElements(Number(PARAMS.MAX_JOBS_PER_SUBMISSION.default)));
    const user = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('nobody')));
    try {
      // past it, refused naming the raised bound (within it, the request would queue that many jobs)
      const e = await refusal(
        user.rpc.unary(
          'Submit',
          { cluster: 1, procs: Array.from({ length: max + 1 }, () => ({})) },
          {
            deadlineMs: 120_000,
          },
        ),
      );
      assert.ok(e instanceof DschedError && e.code === 'INPUT_TOO_LARGE', String(e));
      assert.match(e.message, new RegExp(`more than ${max} elements`));
    } finally {
      user.close();
    }
  });

  // past SELECTION_REQUEST_BYTES a caller got grpc's own "message larger than max", as an INTERNAL error
  test('security – a selection of jobs past 4 MiB is refused with a typed error saying what to do', async () => {
    const user = new ScheddClient(pool.daemonAddress('schedd'), pool.creds(pool.token('nobody')));
    try {
      const ids = Array.from({ length: 600_000 }, (_, i) => ({ cluster: 100_000 + i, proc: 100_000 }));
      const e = await refusal(user.act({ action: 'hold', ids }));
      assert.ok(e instanceof DschedError && e.code === 'INPUT_TOO_LARGE', String(e));
      assert.match(e.message, /at most 4 MiB .*constraint .*cluster ids/);
    } finally {
      user.close();
    }
  });
});
