#!/usr/bin/env node
// dsched-rank (PBS's pbsdsh): inside a parallel job's first chunk, run a program on each of the job's other
// chunks at once, wait for all of them, print what each wrote (in chunk order), and exit with the first
// failure's status. Each chunk's startd starts the program as a job of the claim held there for this job
// (it is killed with the job and its usage counted); a chunk whose program fails ends the whole job. The
// startds are found, and the job proves itself to them, through the file DSCHED_RANKS names in its sandbox.
import { readFileSync } from 'node:fs';
import { DschedError } from '../lib/errors.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { cli } from './shared/yargs.js';
import { readPoolCa } from './shared/pool-ca.js';

async function main(argv: string[]): Promise<number> {
  const a = await cli('dsched-rank', argv, 'usage: dsched-rank [-n PROCNO] PROGRAM [ARGS...]')
    .option('n', { type: 'number', describe: 'only on this chunk (1 … DSCHED_NPROCS-1)' })
    .parserConfiguration({ 'halt-at-non-option': true, 'parse-positional-numbers': false })
    .example('dsched-rank hostname', "inside a parallel job: run hostname on each of the job's other chunks")
    .parse();
  const args = a._.map(String);
  if (!args.length) throw new DschedError('USAGE', 'name the program to run on the other chunks');
  const file = process.env.DSCHED_RANKS;
  if (!file)
    throw new DschedError(
      'USAGE',
      'dsched-rank works inside the first chunk of a parallel job (DSCHED_RANKS is not set)',
    );
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').trim().split('\n');
  } catch (e) {
    throw new DschedError('USAGE', `cannot read ${file}: ${(e as Error).message}`);
  }
  const [key = '', caPath = ''] = lines[0]!.split(' ');
  const chunks = lines
    .slice(1)
    .map((l) => l.split(' '))
    .map(([n, host, address]) => ({ n: Number(n), host: host ?? '', address: address ?? '' }))
    .filter((c) => c.n > 0);
  const chosen = a.n === undefined ? chunks : chunks.filter((c) => c.n === a.n);
  if (!chosen.length)
    throw new DschedError('USAGE', a.n === undefined ? 'this job has no other chunk' : `this job has no chunk ${a.n}`);
  const ca = readPoolCa(caPath);
  const { StartdClient } = await import('../lib/rpc/clients/startd.js');
  const results = await Promise.all(
    chosen.map(async (c) => {
      const startd = new StartdClient(c.address, { tls: { ca } });
      try {
        for await (const r of startd.runRank(key, c.n, args)) if (r.done) return { c, r };
        return { c, r: undefined, err: 'the startd ended the call without an exit status' };
      } catch (e) {
        return { c, r: undefined, err: (e as Error).message };
      } finally {
        startd.close();
      }
    }),
  );
  let status = EXIT.ok as number;
  for (const { c, r, err } of results) {
    if (r?.stdout?.length) process.stdout.write(r.stdout);
    if (r?.stderr?.length) process.stderr.write(r.stderr);
    const code = !r ? 1 : r.exit_by_signal ? 128 + r.exit_signal : r.message ? 1 : r.exit_code;
    if (!r || r.message) process.stderr.write(`dsched-rank: chunk ${c.n} (${c.host}): ${err ?? r!.message}\n`);
    else if (r.exit_by_signal)
      process.stderr.write(`dsched-rank: chunk ${c.n} (${c.host}) was killed by signal ${r.exit_signal}\n`);
    if (code !== 0 && status === 0) status = code;
  }
  return status;
}

runCli('dsched-rank', main);
