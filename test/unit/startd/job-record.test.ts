// The startd's record of its running jobs (job-record.ts): changes are appended, a restarted startd reads
// what is still running, whatever form an earlier version wrote.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { JobRecordFile, type JobRecordEntry } from '../../../daemons/startd/job-record.js';

const dir = mkdtempSync(join(tmpdir(), 'job-record-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A record over a live list of entries, as the startd keeps one. */
function record(name: string) {
  const live = new Map<string, JobRecordEntry>();
  const file = new JobRecordFile(join(dir, name), () => [...live.values()]);
  const change = (sandbox: string, e?: JobRecordEntry) => {
    if (e) live.set(sandbox, e);
    else live.delete(sandbox);
    file.save(new Map([[sandbox, e]]));
  };
  return { file, live, change };
}

describe('startd – record of running jobs', () => {
  test('startd – a job started and one ended are appended; a restarted startd reads what still runs', () => {
    const r = record('jobs-a.json');
    r.file.save(); // the first write is whole
    r.change('/x/dir_1', { sandbox: '/x/dir_1', ref: { pid: 11 } });
    r.change('/x/dir_2', { sandbox: '/x/dir_2', ref: { pid: 12 } });
    r.change('/x/dir_1');
    r.change('/x/dir_3', { sandbox: '/x/dir_3', ref: { pid: 13 } });
    r.change('/x/dir_3', { sandbox: '/x/dir_3', ref: { pid: 13 }, hold: { code: 34 } });
    const again = new JobRecordFile(r.file.file, () => []);
    assert.deepEqual(
      again.read().sort((a, b) => a.sandbox.localeCompare(b.sandbox)),
      [
        { sandbox: '/x/dir_2', ref: { pid: 12 } },
        { sandbox: '/x/dir_3', ref: { pid: 13 }, hold: { code: 34 } },
      ],
    );
    assert.equal(readFileSync(r.file.file, 'utf8').trim().split('\n').length, 5, 'one line per change');
  });

  test('startd – an unchanged entry writes nothing; the file is written whole once it has grown', () => {
    const r = record('jobs-b.json');
    r.file.save();
    r.change('/x/keep', { sandbox: '/x/keep' });
    const size = readFileSync(r.file.file, 'utf8').length;
    r.change('/x/keep', { sandbox: '/x/keep' });
    assert.equal(readFileSync(r.file.file, 'utf8').length, size, 'nothing appended for an unchanged entry');
    for (let i = 0; i < 400; i++) {
      r.change(`/x/j${i}`, { sandbox: `/x/j${i}` });
      r.change(`/x/j${i}`);
    }
    const lines = readFileSync(r.file.file, 'utf8').trim().split('\n');
    assert.ok(lines.length < 400, `compacted (${lines.length} lines)`);
    assert.deepEqual(new JobRecordFile(r.file.file, () => []).read(), [{ sandbox: '/x/keep' }]);
  });

  test('startd – the list an earlier version wrote (a JSON array) is read', () => {
    const f = join(dir, 'jobs-old.json');
    writeFileSync(f, JSON.stringify([{ sandbox: '/x/old', pid: 7, tag: 't' }, { nope: 1 }]));
    assert.deepEqual(new JobRecordFile(f, () => []).read(), [{ sandbox: '/x/old', pid: 7, tag: 't' }]);
  });

  test('startd – a line cut short by a crash is skipped, the lines after it count', () => {
    const f = join(dir, 'jobs-cut.json');
    writeFileSync(f, '{"sandbox":"/x/a"}\n{"sandbox":"/x/b","ref":{"pi\n{"gone":"/x/a"}\n{"sandbox":"/x/c"}\n');
    assert.deepEqual(new JobRecordFile(f, () => []).read(), [{ sandbox: '/x/c' }]);
  });

  test('startd – after a failed write the next one writes the whole file', () => {
    const sub = mkdtempSync(join(dir, 'fail-'));
    const path = join(sub, 'jobs.json');
    const live = new Map<string, JobRecordEntry>([['/x/a', { sandbox: '/x/a' }]]);
    const file = new JobRecordFile(path, () => [...live.values()]);
    file.save();
    // the append fails (here: the path is a directory for a moment)
    rmSync(path);
    mkdirSync(path);
    live.set('/x/b', { sandbox: '/x/b' });
    assert.throws(() => file.save(new Map([['/x/b', live.get('/x/b')]])));
    rmSync(path, { recursive: true });
    live.delete('/x/a');
    file.save(new Map([['/x/a', undefined]]));
    assert.deepEqual(new JobRecordFile(path, () => []).read(), [{ sandbox: '/x/b' }]);
  });
});
