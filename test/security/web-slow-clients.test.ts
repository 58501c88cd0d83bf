// Clients of the web daemon that stop reading, as a local user (uid 65534) against a root pool. Headers and whole
// requests are bounded in time (headersTimeout, requestTimeout), but Node answers requests sent back to back on
// one connection (pipelining) without waiting for the answers to be read and keeps every unsent one: one
// connection sending thousands and reading none made the daemon hold hundreds of MB, for good. Now a connection
// with more than 16 unanswered requests is closed and the requests past them are not handled.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { web, webAddress } from '../integration/harness/web.js';
import { scriptAsNobody } from './nobody.js';

const asRoot = process.getuid?.() === 0;

/** A script that sends `count` requests for `path` back to back on one connection, reads none of the answers,
 *  and prints once the daemon has closed the connection. */
function stalledReader(pool: TestPool, name: string, path: string, count: number): string {
  const address = webAddress(pool);
  const host = address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const port = Number(address.split(':').pop());
  const script = join(pool.work, name);
  const one = `GET ${path} HTTP/1.1\r\nHost: ${address}\r\n\r\n`;
  writeFileSync(
    script,
    [
      `import { connect } from 'node:net';`,
      `import { readFileSync } from 'node:fs';`,
      `const s = connect({ host: ${JSON.stringify(host)}, port: ${port} }, () => s.write(${JSON.stringify(one)}.repeat(${count})));`,
      `s.pause();`,
      `s.on('error', () => {});`,
      // a client that reads nothing is not told of the daemon's FIN; the kernel's table of sockets is: this end
      // goes from ESTABLISHED (01) to CLOSE_WAIT (08) once the daemon has closed the connection
      `const hex = (n) => n.toString(16).toUpperCase().padStart(4, '0');`,
      `const state = () => { for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) for (const l of readFileSync(f, 'utf8').split('\\n').slice(1)) { const c = l.trim().split(/\\s+/); if (c[1]?.endsWith(':' + hex(s.localPort)) && c[2]?.endsWith(':' + hex(${port}))) return c[3]; } return 'gone'; };`,
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

  test('security – web: thousands of requests sent back to back and never read close the connection; root is answered', async () => {
    const pid = pool.daemonPid('web');
    const script = stalledReader(pool, 'web-pipeline.mts', '/v1/openapi.json', 3000);
    assert.deepEqual(await scriptAsNobody(pool, script, []), { closed: true });
    const r = await web(pool, '/v1/whoami', { token: rootToken });
    assert.equal(r.status, 200, r.text);
    assert.equal(pool.daemonPid('web'), pid, 'the web daemon was not restarted');
  });
});
