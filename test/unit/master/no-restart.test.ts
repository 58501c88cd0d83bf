// master – a daemon that exits 99 (DAEMON_NO_RESTART: restarting cannot help, e.g. a damaged job queue) is
// kept down as `failed` by both masters, and started again at an admin's request once it is mended (the node
// master's StartDaemon, the native master's SIGUSR1: `dsched on`). The native master once restarted it in a loop.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Supervisor } from '../../../daemons/master/supervisor.js';
import { createLogger } from '../../../lib/log.js';

const dir = mkdtempSync(join(tmpdir(), 'dsched-unit-master-no-restart-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const NATIVE = join(import.meta.dirname, '..', '..', '..', 'dist', 'daemons', 'master', 'dsched-master');

async function until<T>(what: string, check: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A daemon that refuses to run (exit 99) until `mended` exists, then runs. */
function refuser(folder: string): { program: string; mended: string } {
  const mended = join(folder, 'mended');
  const program = join(folder, 'refuser.sh');
  writeFileSync(program, `#!/bin/sh\n[ -e ${mended} ] && exec sleep 600\nexit 99\n`, { mode: 0o755 });
  return { program, mended };
}

describe('master – no restart after exit 99', () => {
  test(
    'master – the native master keeps a daemon that exited 99 down, and starts it again on SIGUSR1',
    { skip: !existsSync(NATIVE) },
    async () => {
      const home = join(dir, 'native');
      mkdirSync(home, { recursive: true });
      const { program, mended } = refuser(home);
      const master = spawn(NATIVE, [`dsched-unit-nr-${process.pid}`, home, home, '60', 'refuser', program], {
        stdio: 'ignore',
      });
      const exited = new Promise((r) => master.once('exit', r));
      const state = () => {
        const p = join(home, 'master.state');
        return existsSync(p) ? (/^daemon refuser (\d+) (\w+) (\d+) (.*)$/m.exec(readFileSync(p, 'utf8')) ?? []) : [];
      };
      try {
        const failed = await until('the daemon to be failed', () => state()[2] === 'failed' && state());
        assert.equal(failed[3], '0', 'never restarted');
        assert.equal(failed[4], 'exit code 99');
        const log = readFileSync(join(home, 'master.log'), 'utf8');
        assert.match(log, /"daemon cannot run until an admin acts; not restarting"/);
        assert.doesNotMatch(log, /daemon died; restarting/);
        writeFileSync(mended, '');
        master.kill('SIGUSR1');
        await until('the daemon to run again', () => state()[2] === 'running');
      } finally {
        master.kill('SIGTERM');
        await exited;
      }
    },
  );

  test('master – the node master keeps it down too, and revive starts it again', async () => {
    const home = join(dir, 'node');
    mkdirSync(home, { recursive: true });
    const { program, mended } = refuser(home);
    // the supervisor runs node scripts: one that runs the refuser
    const script = join(home, 'refuser.mjs');
    writeFileSync(
      script,
      `import { spawnSync } from 'node:child_process'; process.exit(spawnSync(${JSON.stringify(program)}, { stdio: 'ignore' }).status ?? 1);\n`,
    );
    const s = new Supervisor(
      createLogger('master', home),
      home,
      () => 60,
      home,
      () => 0,
      () => script,
    );
    try {
      s.start(['refuser']);
      const d = s.daemons.get('refuser')!;
      await until('the daemon to be failed', () => d.state === 'failed');
      assert.equal(d.restarts, 0);
      assert.equal(s.revive('running-nowhere'), undefined);
      writeFileSync(mended, '');
      assert.equal(s.revive('refuser'), 'failed');
      await until('the daemon to run again', () => d.state === 'running' && d.pid > 0);
      assert.equal(s.revive('refuser'), 'running', 'a running daemon is left alone');
    } finally {
      await s.stop(5_000);
    }
  });
});
