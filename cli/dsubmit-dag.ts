#!/usr/bin/env node
// dsubmit-dag: run a DAG (DAGMan's language) inside the pool (condor_submit_dag). The DAG becomes a job in
// the queue whose manager runs in the schedd; --wait follows it and exits with its status.
import { basename, resolve } from 'node:path';
import { parseDagFile, readDagmanConfigFile, readNodeSubmitFile } from '../grammar/dag/index.js';
import { joinV2Env } from '../grammar/submit/args-env.js';
import { DschedError, SourceError } from '../lib/errors.js';
import { Universe } from '../lib/job-status.js';
import { lit } from './shared/classad-literal.js';
import { io } from './shared/io.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { openSession } from './shared/session.js';
import { describeOutcome, waitForJobs } from './shared/wait.js';
import { cli } from './shared/yargs.js';

async function main(argv: string[]): Promise<number> {
  const a = await cli('dsubmit-dag', argv, 'usage: dsubmit-dag [options] FILE.dag')
    .option('maxjobs', { type: 'number', describe: 'most node job clusters in the queue at once' })
    .option('maxidle', { type: 'number', describe: 'no new node jobs while this many are idle' })
    .option('maxpre', { type: 'number', describe: 'most PRE scripts running at once' })
    .option('maxpost', { type: 'number', describe: 'most POST scripts running at once' })
    .option('force', { type: 'boolean', alias: 'f', describe: 'start over: ignore (and retire) rescue DAGs' })
    .option('usedagdir', { type: 'boolean', describe: "node files are relative to the DAG file's folder" })
    .option('batch-name', { type: 'string', describe: 'JobBatchName of the DAG (default: the file name)' })
    .option('wait', { type: 'boolean', describe: 'follow the DAG until it ends and exit with its status' })
    .option('config', {
      type: 'string',
      describe: "the DAG's CONFIG file (DAGMAN_* = value lines); the DAG's own CONFIG line, if any, must name the same",
    })
    .example('dsubmit-dag diamond.dag', 'run a workflow')
    .example('dsubmit-dag --wait diamond.dag', 'run it and follow it to the end')
    .parse();
  // yargs reads `--maxjobs abc` as NaN, which the schedd would store as 0 (no limit): only a whole number >= 0
  const limits: Record<string, number | undefined> = {};
  for (const name of ['maxjobs', 'maxidle', 'maxpre', 'maxpost']) {
    const v: unknown = a[name];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || (v as number) < 0)
      throw new DschedError('USAGE', `--${name} needs a whole number of at least 0, not '${String(v)}'`);
    limits[name] = v as number;
  }
  const files = a._.map(String);
  if (files.length !== 1) throw new DschedError('USAGE', 'usage: dsubmit-dag [options] FILE.dag');
  const dagFile = resolve(files[0]!);
  // a broken DAG is refused here, with file:line:column, before anything is queued
  const dag = parseDagFile(dagFile, { cwd: process.cwd(), useDagDir: !!a.usedagdir });
  // One CONFIG file per DAG, as in DAGMan: a --config that names another file than the DAG's CONFIG line is refused
  const given = a.config as string | undefined;
  const configFile = given !== undefined ? resolve(given) : dag.config;
  if (given !== undefined && dag.config && dag.config !== configFile)
    throw new DschedError(
      'CONFIG_INVALID',
      `--config ${configFile} differs from the DAG's CONFIG ${dag.config}: a DAG has only one CONFIG file`,
    );
  // its bad lines are refused here, at file:line; the schedd reads it again (as the owner) when the DAG starts
  if (configFile !== undefined) {
    let config;
    try {
      config = readDagmanConfigFile(configFile);
    } catch (e) {
      if (e instanceof DschedError) throw e;
      throw new DschedError('CONFIG_INVALID', `cannot read the DAG CONFIG file ${configFile}: ${(e as Error).message}`);
    }
    for (const i of config.ignored) io().stderr.write(`warning: ${configFile}:${i.line}: ${i.why}\n`);
  }
  // node submit files are checked as the schedd will read them: present, regular and not too big
  const checked = new Set<string>();
  for (const node of dag.nodes) {
    if (node.noop || node.done || node.submitDescription || !node.file) continue;
    const f = resolve(node.dir, node.file);
    if (checked.has(f)) continue;
    try {
      readNodeSubmitFile(f);
    } catch (e) {
      const why =
        e instanceof DschedError
          ? e.message
          : (e as NodeJS.ErrnoException).code === 'ENOENT'
            ? `its submit file ${f} does not exist`
            : `cannot read its submit file ${f}: ${(e as Error).message}`;
      throw new SourceError('DAG_SYNTAX', `node ${node.name}: ${why}`, node.location);
    }
    checked.add(f);
  }
  const attrs: Record<string, string> = {
    JobUniverse: String(Universe.Scheduler),
    Cmd: lit('dsched-dagman'),
    Args: lit(`-Dag ${basename(dagFile)}`),
    Iwd: lit(process.cwd()),
    // DAGMan's scripts, its nodes and its files are made with the submitter's umask
    Umask: String(process.umask()),
    DAGManDagFile: lit(dagFile),
    // only the options given: the others come from the CONFIG file or DAGMan's defaults
    ...(limits.maxjobs !== undefined && { DAGManMaxJobs: String(limits.maxjobs) }),
    ...(limits.maxidle !== undefined && { DAGManMaxIdle: String(limits.maxidle) }),
    ...(limits.maxpre !== undefined && { DAGManMaxPre: String(limits.maxpre) }),
    ...(limits.maxpost !== undefined && { DAGManMaxPost: String(limits.maxpost) }),
    ...(configFile !== undefined && { DAGManConfigFile: lit(configFile) }),
    DAGManForce: a.force ? 'true' : 'false',
    DAGManUseDagDir: a.usedagdir ? 'true' : 'false',
    JobBatchName: lit((a['batch-name'] as string | undefined) ?? basename(dagFile)),
    // node submit files with getenv see the environment dsubmit-dag ran in, as with condor_submit_dag
    Environment: lit(
      joinV2Env(
        Object.entries(process.env).filter(
          (e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('DSCHED_'),
        ),
      ),
    ),
    In: lit('/dev/null'),
    // the DAG job's own event log, as condor_submit_dag names it: scripts wait on it (condor_wait x.dag.dagman.log)
    UserLog: lit(`${dagFile}.dagman.log`),
    Out: lit(`${dagFile}.dagman.out`),
    Err: lit(`${dagFile}.dagman.out`),
    JobStatus: '1',
    JobPrio: '0',
    Requirements: 'true',
    MyType: lit('Job'),
  };
  const session = openSession();
  try {
    const schedd = await session.schedd();
    const { cluster } = await schedd.newCluster();
    await schedd.submit(Number(cluster), attrs, [{ ProcId: '0' }]);
    process.stdout.write(
      `Submitting DAG ${basename(dagFile)}: ${dag.nodes.length} node(s)\n1 job(s) submitted to cluster ${cluster}.\n`,
    );
    if (!a.wait) return EXIT.ok;
    const res = await waitForJobs(schedd, [{ cluster: Number(cluster), proc: -1 }]);
    process.stdout.write(describeOutcome(res));
    return res.exitCode === 0 ? EXIT.ok : res.exitCode > 0 && res.exitCode < 256 ? res.exitCode : EXIT.failed;
  } finally {
    session.close();
  }
}

runCli('dsubmit-dag', main);
