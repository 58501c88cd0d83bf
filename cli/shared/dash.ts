// Documents (and word processors) print options with a dash that is not '-': `qsub –q`, `condor_status
// –constrain`, copied as they are. Taken as a file or a machine name, such a word made an empty answer or a
// misleading error; the commands say what it is instead.
import { DschedError } from '../../lib/errors.js';

/** The hyphens, dashes and minus sign of Unicode that look like '-' (U+2010..U+2015, U+2212). */
const LOOKALIKE = /^([\u2010-\u2015\u2212]{1,2})([A-Za-z][\w-]*)(.*)$/s;

/** `word` with its look-alike dashes made '-', when it begins with one (else undefined). */
export function asciiDashes(word: string): string | undefined {
  const m = LOOKALIKE.exec(word);
  return m ? `${'-'.repeat(m[1]!.length)}${m[2]}${m[3]}` : undefined;
}

/** The usage error for a word that begins with a look-alike dash and would be the option `typed`. */
export function lookalikeDashError(word: string, typed: string): DschedError {
  const code = word.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return new DschedError(
    'USAGE',
    `'${word}' begins with U+${code}, a dash that is not '-' (as documents print options): type ${typed}`,
  );
}
