// The spawner's exit journal (spawner-journal.ts): what a startd reads back after its spawner died is every
// end not marked done, a line cut short by a crash is skipped, and the file is emptied when nothing is owed.
import { strict as assert } from 'node:assert';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readSpawnerJournal, spawnerJournalFile, spawnerJournals, SpawnerJournalWriter, type SpawnerExit } from '../../../daemons/startd/spawner-journal.js';

const dir = mkdtempSync(join(tmpdir(), 'dsched-spawner-journal-'));
const end = (run: string, exitCode = 0): SpawnerExit => ({ run, note: { addr: 'localhost:1', claim: `c-${run}`, cluster: 1, proc: Number(run.slice(1)) }, exitCode, time: 1 });

describe('spawner exit journal', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('spawner exit journal – ends not marked done are read back, in full', async () => {
    const file = spawnerJournalFile(dir, 101);
    const w = new SpawnerJournalWriter(file);
    await Promise.all([w.record(end('r1', 3)), w.record(end('r2'))]);
    w.done(['r2']);
    assert.deepEqual(readSpawnerJournal(file), [end('r1', 3)]);
    assert.deepEqual(spawnerJournals(dir, 999), [{ file, pid: 101 }]);
    assert.deepEqual(spawnerJournals(dir, 101), []);
  });

  test('spawner exit journal – a line cut short by a crash is skipped, the ends before it kept', async () => {
    const file = spawnerJournalFile(dir, 102);
    const w = new SpawnerJournalWriter(file);
    await w.record(end('r1'));
    appendFileSync(file, JSON.stringify(end('r2')).slice(0, 20));
    assert.deepEqual(readSpawnerJournal(file).map((e) => e.run), ['r1']);
  });

  test('spawner exit journal – the file is emptied once every end is done', async () => {
    const file = spawnerJournalFile(dir, 103);
    const w = new SpawnerJournalWriter(file);
    await w.record(end('r1'));
    await w.record(end('r2'));
    w.done(['r1']);
    assert.notEqual(readFileSync(file, 'utf8'), '');
    w.done(['r2']);
    assert.equal(readFileSync(file, 'utf8'), '');
    await w.record(end('r3'));
    assert.deepEqual(readSpawnerJournal(file).map((e) => e.run), ['r3']);
  });
});
