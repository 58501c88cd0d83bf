// A daemon's shutdown signals (lib/daemon.ts, onShutdown), in a real process: SIGTERM stops it gracefully,
// a SIGTERM repeated meanwhile (a wrapper passing signals on) is ignored, SIGQUIT stops it at once.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'dsched-shutdown-'));
const daemon = resolve('lib/daemon.ts');
// a daemon whose graceful stop lasts until the test creates `go`
const script = join(dir, 'daemon.ts');
writeFileSync(
  script,
  `import { existsSync } from 'node:fs';
import { onShutdown } from ${JSON.stringify(daemon)};
const go = process.argv[2];
const say = (a: unknown, b?: string) => console.log(JSON.stringify({ msg: typeof a === 'string' ? a : b }));
const log = { info: say, warn: say, error: say };
const ctx = { name: 'testd', log, config: { paths: { run: process.argv[3] } } };
onShutdown(ctx as never, async () => {
  for (let i = 0; i < 2000 && !existsSync(go); i++) await new Promise((r) => setTimeout(r, 10));
});
setInterval(() => {}, 1000);
log.info('ready');
`,
);

function start(name: string) {
  const go = join(dir, `${name}.go`);
  const child = spawn(process.execPath, ['--import', 'tsx', script, go, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push((JSON.parse(l) as { msg: string }).msg);
    for (const w of waiters.splice(0)) w();
  });
  const logged = async (msg: string) => {
    while (!lines.includes(msg)) await new Promise<void>((w) => waiters.push(w));
  };
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, go, lines, logged, exited };
}

/** A daemon in its graceful stop (SIGTERM taken). */
async function stopping(name: string) {
  const d = start(name);
  await d.logged('ready');
  d.child.kill('SIGTERM');
  await d.logged('testd shutting down');
  return d;
}

describe('daemon shutdown', { timeout: 60_000 }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('daemon shutdown – a second SIGTERM during a graceful stop is ignored: the stop completes and the daemon exits 0', async () => {
    const d = await stopping('twice');
    d.child.kill('SIGTERM');
    d.child.kill('SIGINT');
    await d.logged('already shutting down gracefully; SIGQUIT stops at once');
    writeFileSync(d.go, '');
    const [code] = await d.exited;
    assert.equal(code, 0, d.lines.join('\n'));
    assert.ok(d.lines.includes('testd stopped'));
  });

  test('daemon shutdown – SIGQUIT during a graceful stop exits at once', async () => {
    const d = await stopping('quit');
    d.child.kill('SIGQUIT');
    const [code] = await d.exited;
    assert.equal(code, 1);
    assert.ok(d.lines.includes('testd: fast shutdown, exiting now'));
    assert.ok(!d.lines.includes('testd stopped'), 'the graceful stop did not finish');
  });
});
