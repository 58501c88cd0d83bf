// submit clusters – as condor_submit, a queue statement whose executable differs from the one before starts a
// new cluster, its procs numbered from 0; the same executable queued again stays in the cluster.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clusterPlans, expandSubmit, loadSubmit, singleCluster } from '../../../grammar/submit/index.js';
import { SourceError } from '../../../lib/errors.js';
import { input, scratch } from './helpers.js';

function clusters(text: string) {
  const s = scratch();
  try {
    for (const f of ['a.sh', 'b.sh']) s.write(f, '#!/bin/sh\ntrue\n', 0o755);
    const plan = loadSubmit(input(s.dir, text));
    return {
      plan,
      dir: s.dir,
      jobs: clusterPlans(plan).map((p, i) => expandSubmit(p, 10 + i).jobs),
    };
  } finally {
    s.cleanup();
  }
}

describe('submit clusters', () => {
  test('submit clusters – a changed executable starts a new cluster, procs from 0, other commands carried on', () => {
    const { jobs, dir } = clusters(
      'executable = a.sh\narguments = one\nqueue 2\narguments = two\nqueue\nexecutable = b.sh\nqueue 3\n',
    );
    assert.equal(jobs.length, 2);
    const [first, second] = jobs;
    assert.equal(first!.cluster.Cmd, `"${dir}/a.sh"`);
    assert.equal(first!.cluster.ClusterId, '10');
    assert.deepEqual(
      first!.procs.map((p) => [p.ProcId, p.Args ?? first!.cluster.Args]),
      [
        ['0', '"one"'],
        ['1', '"one"'],
        ['2', '"two"'],
      ],
    );
    assert.equal(second!.cluster.Cmd, `"${dir}/b.sh"`);
    assert.equal(second!.cluster.ClusterId, '11');
    assert.equal(second!.cluster.Args, '"two"', 'the commands before stay set');
    assert.deepEqual(
      second!.procs.map((p) => p.ProcId),
      ['0', '1', '2'],
    );
  });

  test('submit clusters – the same executable again, or a loop over items, stays one cluster', () => {
    assert.equal(clusters('executable = a.sh\nqueue\nexecutable = a.sh\nqueue 2\n').jobs.length, 1);
    assert.equal(clusters('executable = a.sh\nqueue x in (1 2 3)\n').jobs.length, 1);
    const back = clusters('executable = a.sh\nqueue\nexecutable = b.sh\nqueue\nexecutable = a.sh\nqueue\n');
    assert.deepEqual(
      back.jobs.map((j) => j.procs.length),
      [1, 1, 1],
      'a.sh, b.sh, a.sh: three clusters, as condor_submit compares with the statement before',
    );
  });

  test('submit clusters – where one cluster is queued (a DAG node), the second is refused at its queue line', () => {
    const { plan } = clusters('executable = a.sh\nqueue\nexecutable = b.sh\nqueue\n');
    assert.throws(
      () => singleCluster(plan, 'a DAG node'),
      (e: unknown) =>
        e instanceof SourceError && e.code === 'SUBMIT_QUEUE' && e.location.line === 4 && /a DAG node/.test(e.message),
    );
    assert.doesNotThrow(() => singleCluster(clusters('executable = a.sh\nqueue 2\n').plan, 'a DAG node'));
  });
});
