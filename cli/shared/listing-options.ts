// The options dq, dhistory and dstatus share, as condor_q, condor_history and condor_status share them: the
// output forms (-long[:FORM], -json, -jsonl, -xml, -attributes, -af[:QUAL] and -format, -wide[:N]), -constraint,
// -limit and -utc, and the option all three refuse. Each is declared once here, worded for the ads the command
// lists; a command puts them into its yargs where its --help lists them.
import type { Options } from 'yargs';
import type { RefusedOptions } from './yargs.js';

type Declared = Record<string, Options>;

/** -NAME-opts carries -NAME:QUALIFIERS to the command (splitQualifiers): never in --help. */
const QUALIFIERS: Options = { type: 'string', hidden: true };

/** Refused by every listing command: its columns come from -af, -format and -af:h. */
export const REFUSED_PRINT_FORMAT: RefusedOptions = {
  'print-format': { arg: true, why: 'print-format files are not read; -af, -format and -af:h give the columns' },
};

/**
 * The shared options for a command listing `ad` ads ('job', 'slot'); `attributesExample`: -attributes' example
 * list. A description a command words its own way is passed in.
 */
export function listingOptions(ad: string, attributesExample: string) {
  return {
    /** `repeatable`: each -constraint narrows the ads further. */
    constraint: (repeatable: boolean): Declared => ({
      constraint: {
        type: 'string',
        ...(repeatable ? { array: true } : {}),
        describe: `only ${ad}s for which this ClassAd expression is true`,
      },
    }),
    /** -long and its -long:FORM; `forms`: those beyond json and xml (dq's new). */
    long: (forms: string[] = []): Declared => ({
      long: {
        type: 'boolean',
        alias: 'l',
        describe: `every attribute of each ${ad} ad (${['json', 'xml', ...forms].map((f) => `-long:${f}`).join(', ')}: in that form)`,
      },
      'long-opts': QUALIFIERS,
    }),
    /** -json, -jsonl and -xml; `jsonNote` ends -json's description. */
    forms: (jsonNote = ''): Declared => ({
      json: { type: 'boolean', describe: `${ad} ads as a JSON array${jsonNote}` },
      jsonl: { type: 'boolean', describe: `one JSON ${ad} ad per line` },
      xml: { type: 'boolean', describe: `${ad} ads in HTCondor's ClassAd XML` },
    }),
    attributes: (): Declared => ({
      // one comma-separated list per -attributes, as condor_q takes it: a job id after it is a job id
      attributes: {
        type: 'string',
        array: true,
        describe: `with -long, -json, -jsonl or -xml: only these attributes (-attributes ${attributesExample})`,
      },
    }),
    limit: (describe = `at most this many ${ad}s`, alias?: string): Declared => ({
      limit: { type: 'number', ...(alias ? { alias } : {}), describe },
    }),
    /** -wide and -wide:N. */
    wide: (describe = 'do not cut long lines (-wide:N: cut them at N columns)'): Declared => ({
      wide: { type: 'boolean', describe },
      'wide-opts': QUALIFIERS,
    }),
    utc: (): Declared => ({ utc: { type: 'boolean', describe: 'times in UTC' } }),
    /** -af[:QUAL] (-autoformat) and -format. */
    autoformat: (): Declared => ({
      af: {
        type: 'string',
        array: true,
        alias: 'autoformat',
        describe: 'print these attributes/expressions, one line per ad (-af:jlhVrTY,tng for qualifiers)',
      },
      'af-opts': QUALIFIERS,
      // exactly a format and an expression each time, so that job ids and owners may follow
      format: { type: 'string', array: true, nargs: 2, describe: '-format FMT EXPR (printf-like), repeatable' },
    }),
  };
}
