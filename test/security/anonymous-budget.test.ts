// A method open to anyone reads at most 2 MiB per request, but the calls themselves were not counted: N clients
// without a credential, each holding a call open with a 2 MiB request half sent, made a daemon hold N x 2 MiB.
// Anonymous calls now share a budget (ANONYMOUS_REQUEST_BUDGET, 32 MiB, and 8 MiB per client host), charged
// from each message's declared length before its body is read and given back when the call ends, however it
// ends. This client speaks raw HTTP/2 from several loopback addresses (127.0.0.2, ...: one host each), so that
// its calls stay open with their bodies unfinished, as a hostile client's would.
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, chownSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { ANONYMOUS_REQUEST_BYTES } from '../../lib/rpc/server.js';
import { TestPool } from '../integration/harness/pool.js';

const RESOURCE_EXHAUSTED = 8;
const DEADLINE_EXCEEDED = 4;

interface Answer {
  status: number;
  message: string;
  code?: string;
}

/** One anonymous Health.Check with a request of ANONYMOUS_REQUEST_BYTES whose body is sent only in part. */
interface Held {
  stream: ClientHttp2Stream;
  answer: Promise<Answer>;
  answered?: Answer;
}

/** A valid Health.Check request of exactly ANONYMOUS_REQUEST_BYTES: field 1 (service), a long name. */
function checkRequest(): Buffer {
  const n = ANONYMOUS_REQUEST_BYTES - 4; // the tag byte and a 3-byte length
  const msg = Buffer.alloc(ANONYMOUS_REQUEST_BYTES, 0x78);
  msg[0] = 0x0a;
  msg[1] = (n & 0x7f) | 0x80;
  msg[2] = ((n >> 7) & 0x7f) | 0x80;
  msg[3] = n >> 14;
  const head = Buffer.alloc(5);
  head.writeUInt32BE(ANONYMOUS_REQUEST_BYTES, 1);
  return Buffer.concat([head, msg]);
}
const REQUEST = checkRequest();
const PART = 4096;

const until = async <T>(what: string, probe: () => T | undefined | false, ms = 60_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, wait));
  }
};

describe('security – bytes of anonymous requests in flight', () => {
  let pool: TestPool;
  let port: number;
  let ca: Buffer;
  const sessions: ClientHttp2Session[] = [];
  const sockets = new Map<ClientHttp2Session, TLSSocket>();
  const home = mkdtempSync(join(tmpdir(), 'dsched-nobody-home-'));
  const nobody = { uid: 65534, gid: 65534, env: { USER: 'nobody', HOME: home, XDG_CACHE_HOME: undefined } };

  before(async () => {
    pool = await TestPool.start();
    port = Number(/:(\d+)$/.exec(pool.daemonAddress('schedd'))![1]);
    ca = readFileSync(join(pool.home, 'ca', 'ca.crt'));
    chmodSync(home, 0o700);
    chownSync(home, 65534, 65534);
  });
  after(async () => {
    for (const s of sessions) s.destroy();
    await pool?.stop();
  });

  /** A connection to the schedd from `host` (a loopback address), with no credential. */
  const connectFrom = (host: string): ClientHttp2Session => {
    // one socket object owns the connection (a TCP socket handed to TLS and destroyed under it once left a
    // test process spinning after its tests had ended)
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      // tls.connect hands this on to net.connect (the types leave it out)
      ...({ localAddress: host } as object),
      ca,
      ALPNProtocols: ['h2'],
      checkServerIdentity: () => undefined,
    });
    // a reset this end did not ask for is the session's to report (an unhandled one would end the test process)
    socket.on('error', () => {});
    const s = http2Connect(`https://127.0.0.1:${port}`, { createConnection: () => socket });
    sockets.set(s, socket);
    s.on('error', () => {});
    sessions.push(s);
    return s;
  };

  /** Open a call and send its message header and the first few KB of its body; `timeout` as grpc-timeout. */
  const hold = (session: ClientHttp2Session, timeout?: string): Held => {
    const stream = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
      ...(timeout ? { 'grpc-timeout': timeout } : {}),
    });
    stream.write(REQUEST.subarray(0, PART));
    const held: Held = {
      stream,
      answer: new Promise<Answer>((resolve) => {
        const seen: Record<string, unknown> = {};
        const done = () => {
          if (seen['grpc-status'] === undefined) return false;
          const code = seen['dsched-error-code'];
          resolve({
            status: Number(seen['grpc-status']),
            message: decodeURIComponent(String(seen['grpc-message'] ?? '')),
            code: code === undefined ? undefined : String(code),
          });
          return true;
        };
        stream.on('response', (h) => (Object.assign(seen, h), done()));
        stream.on('trailers', (h) => (Object.assign(seen, h), done()));
        stream.on('close', () => done() || resolve({ status: -1, message: `stream closed (${stream.rstCode})` }));
        stream.on('error', () => {});
        stream.resume();
      }),
    };
    void held.answer.then((a) => (held.answered = a));
    return held;
  };

  const refused = (h: Held) => h.answered?.status === RESOURCE_EXHAUSTED;

  /**
   * Hosts .2 to .5 each open five calls: the fifth of each (whichever it is) is refused, as one host may hold
   * 8 MiB, four of them; together they hold the daemon's 32 MiB, so a call from a fifth host (.6) is refused
   * for the whole budget. Returns every call, still open, and the refusals in the order they came.
   */
  const fill = async () => {
    const calls: Held[][] = [];
    const refusals: Answer[] = [];
    for (const n of [2, 3, 4, 5]) {
      const session = connectFrom(`127.0.0.${n}`);
      const mine = [0, 1, 2, 3, 4].map(() => hold(session));
      calls.push(mine);
      const first = await until(`a refusal at host 127.0.0.${n}`, () => mine.find(refused));
      refusals.push(first.answered!);
    }
    const last = hold(connectFrom('127.0.0.6'));
    await until('a refusal at host 127.0.0.6', () => refused(last));
    refusals.push(last.answered!);
    const all = [...calls.flat(), last];
    return { calls, refusals, refusedNow: all.filter(refused).length };
  };

  test('security – anonymous calls past the budget are refused before their body is read, and give it back when they end', async () => {
    // nobody's token, got before the attack (the challenge is an anonymous call), is kept for their next commands
    const first = await pool.run('dq', [], nobody);
    assert.equal(first.code, 0, first.stderr);

    // calls that end at their deadline give back what they held
    const late = connectFrom('127.0.0.7');
    const expired = [0, 1, 2, 3].map(() => hold(late, '1S'));
    for (const h of expired) assert.equal((await h.answer).status, DEADLINE_EXCEEDED);

    const round = await fill();
    for (const r of round.refusals) {
      assert.equal(r.status, RESOURCE_EXHAUSTED, r.message);
      assert.equal(r.code, 'ANONYMOUS_LIMIT', r.message);
    }
    for (const r of round.refusals.slice(0, 4)) assert.match(r.message, /ANONYMOUS_REQUEST_BUDGET_PER_HOST/);
    assert.match(round.refusals[4]!.message, /ANONYMOUS_REQUEST_BUDGET\)/);
    assert.equal(round.refusedNow, 5, 'one call refused per host, and the fifth host’s');

    // users and daemons are not counted: dq (root's, and nobody's with their token) answers meanwhile
    for (const opts of [{}, nobody]) {
      const q = await pool.run('dq', ['-allusers'], opts);
      assert.equal(q.code, 0, q.stderr);
    }

    // the calls end every way a call can: cancelled (RST_STREAM), the connection reset, answered (the rest
    // of the body sent: an answer, SERVICE_UNKNOWN), the connection's socket destroyed
    const [a, b, c, d] = round.calls as [Held[], Held[], Held[], Held[]];
    for (const h of a) h.stream.close();
    b[0]!.stream.session!.destroy();
    for (const h of c.filter((x) => !refused(x))) h.stream.end(REQUEST.subarray(PART));
    for (const h of c.filter((x) => !refused(x))) assert.equal((await h.answer).code, 'SERVICE_UNKNOWN');
    sockets.get(d[0]!.stream.session as ClientHttp2Session)!.destroy();
    for (const s of sessions) s.destroy();

    // the budget is whole again: the same hosts fill it exactly as before (any byte not given back would
    // make a host's calls refused for the daemon's budget, or more of them). The server sees the ends a
    // moment after the client, so a round that finds it not yet whole is tried again.
    const deadline = Date.now() + 120_000;
    for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
      const again = await fill();
      for (const s of sessions.splice(0)) s.destroy();
      const whole =
        again.refusedNow === 5 &&
        again.refusals.slice(0, 4).every((r) => /PER_HOST/.test(r.message)) &&
        /ANONYMOUS_REQUEST_BUDGET\)/.test(again.refusals[4]!.message);
      if (whole) break;
      assert.ok(Date.now() < deadline, `the budget is not whole again: ${JSON.stringify(again.refusals)}`);
      await new Promise((r) => setTimeout(r, wait));
    }
    const q = await pool.run('dq', ['-allusers'], nobody);
    assert.equal(q.code, 0, q.stderr);
  });

  test('security – an anonymous call that never sends the rest of its body ends, and gives back its part', async () => {
    appendFileSync(join(pool.home, 'config'), 'ANONYMOUS_REQUEST_TIMEOUT = 1\n');
    const r = await pool.run('dsched', ['reconfig']);
    assert.equal(r.code, 0, r.stderr);
    // (a call admitted before the schedd read the new value waits the old 60 s: it ends the same way)
    const session = connectFrom('127.0.0.2');
    const calls = [0, 1, 2, 3].map(() => hold(session));
    for (const h of calls) {
      const a = await h.answer;
      assert.equal(a.code, 'TIMEOUT', a.message);
      assert.match(a.message, /ANONYMOUS_REQUEST_TIMEOUT/);
    }
    // what they held is back: the host may hold as much again
    const again = [0, 1, 2, 3].map(() => hold(session));
    for (const h of again) assert.equal((await h.answer).code, 'TIMEOUT');
  });
});
