// What every command offers before it talks to a pool: --version, --help with examples, HTCondor's
// single-dash spellings, dsched's subcommands (each with its own --help; `--` ends eval's options), shell
// completion, and dsubmit's warning for a request that cannot be evaluated.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DIST, ROOT } from './harness/pool.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};
// a home with no pool: a command that gets past its options says the pool is not running
const home = mkdtempSync(join(tmpdir(), 'dsched-cli-'));

function run(cmd: string, args: string[], cwd = home) {
  const r = spawnSync(process.execPath, [join(DIST, 'cli', `${cmd}.js`), ...args], {
    cwd,
    env: { ...process.env, DSCHED_HOME: home, COLUMNS: '100' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('command line', () => {
  after(() => rmSync(home, { recursive: true, force: true }));

  test('cli – every command prints its version and help with examples, exit 0', () => {
    for (const cmd of Object.keys(pkg.bin)) {
      for (const flag of ['--version', '-version']) {
        const v = run(cmd, [flag]);
        assert.equal(v.code, 0, `${cmd} ${flag}: ${v.stderr}`);
        assert.equal(v.stdout.trim(), `${cmd} (dsched) ${pkg.version}`);
      }
      const h = run(cmd, ['--help']);
      assert.equal(h.code, 0, `${cmd} --help: ${h.stderr}`);
      assert.match(h.stdout, /^Examples:$/m, `${cmd} --help has examples`);
      assert.doesNotMatch(h.stdout, /undefined/, `${cmd} --help`);
    }
  });

  test('cli – HTCondor single-dash options are options, not letters or job ids', () => {
    for (const [cmd, args] of [
      ['dq', ['-nobatch']],
      ['dq', ['-long']],
      ['dq', ['-af', 'Owner', 'JobStatus']],
      ['dq', ['-af:j', 'Owner']],
      ['dq', ['-constraint', 'JobStatus == 1', '-allusers']],
      ['dq', ['-better-analyze']],
      ['dhistory', ['-long', '-limit', '3']],
      ['dstatus', ['-avail']],
      ['dstatus', ['-total']],
      ['drm', ['-constraint', 'true']],
      ['dhold', ['12', '-reason', 'input not ready']],
      ['dsched', ['drain', 'node7', '-reason', 'kernel upgrade']],
    ] as const) {
      const r = run(cmd, [...args]);
      assert.equal(r.code, 1, `${cmd} ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /error\[(SCHEDD|COLLECTOR)_UNREACHABLE\]/, `${cmd} ${args.join(' ')} parsed its options`);
    }
    const bad = run('dq', ['-nobatchx']);
    assert.equal(bad.code, 2);
    // named as typed, with its dash: `dq -5` said "Unknown argument: 5"
    assert.match(bad.stderr, /error\[USAGE\]: Unknown argument: -nobatchx$/m);
    assert.match(run('dq', ['-5']).stderr, /error\[USAGE\]: Unknown argument: -5$/m);
  });

  test('cli – dsched subcommands: drain --help exits 0, eval --help describes eval, -- ends the options', () => {
    const d = run('dsched', ['drain', '--help']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /dsched drain <NAME>/);
    assert.match(d.stdout, /--cancel/);
    const e = run('dsched', ['eval', '--help']);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /evaluate ClassAd expressions/);
    assert.doesNotMatch(e.stdout, /undefined/);
    const dash = run('dsched', ['eval', '--', '-1 + 2', '-x']);
    assert.equal(dash.code, 0, dash.stderr);
    assert.equal(dash.stdout, '1\nundefined\n');
    const t = run('dsched', ['eval', '--target', '[ Memory = 4096 ]', 'TARGET.Memory > 2048']);
    assert.equal(t.stdout, 'true\n');
    // positionals of every subcommand reach the command (a missed declaration made them "Unknown argument")
    const join_ = run('dsched', ['join', 'central:9618', 'not-a-token']);
    assert.equal(join_.code, 2);
    assert.match(join_.stderr, /that is not a join token/);
    for (const sub of [
      'start',
      'stop',
      'status',
      'reconfig',
      'config',
      'token',
      'join',
      'revoke',
      'completion',
      'shims',
      'schedd',
    ]) {
      const h = run('dsched', [sub, '--help']);
      assert.equal(h.code, 0, `dsched ${sub} --help: ${h.stderr}`);
      assert.match(h.stdout, new RegExp(`^dsched ${sub}\\b`, 'm'));
    }
    const none = run('dsched', []);
    assert.equal(none.code, 2);
    assert.match(none.stdout, /Commands:/);
    const unknown = run('dsched', ['bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /error\[USAGE\]: Unknown command: bogus/);
  });

  test('cli – a reader that goes away (dq | head) stops a command quietly, with the status of a closed pipe', async () => {
    // the read end is closed before the command writes: its first write fails with EPIPE
    const child = spawn(process.execPath, [join(DIST, 'cli', 'dsched.js'), 'completion', 'bash'], {
      env: { ...process.env, DSCHED_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(stderr, '', 'no stack trace, no message');
    assert.equal(code, 141);
  });

  test('cli – dsched completion bash completes every command; completing never runs one', () => {
    const c = run('dsched', ['completion', 'bash']);
    assert.equal(c.code, 0, c.stderr);
    for (const cmd of Object.keys(pkg.bin)) assert.match(c.stdout, new RegExp(`complete .*\\b${cmd}\\b`), cmd);
    // the installed command names, as npm links them
    const bin = join(home, 'bin');
    mkdirSync(bin);
    for (const cmd of Object.keys(pkg.bin)) symlinkSync(join(DIST, 'cli', `${cmd}.js`), join(bin, cmd));
    const complete = (words: string) =>
      spawnSync(
        'bash',
        [
          '-c',
          `eval "$COMPLETION"; COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _dsched_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        {
          env: { ...process.env, COMPLETION: c.stdout, DSCHED_HOME: home, PATH: `${bin}:${process.env.PATH}` },
          encoding: 'utf8',
          timeout: 30_000,
        },
      ).stdout.split('\n');
    assert.deepEqual(complete('dq -nob'), ['-nobatch', ''], 'HTCondor spelling for a single dash');
    assert.ok(complete('dq --con').includes('--constraint'));
    assert.ok(complete('dsched dr').includes('drain'));
    assert.ok(complete('dsched drain x --ca').includes('--cancel'));
    complete('dsched start');
    assert.ok(!existsSync(join(home, 'run')), 'completing `dsched start` started no pool');
  });

  test('cli – dsubmit warns when a request names an attribute the job does not define', () => {
    writeFileSync(join(home, 'lots.sub'), 'executable = /bin/true\nrequest_memory = lots\nqueue\n');
    writeFileSync(
      join(home, 'fine.sub'),
      'executable = /bin/true\nrequest_memory = ifThenElse(MemoryUsage =!= undefined, MemoryUsage * 2, 2048)\nqueue\n',
    );
    const r = run('dsubmit', ['--dry-run', 'lots.sub']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: request_memory = lots: RequestMemory uses lots, which the job does not define/);
    const f = run('dsubmit', ['--dry-run', 'fine.sub']);
    assert.doesNotMatch(f.stderr, /warning/);
    assert.match(run('dsubmit', ['--dry-run', 'fine.sub']).stdout, /^RequestMemory = ifThenElse/m);
    writeFileSync(join(home, 'plain.sub'), 'executable = /bin/true\nqueue\n');
    assert.match(
      run('dsubmit', ['--dry-run', 'plain.sub']).stdout,
      /^RequestMemory = 1024$/m,
      'the documented default (docs/submit.md)',
    );
  });

  test('cli – scripts/man.mjs makes a man page per command from its --help', () => {
    const dir = join(home, 'man');
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'man.mjs'), dir], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    for (const cmd of Object.keys(pkg.bin)) assert.ok(existsSync(join(dir, 'man1', `${cmd}.1`)), cmd);
    const dq = readFileSync(join(dir, 'man1', 'dq.1'), 'utf8');
    assert.match(dq, /^\.TH DQ 1 /m);
    assert.match(dq, /^dq \\- the job queue \(condor_q\)$/m);
    assert.match(dq, /--nobatch +one line per job/);
    assert.match(readFileSync(join(dir, 'man1', 'dsched.1'), 'utf8'), /^\.SS dsched drain$/m);
  });
});
