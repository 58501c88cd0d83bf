#!/usr/bin/env node
// dchirp: a running job reads or updates its own job ad (condor_chirp): `dchirp set_job_attr Progress 0.42`
// shows in `dq -af Progress` within a second. It talks to the startd running the job, found through the
// file named by _CONDOR_CHIRP_CONFIG in the job's sandbox, which also holds the job's secret.
import { readFileSync } from 'node:fs';
import { DschedError } from '../lib/errors.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { typedName } from './shared/renamed.js';
import { cli } from './shared/yargs.js';
import { readPoolCa } from './shared/pool-ca.js';

const OPS = ['set_job_attr', 'set_job_attr_delayed', 'get_job_attr'];

async function main(argv: string[]): Promise<number> {
  const a = await cli(
    'dchirp',
    argv,
    'usage: dchirp set_job_attr NAME VALUE | set_job_attr_delayed NAME VALUE | get_job_attr NAME',
  )
    .example('dchirp set_job_attr Progress 0.42', 'inside a job: set an attribute of its ad (dq -af Progress shows it)')
    .example('dchirp get_job_attr RequestMemory', "print one attribute of the job's ad")
    .parse();
  const [op, name, ...rest] = a._.map(String);
  if (!op || !OPS.includes(op)) throw new DschedError('USAGE', `say what to do: ${OPS.join(', ')}`);
  if (!name) throw new DschedError('USAGE', `${op} needs an attribute name`);
  const value = rest.join(' ');
  if (op !== 'get_job_attr' && !value)
    throw new DschedError('USAGE', `${op} needs a value (a ClassAd expression: 0.42, "text", true)`);
  const configPath = process.env._CONDOR_CHIRP_CONFIG;
  if (!configPath)
    throw new DschedError(
      'USAGE',
      `${typedName('dchirp')} works inside a running job (_CONDOR_CHIRP_CONFIG is not set)`,
    );
  let address: string;
  let secret: string;
  let caPath: string;
  try {
    [address = '', secret = '', caPath = ''] = readFileSync(configPath, 'utf8').trim().split(/\s+/);
  } catch (e) {
    throw new DschedError('USAGE', `cannot read the chirp configuration ${configPath}: ${(e as Error).message}`);
  }
  // the CA certificate's path is the chirp file's third field (the startd's host/ca.crt, world-readable)
  const ca = readPoolCa(caPath);
  const { StartdClient } = await import('../lib/rpc/clients/startd.js');
  const startd = new StartdClient(address, { tls: { ca } });
  try {
    const r = await startd.chirp(secret, op, name, value);
    if (op === 'get_job_attr') process.stdout.write(`${r.value}\n`);
    return EXIT.ok;
  } finally {
    startd.close();
  }
}

runCli('dchirp', main);
