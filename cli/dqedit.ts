#!/usr/bin/env node
// dqedit: change attributes of queued jobs (condor_qedit, PBS's qalter). Values are ClassAd expressions:
// `dqedit 12 JobPrio 5`, `dqedit 12.0 Label '"fast"'`, `dqedit -constraint 'Owner == "alice"' RequestMemory 2048`.
import { DschedError } from '../lib/errors.js';
import { reportActFailures } from './shared/act.js';
import { io } from './shared/io.js';
import { CommandExit, EXIT, runCli } from './shared/run-cli.js';
import { typedName } from './shared/renamed.js';
import { openSession } from './shared/session.js';
import { versionLine } from './shared/version.js';

const USAGE = `usage: dqedit JOB ATTR VALUE [ATTR VALUE ...]
       dqedit -constraint EXPR ATTR VALUE [ATTR VALUE ...]
  JOB is a cluster, cluster.proc, a user name or a PBS id (12.host, 12[3].host).
  VALUE is a ClassAd expression: numbers and booleans as they are, strings in double quotes
  ('"fast"' in the shell). Owner, ClusterId, ProcId and JobStatus cannot change; what the pool records
  (start and exit facts, files, accounting group) only by an admin; Request* only while idle or held.
Examples:
  dqedit 12 JobPrio 5
  dqedit 12.0 RequestMemory 2048 RequestCpus 2
  dqedit -constraint 'JobStatus == 5' Label '"retry-later"'`;

interface Parsed {
  constraint: string[];
  words: string[];
}

function parseArgs(argv: string[]): Parsed {
  const p: Parsed = { constraint: [], words: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '-help' || a === '--help') {
      io().stdout.write(USAGE + '\n');
      throw new CommandExit(EXIT.ok);
    }
    if (a === '-version' || a === '--version') {
      io().stdout.write(versionLine(typedName('dqedit')) + '\n');
      throw new CommandExit(EXIT.ok);
    }
    if (a === '-constraint' || a === '--constraint') {
      const v = argv[++i];
      if (v === undefined) throw new DschedError('USAGE', `-constraint needs an expression\n${USAGE}`);
      p.constraint.push(v);
    } else if (a === '--') {
      p.words.push(...argv.slice(i + 1));
      i = argv.length;
    } else p.words.push(a);
  }
  return p;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const words = [...args.words];
  // without -constraint the first word names the jobs; the rest are ATTR VALUE pairs
  const spec = args.constraint.length ? [] : words.splice(0, 1);
  if (!args.constraint.length && !spec.length) throw new DschedError('USAGE', `say which jobs\n${USAGE}`);
  if (!words.length || words.length % 2)
    throw new DschedError('USAGE', `give attributes and values in pairs (ATTR VALUE ...)\n${USAGE}`);
  const attrs: Record<string, string> = {};
  for (let i = 0; i < words.length; i += 2) attrs[words[i]!] = words[i + 1]!;
  // the ClassAd library (for -constraint) only once the arguments are good
  const { parseSelection } = await import('./shared/job-selection.js');
  const sel = parseSelection(spec, args.constraint);
  const session = openSession();
  try {
    const schedd = await session.schedd();
    const r = await schedd.edit({ ids: sel.ids, owners: sel.owners, constraint: sel.constraint, attrs });
    const failed = reportActFailures(io().command ?? 'dqedit', r.results);
    const ok = r.results.length - failed;
    if (!r.results.length) return EXIT.failed;
    // PBS's qalter (dsched shims) says nothing when it succeeds, as qdel, qhold and qrls do: errors only
    if (ok && io().command !== 'qalter')
      for (const name of Object.keys(attrs)) io().stdout.write(`Set attribute "${name}" for ${ok} matching job(s).\n`);
    return failed ? EXIT.failed : EXIT.ok;
  } finally {
    session.close();
  }
}

runCli('dqedit', main);
