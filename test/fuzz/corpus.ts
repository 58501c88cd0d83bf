// The seed corpus: real inputs taken from the repository (the unit tests' tables, examples/, test/fixtures/),
// which the generators mutate. Read once per process; string literals are pulled out of the test sources
// with a plain scanner (good enough for a corpus: a literal read wrongly is just one more odd input).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function walk(dir: string, out: string[] = []): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

function unescapeJs(s: string): string {
  return s.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/gs, (_m, c: string) => {
    if (c.startsWith('u{')) return String.fromCodePoint(parseInt(c.slice(2, -1), 16));
    if (c[0] === 'u' && c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
    if (c[0] === 'x' && c.length === 3) return String.fromCharCode(parseInt(c.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', f: '\f', v: '\v' } as Record<string, string>)[c] ?? c;
  });
}

/** String literals ('…', "…", and `…` without ${}) of a JS/TS source. */
export function stringLiterals(src: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\$]|\\.|\$(?!\{))*)`/gs;
  for (const m of src.matchAll(re)) {
    const raw = m[1] ?? m[2] ?? m[3];
    if (raw !== undefined && raw.length > 0) out.push(unescapeJs(raw));
  }
  return out;
}

function literalsUnder(dir: string): string[] {
  return walk(join(ROOT, dir))
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => stringLiterals(readFileSync(f, 'utf8')));
}

function filesUnder(dir: string, keep: (f: string) => boolean): string[] {
  return walk(join(ROOT, dir))
    .filter(keep)
    .map((f) => readFileSync(f, 'utf8'));
}

export interface Corpus {
  classad: string[];
  submit: string[];
  pbs: string[];
  dag: string[];
}

const uniq = (xs: string[]) => [...new Set(xs)].filter((s) => s.length <= 20_000);

let cached: Corpus | undefined;

export function loadCorpus(): Corpus {
  if (cached) return cached;
  const classadLits = ['test/unit/classad', 'test/unit/analyze', 'test/unit/negotiator'].flatMap(literalsUnder);
  const submitLits = literalsUnder('test/unit/submit');
  const dagLits = literalsUnder('test/unit/dag');
  const examples = walk(join(ROOT, 'examples'));
  const read = (f: string) => readFileSync(f, 'utf8');
  const pbs = [
    ...submitLits.filter((s) => s.includes('#PBS')),
    ...examples
      .filter((f) => f.endsWith('.sh'))
      .map(read)
      .filter((s) => s.includes('#PBS')),
    '#!/bin/bash\n#PBS -N job\n#PBS -l select=1:ncpus=2:mem=1gb\n#PBS -l walltime=00:10:00\n#PBS -J 1-4\necho $PBS_ARRAY_INDEX\n',
  ];
  cached = {
    classad: uniq([
      ...classadLits.filter((s) => !s.includes('\n') || s.trimStart().startsWith('[')),
      ...submitLits.filter((s) => /[<>=]=|&&|\|\||\(/.test(s) && !s.includes('\n')),
    ]),
    submit: uniq([
      ...submitLits.filter((s) => /queue|=/i.test(s) && s.includes('\n') && !s.includes('#PBS')),
      ...filesUnder('test/fixtures/submit', (f) => /\.(job|inc|sub)$/.test(f)),
      ...examples.filter((f) => f.endsWith('.sub')).map(read),
    ]),
    pbs: uniq(pbs),
    dag: uniq([
      ...dagLits.filter((s) => /\b(JOB|PARENT|SPLICE|INCLUDE|FINAL|VARS|RETRY|SCRIPT)\b/i.test(s)),
      ...filesUnder('test/fixtures/dag', (f) => f.endsWith('.dag')),
      ...examples.filter((f) => f.endsWith('.dag')).map(read),
    ]),
  };
  return cached;
}
