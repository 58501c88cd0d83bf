// drm, dhold and drelease: select jobs, ask the schedd to act, report per job; exit 1 if any job was not acted on.
import { DschedError, isErrorCode, type ErrorCode } from '../../lib/errors.js';
import { EXIT, printError } from './run-cli.js';
import { io } from './io.js';
import { openSession } from './session.js';
import { parseCli } from './yargs.js';

const PAST = {
  remove: 'marked for removal',
  forcex: 'forced out of the queue',
  hold: 'held',
  release: 'released',
} as const;

/**
 * The code of a job the schedd did not act on: the one its result carries, or, from a schedd older than that
 * field (or a code this CLI does not know), a guess from the message.
 */
function codeOf(code: string | undefined, message: string): ErrorCode {
  if (code && isErrorCode(code)) return code;
  if (/is not in the queue|left the queue/.test(message)) return 'JOB_NOT_FOUND';
  if (/^permission denied/i.test(message)) return 'PERMISSION_DENIED';
  return 'JOB_STATE';
}

/**
 * Print `cmd: error[CODE]: message` for each job not acted on (a hint only once per code); returns how many
 * there were. No result at all (a constraint or user matching nothing) is JOB_NOT_FOUND too.
 */
export function reportActFailures(
  cmd: string,
  results: ReadonlyArray<{ ok: boolean; error: string; code?: string }>,
): number {
  const hinted = new Set<ErrorCode>();
  let failed = 0;
  for (const res of results) {
    if (res.ok) continue;
    failed++;
    const e = new DschedError(codeOf(res.code, res.error), res.error);
    if (hinted.has(e.code)) io().stderr.write(`${cmd}: error[${e.code}]: ${e.message}\n`);
    else printError(cmd, e, false);
    hinted.add(e.code);
  }
  if (!results.length) printError(cmd, new DschedError('JOB_NOT_FOUND', 'no jobs matched'), false);
  return failed;
}

/**
 * qhold's and qrls's `-h TYPES` (`-h o`, `-hs`): PBS's hold types, u (the owner's, the default), o and s (an
 * administrator's), taken out of the arguments before they are parsed (where -h is help). Only for the PBS
 * names (the shims pass -pbs first); 'n' (no hold) is refused.
 */
export function pbsHoldTypes(cmd: string, argv: string[]): { argv: string[]; types: string } {
  if (argv[0] !== '-pbs') return { argv, types: '' };
  const rest: string[] = [];
  let types = '';
  for (let i = 0; i < argv.length; i++) {
    const m = /^-h(.*)$/.exec(argv[i]!);
    if (!m || argv[i] === '-help') {
      rest.push(argv[i]!);
      continue;
    }
    const v = m[1] || argv[++i] || '';
    if (!/^[uos]+$/.test(v))
      throw new DschedError('USAGE', `-h takes hold types among u, o and s, not '${v}'`, {
        hint: `${cmd} -h u JOBID (the default) is the owner's hold; -h o and -h s are an administrator's`,
      });
    types += v;
  }
  // PBS's qhold and qrls default to the owner's hold: a plain qrls leaves an administrator's hold in place
  return { argv: rest, types: [...new Set(types || 'u')].join('') };
}

export async function actCommand(
  command: string,
  action: 'remove' | 'hold' | 'release',
  argv: string[],
): Promise<number> {
  // the name the user typed: qdel for drm run by dsched's shims
  const cmd = io().command ?? command;
  let types = '';
  if (action !== 'remove') ({ argv, types } = pbsHoldTypes(cmd, argv));
  const a = await parseCli(
    cmd,
    argv,
    `usage: ${cmd} [cluster | cluster.proc | user]... [-constraint EXPR] [-all] [-reason TEXT]`,
    {},
    (y) =>
      y
        .option('constraint', { type: 'string', array: true, describe: 'ClassAd expression selecting jobs' })
        .option('all', { type: 'boolean', describe: "all jobs (yours, or everyone's for an admin)" })
        .option('reason', { type: 'string', describe: 'reason recorded with the action' })
        .option('name', {
          type: 'string',
          describe: 'the jobs of this schedd (its Name, or its host, as dstatus -schedd lists them)',
        })
        .option('forcex', {
          type: 'boolean',
          hidden: action !== 'remove',
          describe: 'the jobs already removed (X) whose run has not stopped yet leave the queue now',
        })
        // qdel, qhold and qrls (dsched shims): PBS's commands say nothing when they succeed
        .option('pbs', { type: 'boolean', hidden: true })
        // PBS's qdel -W force: remove the job whatever its execute host answers, which a removal here always
        // does (the queue forgets the job; the startd's kill follows); taken so that PBS users' qdel lines work
        .option('W', { type: 'string', hidden: true })
        .example(`${cmd} 12`, `every job of cluster 12`)
        .example(`${cmd} 12.3 alice`, `job 12.3 and all of alice's jobs`)
        .example(
          `${cmd} -constraint 'JobStatus == 1'${action === 'hold' ? ' -reason "input not ready"' : ''}`,
          'the jobs that match',
        ),
  );
  if (a.forcex && action !== 'remove') throw new DschedError('USAGE', `${cmd} takes no -forcex (a removal's option)`);
  const w = a.W as string | undefined;
  if (w !== undefined && (action !== 'remove' || w !== 'force'))
    throw new DschedError('USAGE', `-W ${w}: ${action === 'remove' ? 'only -W force is taken' : `${cmd} takes no -W`}`);
  // the ClassAd library (for -constraint) only once the arguments are good
  const { parseSelection } = await import('./job-selection.js');
  const sel = parseSelection(a._, a.constraint as string[] | undefined);
  if (!sel.ids.length && !sel.owners.length && !sel.constraint && !a.all)
    throw new DschedError('USAGE', `say which jobs: ${cmd} CLUSTER[.PROC] | USER | -constraint EXPR | -all`);
  const session = openSession();
  try {
    const schedd = a.name
      ? (await (await import('./queue-options.js')).scheddTargets(session, { name: a.name as string }))[0]!.client
      : await session.schedd();
    const owners = a.all && !sel.owners.length && !sel.ids.length && !sel.constraint ? [] : sel.owners;
    // the schedd sends results only for the jobs it did not act on, and counts the others
    const r = await schedd.act({
      action: a.forcex ? 'forcex' : action,
      ids: sel.ids,
      owners,
      constraint: sel.constraint,
      all: !!a.all,
      reason: (a.reason as string) ?? '',
      value: types,
      failures_only: true,
    });
    const failures = r.results.filter((x) => !x.ok);
    const failed = failures.length || !r.done ? reportActFailures(cmd, failures) : 0;
    const ok = r.done;
    if (ok && !a.pbs) io().stdout.write(`${ok} job(s) ${PAST[a.forcex ? 'forcex' : action]}.\n`);
    return failed || !ok ? EXIT.failed : EXIT.ok;
  } finally {
    session.close();
  }
}
