// dq's HTCondor options that choose where the jobs come from: -name SCHEDD and -global (schedds found through
// their Scheduler ads in the collector) and -userlog FILE (the jobs of an event log, no schedd asked). Each
// schedd decides what the caller may see of its queue, as it does for a plain dq.
import { DschedError } from '../../lib/errors.js';
import { readAddressFile } from '../../lib/rpc/address-file.js';
import { addressFile } from '../../lib/config/paths.js';
import type { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import type { JobQueryPage__Output } from '../../lib/rpc/generated/dsched/v1/JobQueryPage.js';
import { jobsOfUserLog, leftQueue } from './job-files.js';
import type { Selection } from './job-selection.js';
import { adPages, predicate, scanPages, selectionExpr } from './job-scan.js';
import type { Session } from './session.js';

/** A schedd to list, as its Scheduler ad names it. */
export interface ScheddTarget {
  name: string;
  address: string;
  client: ScheddClient;
}

/**
 * The schedds -name NAME (the one of that Name, or on that Machine) or -global (every one the collector knows,
 * by name) lists. This host's own schedd is reached as a plain dq reaches it.
 */
export async function scheddTargets(session: Session, o: { name?: string; global?: boolean }): Promise<ScheddTarget[]> {
  const ads = await (await session.collector()).query('Scheduler', '', ['Name', 'Machine', 'MyAddress']);
  const { RecordAd } = await import('../../grammar/classad/record-ad.js');
  const found = ads
    .map((r) => {
      const ad = new RecordAd(r);
      const text = (n: string) => {
        const v = ad.lookupJS(n);
        return typeof v === 'string' ? v : '';
      };
      return { name: text('Name'), machine: text('Machine'), address: text('MyAddress') };
    })
    .filter((s) => s.name && s.address)
    .sort((a, b) => a.name.localeCompare(b.name));
  const wanted = o.name?.toLowerCase();
  const chosen = o.global
    ? found
    : found.filter((s) => s.name.toLowerCase() === wanted || s.machine.toLowerCase() === wanted);
  if (!chosen.length)
    throw new DschedError(
      o.global ? 'SCHEDD_UNREACHABLE' : 'USAGE',
      o.global
        ? 'the collector knows no schedd'
        : `-name: no schedd named ${o.name} in the collector (${found.map((s) => s.name).join(', ') || 'none'})`,
    );
  const local = readAddressFile(addressFile(session.config.paths, 'schedd'))?.address;
  const out: ScheddTarget[] = [];
  for (const s of chosen)
    out.push({
      name: s.name,
      address: s.address,
      client: s.address === local ? await session.schedd() : await session.scheddAt(s.address),
    });
  return out;
}

/**
 * condor_q -userlog FILE: the jobs of an event log that are still in the queue as far as the log says (not
 * completed, not removed), as one page of ads narrowed by the selection; read with the caller's own rights.
 */
export async function* userlogPages(path: string, sel: Selection): AsyncGenerator<JobQueryPage__Output> {
  const ads = jobsOfUserLog(path).filter((a) => !leftQueue(a));
  yield* scanPages(adPages(ads), { keep: predicate(selectionExpr(sel)) });
}
