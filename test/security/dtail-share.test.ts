// dtail's streams on a startd are bounded (64 in all, 8 per user): eight users holding eight each took them
// all, and a ninth could not read its own job's output for as long as they kept them open (a stream that
// reads nothing is held until its job ends). Now, with all of them taken, the user holding the most gives up
// their oldest stream to a user holding fewer: no group of users keeps another from dtail.
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { StartdClient } from '../../lib/rpc/clients/startd.js';
import { lookupUser } from '../../lib/users.js';
import { TestPool } from '../integration/harness/pool.js';

const ACCOUNTS = ['daemon', 'bin', 'sys', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'backup', 'list'];

describe('dtail – streams shared between users', () => {
  let pool: TestPool;
  const users = ACCOUNTS.filter((u) => lookupUser(u)).slice(0, 9);
  const jobs = new Map<string, number>();
  const clients: StartdClient[] = [];
  const streams: grpc.ClientReadableStream<unknown>[] = [];

  before(async () => {
    assert.equal(users.length, 9, 'nine accounts to submit as');
    pool = await TestPool.start({ NUM_CPUS: '10' });
    for (const user of users) {
      const { uid, gid } = lookupUser(user)!;
      const dir = join(pool.work, user);
      mkdirSync(join(dir, 'cache'), { recursive: true, mode: 0o700 });
      chownSync(dir, uid, gid);
      chownSync(join(dir, 'cache'), uid, gid);
      writeFileSync(
        join(dir, 'job.sub'),
        `executable = /bin/sh\narguments = "-c 'echo hi; sleep 600'"\noutput = out.txt\nshould_transfer_files = YES\nrequest_memory = 16\nqueue\n`,
      );
      jobs.set(
        user,
        await pool.submit('job.sub', [], {
          uid,
          gid,
          cwd: dir,
          env: { USER: user, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache') },
        }),
      );
    }
    await pool.waitFor('every job to run', async () => {
      const running = await pool.json('dq', ['-allusers', '-constraint', 'JobStatus == 2']);
      return running.length === users.length;
    });
  });
  after(async () => {
    for (const s of streams) s.cancel();
    for (const c of clients) c.close();
    await pool?.stop();
  });

  /** A dtail stream of `user`'s own job, held open unread; resolves once it is served (or refused). */
  function open(user: string): Promise<{ stream: grpc.ClientReadableStream<unknown>; error?: Error }> {
    const client = new StartdClient(pool.daemonAddress('startd'), pool.creds(pool.token(user)));
    clients.push(client);
    const stream = client.tail({ id: { cluster: jobs.get(user)!, proc: 0 }, follow: true });
    streams.push(stream);
    return new Promise((resolve) => {
      stream.once('data', () => {
        stream.pause(); // read no more: the stream stays the startd's to hold
        resolve({ stream });
      });
      stream.once('error', (error: Error) => resolve({ stream, error }));
    });
  }

  test("dtail – eight users holding all the streams do not keep a ninth from its own job's output", async () => {
    const held: Array<{ user: string; stream: grpc.ClientReadableStream<unknown>; error?: Error }> = [];
    for (const user of users.slice(0, 8))
      for (let i = 0; i < 8; i++) {
        const r = await open(user);
        assert.equal(r.error, undefined, `${user}'s stream ${i + 1}: ${r.error?.message}`);
        held.push({ user, stream: r.stream });
      }
    const cut = held.map((h) => new Promise<Error>((resolve) => h.stream.once('error', (e: Error) => resolve(e))));
    const ninth = await open(users[8]!);
    assert.equal(ninth.error, undefined, `the ninth user was refused: ${ninth.error?.message}`);
    // one of the others' streams made way for it, and was told why
    const e = await Promise.race(cut);
    assert.match(e.message, /ended for another user's/);
  });
});
