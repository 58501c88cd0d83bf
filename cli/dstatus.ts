#!/usr/bin/env node
// dstatus: the pool's slots (condor_status).
import {
  formatAnyTable,
  formatSlotsJson,
  formatSlotsJsonl,
  formatSlotsLong,
  renderSlots,
  type SlotView,
} from './shared/output/slots.js';
import { io } from './shared/io.js';
import { EXIT, runCli } from './shared/run-cli.js';
import { openSession } from './shared/session.js';
import { listingOptions, REFUSED_PRINT_FORMAT } from './shared/listing-options.js';
import { parseCli, longForm, splitQualifiers, wideWidth, type RefusedOptions } from './shared/yargs.js';

/** condor_status options that have no meaning in dsched, and why. */
const REFUSED: RefusedOptions = {
  master: { why: 'the masters put no ads in the collector; dstatus -any lists every ad it has' },
  collector: { why: 'the collector puts no ad of its own in it; dstatus -any lists every ad it has' },
  grid: { why: 'dsched runs no grid universe jobs: there are no grid resources' },
  defrag: { why: 'dsched has no defrag daemon' },
  direct: { why: 'dstatus asks the collector only' },
  ...REFUSED_PRINT_FORMAT,
};

const L = listingOptions('slot', 'Name,State');

async function main(argv: string[]): Promise<number> {
  const a = await parseCli(
    'dstatus',
    splitQualifiers(argv, ['af', 'long', 'wide']),
    'usage: dstatus [options] [NAME...]',
    REFUSED,
    (y) =>
      y
        .options(L.constraint(false))
        .options(L.long())
        .options(L.forms())
        .options(L.attributes())
        .options(L.limit('at most this many ads'))
        .option('sort', {
          type: 'string',
          array: true,
          describe: 'in the order of this expression (repeatable: ties by the next)',
        })
        .options(L.wide())
        .option('run', {
          type: 'boolean',
          describe: 'the slots running a job: Name OpSys Arch LoadAv RemoteUser ClientMachine',
        })
        .option('server', { type: 'boolean', describe: 'Name OpSys Arch LoadAv Memory Disk Mips KFlops' })
        .option('state', { type: 'boolean', describe: 'Name Cpu Mem LoadAv KbdIdle State StateTime Activ ActvtyTime' })
        .option('startd', { type: 'boolean', describe: 'slot ads (the default)' })
        .option('negotiator', { type: 'boolean', describe: 'negotiator ads instead of slots' })
        .option('any', { type: 'boolean', describe: 'every ad the collector has: MyType TargetType Name' })
        .option('total', { type: 'boolean', describe: 'only the summary' })
        .option('compact', { type: 'boolean', describe: 'one line per machine' })
        .option('schedd', { type: 'boolean', describe: 'schedd ads instead of slots' })
        .option('submitters', { type: 'boolean', describe: 'submitter ads instead of slots' })
        .option('avail', { type: 'boolean', describe: 'only slots that are unclaimed and idle' })
        .option('claimed', { type: 'boolean', describe: 'only claimed slots' })
        .options(L.autoformat())
        .example('dstatus', 'the slots of every machine')
        .example('dstatus -avail', 'slots that would take a job now')
        .example('dstatus -af Name Cpus Memory', 'one line per slot'),
  );
  longForm(a);
  const width = wideWidth(a);
  // the ClassAd library only once the arguments are good: --help and usage errors load none of it
  const [
    { ClassAd, parseExpr },
    { autoformat, formatPairs: pairs, formatPrintf, parseAfQualifiers },
    { lit },
    { attributeList },
    { XML_HEAD, XML_TAIL, xmlAds },
    { sortAds },
    { MACHINE_NAME_ATTRS, warnUnquotedNames },
  ] = await Promise.all([
    import('../grammar/classad/index.js'),
    import('./shared/output/autoformat.js'),
    import('./shared/classad-literal.js'),
    import('./shared/job-scan.js'),
    import('./shared/output/xml.js'),
    import('./shared/output/sort.js'),
    import('./shared/unquoted-names.js'),
  ]);
  const given = (a.constraint as string | undefined) ?? '';
  if (given) warnUnquotedNames(parseExpr(given, { file: '<-constraint>', line: 1, column: 1 }), MACHINE_NAME_ATTRS);
  // as condor_status: names on the command line select the ads of those slots or machines
  const names = a._.map(String);
  const constraint = [
    given,
    names.length ? names.map((n) => `Name == ${lit(n)} || Machine == ${lit(n)}`).join(' || ') : '',
    a.avail ? 'State == "Unclaimed" && Activity == "Idle"' : '',
    a.claimed ? 'State == "Claimed"' : '',
    a.run ? 'State == "Claimed" && Activity != "Idle"' : '',
  ]
    .filter(Boolean)
    .map((c) => `(${c})`)
    .join(' && ');
  const session = openSession();
  try {
    const collector = await session.collector();
    // -any: every type ('')
    const type = a.any
      ? ''
      : a.schedd
        ? 'Scheduler'
        : a.submitters
          ? 'Submitter'
          : a.negotiator
            ? 'Negotiator'
            : 'Machine';
    const whole = !a.af && !a.format && (a.long || a.json || a.jsonl || a.xml);
    const attributes = a.attributes && whole ? attributeList(a.attributes as string[]) : [];
    const recs = await collector.query(type, constraint, attributes);
    let ads = recs
      .map((r) => ClassAd.fromRecord(r))
      .sort((x, y) => String(x.lookupJS('Name')).localeCompare(String(y.lookupJS('Name')), 'en', { numeric: true }));
    const sorts = ((a.sort as string[] | undefined) ?? []).map((t) =>
      parseExpr(t, { file: '<-sort>', line: 1, column: 1 }),
    );
    if (sorts.length) ads = sortAds(ads, sorts);
    if (a.limit !== undefined) ads = ads.slice(0, Math.max(0, a.limit as number));
    const out = io().stdout;
    if (a.af) out.write(autoformat(ads, a.af as string[], parseAfQualifiers((a['af-opts'] as string) ?? '')));
    else if (a.format) out.write(formatPrintf(ads, pairs(a.format as string[])));
    else if (a.json) out.write(formatSlotsJson(ads));
    else if (a.jsonl) out.write(formatSlotsJsonl(ads));
    else if (a.xml) out.write(XML_HEAD + xmlAds(ads.map((ad) => ad.toRecord())) + XML_TAIL);
    else if (a.any && !a.long) out.write(formatAnyTable(ads));
    else if (a.long || type !== 'Machine') out.write(formatSlotsLong(ads));
    else {
      const view: SlotView = a.total
        ? 'total'
        : a.compact
          ? 'compact'
          : a.run
            ? 'run'
            : a.server
              ? 'server'
              : a.state
                ? 'state'
                : 'default';
      out.write(
        renderSlots(ads, {
          view,
          ordered: sorts.length > 0,
          color: out.hasColors?.() ?? false,
          width,
        }),
      );
    }
    return EXIT.ok;
  } finally {
    session.close();
  }
}

runCli('dstatus', main);
