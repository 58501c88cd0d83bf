#!/usr/bin/env node
// duserprio: fair-share priorities of the pool's submitters (condor_userprio). Lower is better.
import { DschedError } from '../lib/errors.js';
import { renderTable } from './shared/output/columns.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { openSession } from './shared/session.js';
import { cli } from './shared/yargs.js';

async function main(argv: string[]): Promise<number> {
  const a = await cli('duserprio', argv, 'usage: duserprio [-allusers] [-setfactor SUBMITTER FACTOR] [-json]')
    .option('allusers', { type: 'boolean', describe: 'also submitters with no recent usage' })
    .option('setfactor', { type: 'string', array: true, describe: 'SUBMITTER FACTOR: set a priority factor (admins)' })
    .option('json', { type: 'boolean' })
    .parse();
  const session = openSession();
  try {
    const neg = await session.negotiator();
    if (a.setfactor) {
      const [who, f] = a.setfactor as string[];
      if (!who || f === undefined || !Number.isFinite(Number(f))) throw new DschedError('USAGE', 'usage: duserprio -setfactor SUBMITTER FACTOR');
      await neg.setFactor(who, Number(f));
      process.stdout.write(`The priority factor of ${who} was set to ${Number(f)}\n`);
      return EXIT.ok;
    }
    const { submitters } = await neg.priorities();
    const list = submitters.filter((s) => a.allusers || s.resources_in_use > 0 || s.accumulated_usage > 0).sort((x, y) => x.effective_priority - y.effective_priority);
    if (a.json) {
      process.stdout.write(JSON.stringify(list, null, 2) + '\n');
      return EXIT.ok;
    }
    const rows = list.map((s) => [s.name, s.effective_priority.toFixed(2), s.real_priority.toFixed(2), s.priority_factor.toFixed(2), String(s.resources_in_use), (s.accumulated_usage / 3600).toFixed(2)]);
    const lines = renderTable(
      [
        { header: 'Name' },
        { header: 'Effective Priority', align: 'right' },
        { header: 'Real Priority', align: 'right' },
        { header: 'Priority Factor', align: 'right' },
        { header: 'In Use', align: 'right' },
        { header: 'Usage (hrs)', align: 'right' },
      ],
      rows,
    );
    process.stdout.write(lines.join('\n') + `\nNumber of users: ${list.length}\n`);
    return EXIT.ok;
  } finally {
    session.close();
  }
}

runCli('duserprio', main);
