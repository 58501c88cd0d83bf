// The web daemon (root) reads a DAG's file again for each view of it (`GET /v1/dags/{id}`), with the caller's
// rights, and the DAG's owner may change the file, and what it includes, at any time after it was submitted.
// The view read whatever it found: a graph of any number of nodes, a file included any number of times (each
// read kept until the graph was built), and every rescue DAG beside it, each put whole into the answer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestPool } from '../integration/harness/pool.js';
import { web } from '../integration/harness/web.js';
import { NOBODY, nobodyFolder } from './nobody.js';

const needsRoot = process.getuid?.() !== 0 && 'needs root to run a pool and act as another user';

describe('security – a DAG the web daemon shows', { skip: needsRoot }, () => {
  let pool: TestPool;
  let user: ReturnType<typeof nobodyFolder>;
  let token: string;
  let cluster: number;
  const view = async () => {
    const r = await web(pool, `/v1/dags/${cluster}`, { token });
    assert.equal(r.status, 200, r.text);
    return r.json as { nodes: Array<{ name: string }>; rescue: Array<{ file: string; text: string }>; error?: string };
  };

  before(async () => {
    pool = await TestPool.start({ DAGMAN_MAX_NODES_PER_OWNER: '100' });
    user = nobodyFolder(pool.work);
    // nodes that stay queued while the test looks (they match no slot)
    user.put('n.sub', 'executable = /bin/true\nrequirements = false\nqueue\n');
    user.put('d.dag', 'JOB A n.sub\nJOB B n.sub\nPARENT A CHILD B\n');
    const r = await pool.run('dsubmit-dag', ['d.dag'], { ...NOBODY, cwd: user.dir });
    assert.equal(r.code, 0, r.stderr);
    cluster = Number(/cluster (\d+)/.exec(r.stdout)![1]);
    await pool.waitFor('the DAG to queue its first node', async () =>
      (await pool.json('dq', ['-allusers', '-constraint', `DAGManJobId == ${cluster}`])).some(
        (a) => a.DAGNodeName === 'A',
      ),
    );
    const t = await pool.run('dsched', ['token', 'create'], NOBODY);
    assert.equal(t.code, 0, t.stderr);
    token = t.stdout.trim();
    const shown = await view();
    assert.deepEqual(shown.nodes.map((n) => n.name).sort(), ['A', 'B'], 'the DAG as submitted is shown');
  });
  after(async () => {
    await pool?.stop();
  });

  test('security – web: a DAG file grown past DAGMAN_MAX_NODES_PER_OWNER is read no further', async () => {
    user.put('d.dag', Array.from({ length: 150 }, (_, i) => `JOB N${i} n.sub\n`).join(''));
    const shown = await view();
    assert.match(String(shown.error), /DAGMAN_MAX_NODES_PER_OWNER/);
    assert.ok(shown.nodes.length <= 100, `${shown.nodes.length} nodes shown`);
  });

  test('security – web: a file INCLUDEd again and again is read no further than the bound on all files', async () => {
    // 2 MiB of comments, included 65 times: 130 MiB, past the 128 MiB the DAG's files may have in all
    const line = `# ${'x'.repeat(1021)}\n`;
    user.put('c.inc', line.repeat(2048));
    user.put('d.dag', `JOB A n.sub\n${'INCLUDE c.inc\n'.repeat(65)}`);
    const shown = await view();
    assert.match(String(shown.error), /in all/);
  });

  test('security – web: only the newest rescue DAG is read and shown', async () => {
    user.put('d.dag', 'JOB A n.sub\nJOB B n.sub\nPARENT A CHILD B\n');
    const text = `# ${'r'.repeat(1021)}\n`.repeat(64);
    for (let i = 1; i <= 20; i++) user.put(`d.dag.rescue${String(i).padStart(3, '0')}`, `DONE A\n${text}`);
    const shown = await view();
    assert.equal(shown.error, undefined);
    assert.deepEqual(
      shown.rescue.map((f) => f.file.split('/').pop()),
      ['d.dag.rescue020'],
    );
  });
});
