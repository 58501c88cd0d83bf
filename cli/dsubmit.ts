#!/usr/bin/env node
// dsubmit: queue jobs from an HTCondor submit description or a #PBS script (condor_submit / qsub).
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { JobSet } from '../grammar/submit/index.js';
import { DschedError } from '../lib/errors.js';
import { loadConfig } from '../lib/config/load.js';
import { JobStatus } from '../lib/job-status.js';
import type { ScheddClient } from '../lib/rpc/clients/schedd.js';
import { ownAccount } from '../lib/users.js';
import { asciiDashes, lookalikeDashError } from './shared/dash.js';
import { io } from './shared/io.js';
import { CommandExit, EXIT, runCli } from './shared/run-cli.js';
import { ONE_POOL_ONLY, openSession } from './shared/session.js';
import { typedName, usageAs } from './shared/renamed.js';
import { versionLine } from './shared/version.js';

const USAGE = `usage: dsubmit [options] [FILE | -] [name=value ...]
       dsubmit [PBS options] -- PROGRAM [ARGS...]
  FILE is an HTCondor submit description, or a script with #PBS directives; after --, the job runs
  PROGRAM with ARGS (qsub's form).
  -a, -append LINE    add a submit command (before the queue statement); repeatable
  -dry-run, --dry-run print the job ads that would be queued, queue nothing; -dry-run ADFILE FILE
                      (condor_submit's form) writes them to ADFILE (- for stdout)
  --json              with --dry-run: print the ads as JSON
  -terse              print the job ids as "C.first - C.last"
  -batch-name NAME    the jobs' batch name (JobBatchName), as batch_name = NAME would set it
  -allow-crlf-script  submit a script whose #! line ends in \r\n (refused otherwise: it cannot start)
  -name SCHEDD        queue to that schedd (its Name, as dstatus -schedd lists it), not the pool's own
  -queue ARGS...      the queue statement, for a file without one (its words up to the next -option)
  PBS options (for #PBS scripts; they win over the script's directives; a value may follow the letter
  at once, as qsub takes it: -lwalltime=1:00:00 -joe):
  -N name -q queue -l resources -J start-end[:step] -t 1-3 (Torque) -V -v VARS -o path -e path -j oe -p prio
  -m abe -M addr -h -W depend=... -a datetime -r y|n
  -version, --version print the version

Examples:
  dsubmit job.sub                      queue the jobs of a submit description
  dsubmit --dry-run job.sub            print the job ads, queue nothing
  dsubmit job.sub -a 'request_memory = 2G'
                                       add a submit command
  A=$(dsubmit -N A job.sh)             a #PBS script: prints the job id, as qsub does
  dsubmit -W depend=afterok:$A job.sh  run after job A succeeds
  dsubmit job.sub -queue 10            a file without a queue statement, 10 times`;

/** USAGE under the name typed (qsub's usage lines say qsub). */
const usage = () => usageAs('dsubmit', USAGE);

const PBS_WITH_VALUE = new Set([
  '-N',
  '-q',
  '-l',
  '-J',
  '-t',
  '-p',
  '-C',
  '-v',
  '-o',
  '-e',
  '-j',
  '-m',
  '-M',
  '-W',
  '-r',
  '-A',
  '-P',
  '-S',
  '-u',
  '-c',
  '-k',
]);
const PBS_FLAGS = new Set(['-V', '-h', '-z', '-I', '-X']);
/**
 * condor_submit's own options that begin with the letter of a PBS option taking a value: never read as that
 * option with its value attached (`-verbose` is not `-v erbose`); dsubmit has none of them.
 */
const CONDOR_SUBMIT_WORDS = new Set(['-verbose', '-unused', '-remote', '-pool', '-password', '-maxjobs']);

interface Parsed {
  file?: string;
  append: string[];
  macros: Record<string, string>;
  pbs: string[];
  pbsA?: string;
  dryRun: boolean;
  /** condor_submit's `-dry-run FILE`: where the ads go ('-' is stdout) */
  dryRunTo?: string;
  json: boolean;
  terse: boolean;
  /** condor_submit's -batch-name */
  batchName?: string;
  allowCrlfScript?: boolean;
  /** `-- program args…` (qsub's form): no file is read */
  command?: boolean;
  /** condor_submit's -name SCHEDD: the schedd to queue to (else the pool's own) */
  name?: string;
}

function parseArgs(argv: string[]): Parsed {
  const p: Parsed = { append: [], macros: {}, pbs: [], dryRun: false, json: false, terse: false };
  const appendRaw: string[] = [];
  let dryRunWord: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const need = () => {
      const v = argv[++i];
      if (v === undefined) throw new DschedError('USAGE', `${a} needs a value\n${usage()}`);
      return v;
    };
    if (a === '-h' && p.file === undefined && argv.length === 1) throw new DschedError('USAGE', usage());
    if (a === '--help' || a === '-help') {
      io().stdout.write(usage() + '\n');
      throw new CommandExit(EXIT.ok);
    }
    if (a === '--version' || a === '-version') {
      io().stdout.write(versionLine(typedName('dsubmit')) + '\n');
      throw new CommandExit(EXIT.ok);
    }
    if (a === '-a' || a === '-append' || a === '--append') appendRaw.push(need());
    else if (a === '-queue' || a === '--queue') {
      // condor_submit's -queue: the words up to the next that begins with a dash are the queue statement
      // (the file has none), so options may follow it (-queue 3 -batch-name b)
      let end = i + 1;
      while (end < argv.length && !argv[end]!.startsWith('-')) end++;
      appendRaw.push(`queue ${argv.slice(i + 1, end).join(' ')}`);
      i = end - 1;
    } else if (a === '-dry-run' || a === '--dry-run' || a === '-dry') {
      p.dryRun = true;
      // condor_submit's -dry-run takes a file for the ads (`-dry-run - job.sub`, `-dry-run out.ad job.sub`);
      // dsubmit's takes none (`--dry-run job.sub`): the word after it is the file for the ads only if another
      // word names the submit file (decided once all are read)
      const next = argv[i + 1];
      if (next !== undefined && (next === '-' || !next.startsWith('-')) && !/^[A-Za-z_][\w.]*=/.test(next)) {
        dryRunWord = next;
        i++;
      }
    } else if (a === '--json' || a === '-json') p.json = true;
    else if (a === '-terse' || a === '--terse') p.terse = true;
    else if (a === '-allow-crlf-script' || a === '--allow-crlf-script') p.allowCrlfScript = true;
    else if (a === '-batch-name' || a === '--batch-name') {
      p.batchName = need();
      // one submit command: a line break would start another
      if (/[\r\n]/.test(p.batchName))
        throw new DschedError('USAGE', `-batch-name takes a name on one line\n${usage()}`);
    } else if (a === '--') {
      // qsub's `-- program args…`: the rest of the line is the job's command, not a script to read
      p.pbs.push('--', ...argv.slice(i + 1));
      p.command = true;
      break;
    } else if (PBS_WITH_VALUE.has(a)) p.pbs.push(a, need());
    else if (PBS_FLAGS.has(a)) p.pbs.push(a);
    // qsub reads its options with getopt: a value may follow its letter at once (-lwalltime=1:00:00, -joe)
    else if (a.length > 2 && PBS_WITH_VALUE.has(a.slice(0, 2)) && !CONDOR_SUBMIT_WORDS.has(a))
      p.pbs.push(a.slice(0, 2), a.slice(2));
    else if (a === '-pool' || a === '--pool') throw new DschedError('USAGE', `${a}: ${ONE_POOL_ONLY}`);
    else if (a === '-name' || a === '--name') p.name = need();
    else if (a === '-spool' || a === '-remote' || a === '--spool' || a === '--remote')
      throw new DschedError(
        'USAGE',
        `${a}: dsched spools no input files: a job reads them where they are when it starts (file transfer copies them then), and its output comes back to the paths it names as it ends, so no condor_transfer_data is needed; leave the files in place until the job has started${a.endsWith('remote') ? ', and use -name SCHEDD for the schedd to queue to' : ''}`,
      );
    else if (/^-[A-Za-z]/.test(a) && a !== '-') throw new DschedError('USAGE', `unknown option ${a}\n${usage()}`);
    else if (asciiDashes(a) !== undefined) throw lookalikeDashError(a, asciiDashes(a)!);
    else if (/^[A-Za-z_][\w.]*=/.test(a) && (p.file ?? dryRunWord) !== undefined) {
      const eq = a.indexOf('=');
      p.macros[a.slice(0, eq)] = a.slice(eq + 1);
    } else if (p.file === undefined) p.file = a;
    else throw new DschedError('USAGE', `unexpected argument ${a}\n${usage()}`);
  }
  if (dryRunWord !== undefined) {
    if (p.file === undefined) p.file = dryRunWord;
    else p.dryRunTo = dryRunWord;
  }
  p.append = appendRaw;
  return p;
}

/**
 * Warnings of requests a job cannot evaluate (request_memory = lots), once per distinct expression: `note`
 * each proc as it goes by (a submission's procs are not kept), then ask for the warnings.
 */
function requestWarnings(cluster: Record<string, string>) {
  // the merged ad of the first proc with each distinct set of requests that are not all plain numbers
  const samples = new Map<string, Record<string, string>>();
  return {
    note(proc: Record<string, string>): void {
      if (samples.size > 20) return;
      const req = (n: string) => proc[n] ?? cluster[n];
      const requests = [req('RequestCpus'), req('RequestMemory'), req('RequestDisk'), req('RequestGPUs')];
      // plain numbers (the usual case) need no look at the rest of the ad
      if (requests.every((r) => r === undefined || /^\d+(\.\d+)?$/.test(r))) return;
      const key = requests.join('\0');
      if (!samples.has(key)) samples.set(key, { ...cluster, ...proc });
    },
    async warnings(): Promise<string[]> {
      if (!samples.size) return [];
      // loaded only for a request that is not a plain number
      const [{ ClassAd }, { undefinedRequestText, undefinedRequests }] = await Promise.all([
        import('../grammar/classad/index.js'),
        import('./shared/undefined-requests.js'),
      ]);
      const out: string[] = [];
      for (const merged of [...samples.values()].slice(0, 20)) {
        try {
          for (const u of undefinedRequests(ClassAd.fromRecord(merged))) out.push(undefinedRequestText(u, false));
        } catch {
          /* an ad the schedd will refuse anyway (too large, say): its own error says why */
        }
      }
      return [...new Set(out)];
    },
  };
}

/** Procs a submission sends in one Submit; a larger one goes in pieces (SubmitPieces) as they are made. */
const WHOLE_SUBMIT = 10_000;

function printLong(jobs: JobSet): string {
  const out: string[] = [];
  for (const proc of jobs.procs) {
    const merged = { ...jobs.cluster, ...proc };
    out.push(
      Object.keys(merged)
        .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))
        .map((k) => `${k} = ${merged[k]}`)
        .join('\n'),
    );
  }
  return out.join('\n\n') + '\n';
}

/** All of standard input (a submit description piped in, `dsubmit -`). */
async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  // qsub -I (-X): said before any script is read (`qsub -I` alone would wait for one on standard input)
  let interactive: string | undefined;
  for (let i = 0; i < args.pbs.length && args.pbs[i] !== '--'; i += PBS_WITH_VALUE.has(args.pbs[i]!) ? 2 : 1)
    if (args.pbs[i] === '-I' || args.pbs[i] === '-X') interactive ??= args.pbs[i];
  if (interactive)
    throw new DschedError(
      'USAGE',
      `${interactive}: interactive jobs are not supported by dsched; submit the commands as a batch job and follow its output with dtail -f JOBID`,
    );
  if (args.command && args.file !== undefined)
    throw new DschedError('USAGE', `give either a file (${args.file}) or -- program args…, not both\n${usage()}`);
  // the grammars once the options are good: --help and usage errors load none of them
  const [
    { clusterPlans, expandSubmit, expandSubmitStream, isPbsScript, loadSubmit },
    { ClassAd, compile, parseExpr, valueToJS },
    { utf8Source },
  ] = await Promise.all([
    import('../grammar/submit/index.js'),
    import('../grammar/classad/index.js'),
    import('../grammar/source.js'),
  ]);
  const file = args.file ?? '-';
  let bytes: Buffer;
  try {
    bytes = args.command
      ? Buffer.alloc(0)
      : file === '-'
        ? await readAll(io().stdin)
        : readFileSync(resolve(io().cwd, file));
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    const why =
      c === 'ENOENT'
        ? // the command line came to us decoded as UTF-8: a name that is not has lost its bytes on the way
          file.includes('\uFFFD')
          ? 'no such file (its name is not UTF-8, and dsched takes file names as UTF-8: rename it)'
          : 'no such file'
        : c === 'EISDIR'
          ? 'it is a directory'
          : c === 'EACCES'
            ? 'permission denied'
            : (e as Error).message;
    throw new DschedError('SUBMIT_FILE', `cannot read ${file === '-' ? 'standard input' : `'${file}'`}: ${why}`, {
      cause: e,
    });
  }
  // a #PBS script is kept as text in the job: one that is not UTF-8 would run altered
  const text = utf8Source(bytes, file === '-' ? '<stdin>' : file, 'SUBMIT_FILE');
  const pbs = args.command || isPbsScript(file, text);
  if (args.batchName !== undefined) {
    if (pbs) throw new DschedError('USAGE', `-batch-name is for submit descriptions; a #PBS job is named with -N`);
    args.append.push(`batch_name = ${args.batchName}`);
  }
  if (!pbs) {
    // -W depend=… works for submit descriptions too; the other qsub options only for scripts
    for (let i = 0; i < args.pbs.length; i++) {
      const [opt, val] = [args.pbs[i]!, args.pbs[i + 1] ?? ''];
      if (opt === '-W' && val.startsWith('depend=')) {
        args.append.push(`+PbsDepend = "${val.slice('depend='.length).replace(/["\\]/g, '')}"`);
        i++;
      } else
        throw new DschedError(
          'USAGE',
          `PBS option ${opt} applies only to #PBS scripts; ${file} is a submit description`,
        );
    }
  }
  const pbsArgs = pbs ? [...args.pbs, ...args.append.flatMap((v) => ['-a', v])] : undefined;
  const config = loadConfig({ env: io().env });
  const input = {
    file: file === '-' ? '<stdin>' : file,
    text,
    cwd: io().cwd,
    env: io().env,
    owner: ownAccount(),
    umask: process.umask(),
    hostname: config.str('HOSTNAME') || hostname(),
    macros: args.macros,
    append: pbs ? [] : args.append,
    pbsArgs,
    maxProcs: config.int('MAX_JOBS_PER_SUBMISSION'),
    allowCrlfScript: args.allowCrlfScript,
  };
  // condor_submit makes a cluster for each change of executable between queue statements
  const plans = clusterPlans(loadSubmit(input));

  if (args.dryRun) {
    // the clusters numbered from 1, as condor_submit -dry-run numbers them
    const expanded = plans.map((plan, i) => expandSubmit(plan, 1 + i));
    const out: string[] = [];
    const all: Array<Record<string, string>> = [];
    for (const { jobs, warnings } of expanded) {
      const notes = requestWarnings(jobs.cluster);
      for (const p of jobs.procs.length ? jobs.procs : [{}]) notes.note(p);
      for (const w of [...warnings.map((w) => w.message), ...(await notes.warnings())])
        io().stderr.write(`${io().command ?? 'dsubmit'}: warning: ${w}\n`);
      all.push(...jobs.procs.map((p) => ({ ...jobs.cluster, ...p })));
      out.push(printLong(jobs));
    }
    const text = args.json ? JSON.stringify(all, null, 2) + '\n' : out.join('');
    if (args.dryRunTo === undefined || args.dryRunTo === '-') io().stdout.write(text);
    else {
      writeFileSync(resolve(io().cwd, args.dryRunTo), text);
      // as condor_submit says it, which scripts read
      for (const [i, { jobs }] of expanded.entries())
        io().stdout.write(`${Math.max(1, jobs.procs.length)} job(s) dry-run to cluster ${1 + i}.\n`);
    }
    return EXIT.ok;
  }

  // A description of several clusters is queued all or nothing, as condor_submit's one transaction: each
  // is expanded through once before the first is sent, so an error in a later one (a bad item, a value
  // that is no expression) queues nothing.
  if (plans.length > 1)
    for (const [i, plan] of plans.entries()) for (const _ of expandSubmitStream(plan, 1 + i).jobs.procs());
  const session = openSession(config);
  /** the clusters this command queued, removed again if a later one is refused */
  const queued: number[] = [];
  /** what it prints once every cluster is queued */
  const said: string[] = [];
  try {
    const schedd = args.name
      ? (await (await import('./shared/queue-options.js')).scheddTargets(session, { name: args.name }))[0]!.client
      : await session.schedd();
    try {
      await queueClusters(schedd);
    } catch (e) {
      if (queued.length) await withdraw(schedd, e as Error);
      throw e;
    }
    io().stdout.write(said.join(''));
    // qsub -W block=true: the id is printed at once, then qsub waits for the job and exits with its exit code
    if (plans.some((p) => p.block)) return await blockUntilEnded(schedd, queued);
    return EXIT.ok;
  } finally {
    session.close();
  }

  async function withdraw(schedd: Awaited<ReturnType<typeof session.schedd>>, why: Error): Promise<void> {
    const ids = queued.map((cluster) => ({ cluster, proc: -1 }));
    const reason = `its submission failed at a later cluster: ${why.message}`;
    let gone = false;
    try {
      const r = await schedd.act({ action: 'remove', ids, reason, failures_only: true });
      gone = !r.results.some((x) => !x.ok);
    } catch {
      /* said below */
    }
    io().stderr.write(
      gone
        ? `${io().command ?? 'dsubmit'}: cluster${queued.length > 1 ? 's' : ''} ${queued.join(', ')} of this submission ${queued.length > 1 ? 'were' : 'was'} queued before the error and removed again\n`
        : `${io().command ?? 'dsubmit'}: cluster${queued.length > 1 ? 's' : ''} ${queued.join(', ')} of this submission ${queued.length > 1 ? 'were' : 'was'} queued before the error and could not all be removed: drm ${queued.join(' ')}\n`,
    );
  }

  async function queueClusters(schedd: Awaited<ReturnType<typeof session.schedd>>): Promise<void> {
    for (const plan of plans) {
      const { cluster } = await schedd.newCluster();
      const { jobs, warnings } = expandSubmitStream(plan, Number(cluster));
      const notes = requestWarnings(jobs.cluster);
      let firstProc: Record<string, string> | undefined;
      // the procs as they are made, each looked at once on its way to the schedd
      const procs = function* () {
        for (const p of jobs.procs()) {
          firstProc ??= p;
          notes.note(p);
          yield p;
        }
      };
      const warn = (list: string[]) => {
        for (const w of list) io().stderr.write(`${io().command ?? 'dsubmit'}: warning: ${w}\n`);
      };
      warn(warnings.map((w) => w.message));
      let r;
      // Ctrl-C before the jobs went: nothing more is queued, as when the process was killed (the agent's
      // command outlives its launcher's signal, so it must look)
      if (io().signal.aborted) throw new DschedError('INTERRUPTED', 'interrupted before the jobs were sent');
      if (jobs.plain || jobs.count <= WHOLE_SUBMIT) {
        const whole = jobs.plain ? jobs.count : [...procs()];
        if (jobs.plain) notes.note({});
        warn(await notes.warnings());
        r = await schedd.submit(Number(cluster), jobs.cluster, whole);
      } else {
        // the requests of procs made on the way are told once they have all gone
        r = await schedd.submitPieces(Number(cluster), jobs.cluster, jobs.count, procs());
        warn(await notes.warnings());
      }
      const n = r.procs;
      if (args.terse) said.push(`${cluster}.0 - ${cluster}.${n - 1}\n`);
      else if (pbs) {
        // qsub prints only the job id, so scripts can capture it: A=$(dsubmit job.sh)
        const id = jobs.cluster.PbsJobId ?? firstProc?.PbsJobId;
        said.push(
          `${id ? String(valueToJS(compile(parseExpr(id))(new ClassAd()))) : `${cluster}.${input.hostname}`}\n`,
        );
      } else said.push(`${n} job(s) submitted to cluster ${cluster}.\n`);
      queued.push(Number(cluster));
    }
  }
}

/**
 * PBS's qsub -W block=true: wait until the jobs have left the queue, then exit with the job's exit code (of an
 * array, the first subjob's that is not 0); a job killed by a signal as the shell says it (128 + signal), a
 * removed one 1, each with a line on stderr saying how it ended.
 */
async function blockUntilEnded(schedd: ScheddClient, clusters: number[]): Promise<number> {
  const { waitForJobs } = await import('./shared/wait.js');
  const { ads } = await waitForJobs(
    schedd,
    clusters.map((cluster) => ({ cluster, proc: -1 })),
    { progress: false },
  );
  const name = io().command ?? 'dsubmit';
  for (const a of ads) {
    const id = `${String(a.lookupJS('ClusterId'))}.${String(a.lookupJS('ProcId'))}`;
    if (a.lookupJS('JobStatus') === JobStatus.Removed) {
      io().stderr.write(`${name}: job ${id} was removed: ${String(a.lookupJS('RemoveReason') ?? '')}\n`);
      return EXIT.failed;
    }
    if (a.lookupJS('ExitBySignal') === true) {
      io().stderr.write(`${name}: job ${id} was killed by signal ${String(a.lookupJS('ExitSignal'))}\n`);
      return 128 + (Number(a.lookupJS('ExitSignal')) || 0);
    }
    const code = Number(a.lookupJS('ExitCode') ?? 1);
    if (code !== 0) return code > 0 && code < 256 ? code : EXIT.failed;
  }
  return EXIT.ok;
}

runCli('dsubmit', main);
