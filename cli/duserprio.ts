#!/usr/bin/env node
// duserprio: fair-share priorities of the pool's submitters (condor_userprio). Lower is better. With
// accounting groups (GROUP_NAMES) each submitter shows its group, and -quotas shows the groups' quotas.
import { DschedError } from '../lib/errors.js';
import { asAdmin } from './shared/admin.js';
import { renderTable } from './shared/output/columns.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { openSession } from './shared/session.js';
import { cli } from './shared/yargs.js';

async function main(argv: string[]): Promise<number> {
  const a = await cli('duserprio', argv, 'usage: duserprio [-allusers] [-quotas] [-setfactor SUBMITTER FACTOR] [-json]')
    .option('allusers', { type: 'boolean', describe: 'also submitters with no recent usage' })
    .option('quotas', { type: 'boolean', describe: 'the accounting groups: quotas, surplus, usage' })
    .option('setfactor', {
      type: 'string',
      array: true,
      nargs: 2,
      describe: 'SUBMITTER FACTOR: set a priority factor (admins)',
    })
    .option('json', { type: 'boolean' })
    .example('duserprio', "each submitter's effective priority and usage")
    .example('duserprio -setfactor alice@host 2', "(admins) halve alice's share")
    .parse();
  const session = openSession();
  try {
    const neg = await session.negotiator();
    if (a.setfactor) {
      const [who, f] = a.setfactor as string[];
      if (!who || f === undefined || !Number.isFinite(Number(f)))
        throw new DschedError('USAGE', 'usage: duserprio -setfactor SUBMITTER FACTOR');
      await asAdmin(session, 'set priority factors', () => neg.setFactor(who, Number(f)));
      process.stdout.write(`The priority factor of ${who} was set to ${Number(f)}\n`);
      return EXIT.ok;
    }
    const { submitters, groups } = await neg.priorities();
    if (a.quotas) {
      const gl = groups.filter((g) => g.name !== '<none>').sort((x, y) => x.name.localeCompare(y.name));
      if (a.json) {
        process.stdout.write(JSON.stringify(gl, null, 2) + '\n');
        return EXIT.ok;
      }
      if (!gl.length) {
        process.stdout.write('No accounting groups are configured (GROUP_NAMES).\n');
        return EXIT.ok;
      }
      const rows = gl.map((g) => [
        g.name,
        g.quota.toFixed(2),
        g.dynamic ? `${g.config_quota.toFixed(2)} (dynamic)` : g.config_quota.toFixed(2),
        g.accept_surplus ? 'yes' : 'no',
        g.usage.toFixed(0),
        g.requested.toFixed(0),
      ]);
      const lines = renderTable(
        [
          { header: 'Group' },
          { header: 'Effective Quota', align: 'right' },
          { header: 'Config Quota', align: 'right' },
          { header: 'Use Surplus' },
          { header: 'In Use', align: 'right' },
          { header: 'Requested', align: 'right' },
        ],
        rows,
      );
      process.stdout.write(lines.join('\n') + `\nNumber of groups: ${gl.length}\n`);
      return EXIT.ok;
    }
    const list = submitters
      .filter((s) => a.allusers || s.resources_in_use > 0 || s.accumulated_usage > 0)
      .sort((x, y) => x.effective_priority - y.effective_priority);
    if (a.json) {
      process.stdout.write(JSON.stringify(list, null, 2) + '\n');
      return EXIT.ok;
    }
    const grouped = list.some((s) => s.accounting_group);
    const rows = list.map((s) => [
      s.name,
      ...(grouped ? [s.accounting_group] : []),
      s.effective_priority.toFixed(2),
      s.real_priority.toFixed(2),
      s.priority_factor.toFixed(2),
      String(s.resources_in_use),
      (s.accumulated_usage / 3600).toFixed(2),
    ]);
    const lines = renderTable(
      [
        { header: 'Name' },
        ...(grouped ? [{ header: 'Group' }] : []),
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
