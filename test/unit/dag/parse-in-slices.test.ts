// dag – a big DAG read in slices (parseDagFileAsync, as the schedd reads one): other work runs between them,
// and the DAG, or the error, is the one parseDagFile gives.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseDagFile, parseDagFileAsync, type Dag } from '../../../grammar/dag/index.js';
import { SourceError } from '../../../lib/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'dag-slices-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A DAG of `n` nodes in a binary tree, half of them (and their edges) in an INCLUDEd file, and a SPLICE. */
function bigDag(name: string, n: number, extra = ''): string {
  const lines = (from: number, to: number) => {
    const out: string[] = [];
    for (let i = from; i < to; i++) out.push(`JOB n${i} job.sub`, `VARS n${i} index="${i}"`);
    for (let i = Math.max(from, 1); i < to; i++) out.push(`PARENT n${Math.floor((i - 1) / 2)} CHILD n${i}`);
    return out.join('\n') + '\n';
  };
  writeFileSync(join(dir, `${name}-inc.dag`), lines(n / 2, n));
  writeFileSync(join(dir, `${name}-splice.dag`), 'JOB a job.sub\nJOB b job.sub\nPARENT a CHILD b\n');
  const file = join(dir, `${name}.dag`);
  writeFileSync(
    file,
    `${lines(0, n / 2)}INCLUDE ${name}-inc.dag\nSPLICE s ${name}-splice.dag\nPARENT n0 CHILD s\n${extra}`,
  );
  return file;
}

const shape = (d: Dag) => ({
  nodes: d.nodes.map(
    (x) => `${x.name} ${x.vars.map((v) => `${v.name}=${v.value}`).join(',')} <- ${x.parents.join(',')}`,
  ),
  edges: d.edgeCount,
  files: d.files,
});

/** parseDagFileAsync, and how many turns of the event loop other work had while it read. */
async function readCountingTurns(file: string): Promise<{ dag?: Dag; error?: unknown; turns: number }> {
  let turns = 0;
  let reading = true;
  const tick = () => {
    if (!reading) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { dag: await parseDagFileAsync(file, { cwd: dir }), turns };
  } catch (error) {
    return { error, turns };
  } finally {
    reading = false;
  }
}

describe('dag read in slices', () => {
  test('dag read in slices – other work runs between the slices, and the DAG is the one read at once', async () => {
    const file = bigDag('big', 40_000);
    const { dag, turns } = await readCountingTurns(file);
    // 100,000 lines, two passes of a few thousand lines a slice: dozens of turns, whatever the machine's speed
    assert.ok(turns >= 20, `${turns} turns`);
    assert.deepEqual(shape(dag!), shape(parseDagFile(file, { cwd: dir })));
    assert.equal(dag!.nodes.length, 40_002);
  });

  test('dag read in slices – an error late in a big DAG is the same SourceError, file:line:column', async () => {
    const file = bigDag('bad', 20_000, 'PARENT n1 CHILD nosuchnode\n');
    const { error, turns } = await readCountingTurns(file);
    assert.ok(turns >= 10, `${turns} turns`);
    let sync: unknown;
    try {
      parseDagFile(file, { cwd: dir });
    } catch (e) {
      sync = e;
    }
    assert.ok(error instanceof SourceError && sync instanceof SourceError, String(error));
    assert.equal(error.code, 'DAG_UNKNOWN_NODE');
    assert.equal(error.message, sync.message);
    assert.deepEqual(error.location, sync.location);
    assert.match(error.message, /bad\.dag:\d+:\d+/);
  });
});
