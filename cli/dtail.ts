#!/usr/bin/env node
// dtail: a running job's standard output or error (condor_tail). The schedd says where the job runs; the
// startd there streams the file the job writes to, to its owner (or an admin) only. With -f it follows
// the file as the job writes, until the job ends. gRPC is loaded only once the arguments are good.
import { DschedError } from '../lib/errors.js';
import { notAJobId, parseJobId, resolveSubjobs, type JobIdSpec } from './shared/job-id.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { typedName } from './shared/renamed.js';
import { cli } from './shared/yargs.js';

const USAGE = `usage: dtail JOB [-f] [-stderr] [-maxbytes N]

The last bytes (1024 unless -maxbytes) of a running job's standard output, or standard error with -stderr; with -f (-follow), then what it writes next, until the job ends. A job not yet running is waited for with -f. Only the job's owner and the pool's admins may read it.`;

async function main(argv: string[]): Promise<number> {
  const a = await cli('dtail', argv, USAGE)
    .option('follow', { type: 'boolean', alias: 'f', describe: 'keep printing what the job writes, until it ends' })
    .option('stderr', { type: 'boolean', describe: 'standard error instead of standard output' })
    .option('maxbytes', {
      type: 'number',
      describe: 'at most this many bytes per read of the file (default 1024; 1 MiB at most)',
    })
    .example('dtail 12.0', 'the last 1024 bytes job 12.0 wrote to its output')
    .example('dtail -f -stderr 12.3', 'its standard error as it is written, until the job ends')
    .example('dtail -maxbytes 65536 12', 'the last 64 KiB of job 12.0')
    .parse();
  const words = a._.map(String);
  if (words.length !== 1)
    throw new DschedError('USAGE', `${typedName('dtail')} takes one job id (cluster.proc)\n${USAGE}`);
  const spec = parseJobId(words[0]!);
  if (!spec) throw notAJobId(words[0]!);
  const maxBytes = a.maxbytes as number | undefined;
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0))
    throw new DschedError('USAGE', '-maxbytes needs a positive whole number');
  // a cluster is its first job (PBS's 12.host is its one job); a subjob 12[4] is found by its array index
  return tailJob(spec.index === undefined ? { cluster: spec.cluster, proc: Math.max(0, spec.proc) } : spec, {
    follow: !!a.follow,
    stderr: !!a.stderr,
    maxBytes: maxBytes ?? 0,
  });
}

type Id = { cluster: number; proc: number };
const STATES: Record<number, string> = { 1: 'idle', 3: 'removed', 4: 'completed', 5: 'held' };

async function tailJob(spec: JobIdSpec, o: { follow: boolean; stderr: boolean; maxBytes: number }): Promise<number> {
  const [{ openSession }, { qualifiedName }, { hostname }] = await Promise.all([
    import('./shared/session.js'),
    import('../lib/rpc/authz.js'),
    import('node:os'),
  ]);
  const session = openSession();
  try {
    const schedd = await session.schedd();
    const id = (await resolveSubjobs(schedd, [spec]))[0]!;
    const address = await whereItRuns(schedd, id, o.follow);
    const startd = await session.startd(address);
    // job ids are per schedd: the startd is told which schedd's job is meant
    const name = qualifiedName(session.config.str('SCHEDD_NAME'), session.config.str('HOSTNAME') || hostname());
    const stream = startd.tail({ id, schedd: name, stderr: o.stderr, follow: o.follow, max_bytes: o.maxBytes });
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (c: { data: Buffer; skipped: number; truncated: boolean }) => {
        if (Number(c.skipped))
          process.stderr.write(
            `${typedName('dtail')}: ${c.skipped} bytes left out (more than -maxbytes arrived at once)\n`,
          );
        if (c.truncated) process.stderr.write(`${typedName('dtail')}: the file was truncated; from its start again\n`);
        if (!process.stdout.write(c.data)) {
          stream.pause();
          process.stdout.once('drain', () => stream.resume());
        }
      });
      stream.on('end', resolve);
      stream.on('error', (e) => reject(startd.rpc.streamError(e as Parameters<typeof startd.rpc.streamError>[0])));
    });
    return EXIT.ok;
  } finally {
    session.close();
  }
}

/** The address of the startd running the job; with -f, a job not running yet is waited for. */
async function whereItRuns(
  schedd: import('../lib/rpc/clients/schedd.js').ScheddClient,
  id: Id,
  follow: boolean,
): Promise<string> {
  const [{ ClassAd }, { followJobs }] = await Promise.all([
    import('../grammar/classad/index.js'),
    import('./shared/watch.js'),
  ]);
  const text = `${id.cluster}.${id.proc}`;
  let found: { status: number; address: unknown } | undefined;
  const look = (attrs: Record<string, string>, status: number) =>
    (found = { status, address: ClassAd.fromRecord(attrs).lookupJS('StartdAddress') });
  await followJobs(schedd, {
    ids: [id],
    projection: ['StartdAddress'],
    update(jobs, left) {
      const j = jobs.get(text);
      if (!j) {
        const gone = left.get(text);
        found = gone ? { status: gone.status, address: undefined } : undefined;
        return true;
      }
      const now = look(j.attrs, j.status);
      // running (or suspended, or sending its output): the startd has it
      if ([2, 6, 7].includes(j.status) && typeof now.address === 'string') return true;
      return !follow || j.status !== 1;
    },
  });
  if (!found) throw new DschedError('JOB_NOT_FOUND', `job ${text} is not in the queue (dhistory shows finished jobs)`);
  if (typeof found.address === 'string' && found.address && [2, 6, 7].includes(found.status)) return found.address;
  throw new DschedError(
    'JOB_STATE',
    `job ${text} is ${STATES[found.status] ?? 'not running'}: only a running job's output can be read${found.status === 1 && !follow ? ' (dtail -f waits for it to start)' : ''}`,
  );
}

runCli('dtail', main);
