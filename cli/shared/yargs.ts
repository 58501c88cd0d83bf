// One yargs setup for every command: HTCondor-style single-dash long options (-nobatch, -af, -constraint)
// must not be split into letters; usage errors exit 2 with the message; --version and shell completion
// (`dsched completion bash` asks each command through --get-yargs-completions).
import yargs, { type Argv } from 'yargs';
import { DschedError } from '../../lib/errors.js';
import { versionLine } from './version.js';

export function cli(cmd: string, argv: string[], usage: string): Argv {
  return (
    yargs(argv)
      .scriptName(cmd)
      .usage(usage)
      // job ids like 12.0 must stay strings: numeric parsing would turn `12.0` into the cluster 12
      .parserConfiguration({
        'short-option-groups': false,
        'camel-case-expansion': false,
        'parse-positional-numbers': false,
      })
      .strictOptions()
      .help('help')
      .alias('help', 'h')
      .version('version', 'print the version and exit', versionLine(cmd))
      .epilogue('Options take one dash or two, as HTCondor writes them: -nobatch is --nobatch.')
      .wrap(Math.min(110, process.stdout.columns || 100))
      .fail((msg, err) => {
        if (err) throw err;
        throw new DschedError('USAGE', msg);
      })
      // `-limit abc` is a usage error, not NaN taken as "no limit"
      .check((args) => {
        for (const [name, v] of Object.entries(args)) {
          if (typeof v === 'number' && Number.isNaN(v)) throw new DschedError('USAGE', `-${name} needs a number`);
        }
        return true;
      })
  );
}

/**
 * The pre-pass for yargs: `-af:jh` (or `-autoformat:jh`, `--af:jh`) becomes `--af-opts jh --af`, so yargs sees
 * a plain `af` array option plus the qualifiers. `-format` and everything else pass through unchanged.
 */
export function splitAfQualifiers(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    const m = /^--?(af|autoformat):(.*)$/.exec(a);
    if (m) out.push('--af-opts', m[2]!, '--af');
    else out.push(a);
  }
  return out;
}
