// #PBS scripts: directives (every qsub letter), -l resource strings (select chunks, nodes:ppn, walltime,
// mem), -J arrays, -W depend lists, with qsub-style command-line arguments that win over the script's lines.
// Each goes through the PBS path of loadSubmit + expandSubmit.
import fc from 'fast-check';
import { DEPEND_TYPES } from '../../../daemons/schedd/dependencies.js';
import { expandSubmit, loadSubmit } from '../../../grammar/submit/index.js';
import { loadCorpus } from '../corpus.js';
import { COMMON_TOKENS, mutated } from '../mutate.js';
import type { FuzzInput, Target } from '../target.js';
import { submitInput } from './submit.js';

const num = fc.oneof(
  fc.integer({ min: 0, max: 64 }).map(String),
  fc.constantFrom('-1', '0', '99999999999999999999', '1e3', '1.5', '', 'x', '007', '4294967297'),
);
const size = fc
  .tuple(num, fc.constantFrom('', 'b', 'kb', 'mb', 'gb', 'tb', 'pb', 'w', 'KB', 'Gb', 'mw', 'xx'))
  .map(([n, u]) => n + u);
const duration = fc.oneof(
  fc.tuple(num, num, num).map(([h, m, s]) => `${h}:${m}:${s}`),
  fc.constantFrom(
    '00:10:00',
    '1:00',
    '3600',
    '1:2:3:4',
    '::',
    '99999999999:00:00',
    '-1:00:00',
    '1.5',
    '10:60:60',
    '1e10',
  ),
);
const chunk = fc
  .tuple(
    fc.option(num, { nil: undefined }),
    fc.array(
      fc.oneof(
        num.map((n) => `ncpus=${n}`),
        size.map((s) => `mem=${s}`),
        num.map((n) => `mpiprocs=${n}`),
        num.map((n) => `ngpus=${n}`),
        num.map((n) => `ompthreads=${n}`),
        fc.constantFrom('host=node1', 'arch=linux', 'vnode=a', 'foo=bar', '=', 'ncpus', 'ncpus=', ':', 'mem=1gb=2'),
      ),
      { maxLength: 4 },
    ),
  )
  .map(([n, rs]) => [n, ...rs].filter((x) => x !== undefined).join(':'));
const resource = fc.oneof(
  fc.array(chunk, { minLength: 1, maxLength: 3 }).map((cs) => `select=${cs.join('+')}`),
  fc.tuple(num, num).map(([n, p]) => `nodes=${n}:ppn=${p}`),
  fc.constantFrom(
    'nodes=node1+node2:ppn=2',
    'nodes=2:gpus=1',
    'place=scatter:excl',
    'place=pack',
    'place=free:shared',
    'place=',
    'software=x',
    'nice=5',
  ),
  duration.map((d) => `walltime=${d}`),
  duration.map((d) => `cput=${d}`),
  size.map((s) => `mem=${s}`),
  size.map((s) => `vmem=${s}`),
  num.map((n) => `ncpus=${n}`),
  num.map((n) => `ngpus=${n}`),
  fc.constantFrom('', ',', 'walltime', '=1', 'mem=1gb,walltime=1:00:00,ncpus=2'),
);
const jobIds = fc.array(fc.oneof(num, fc.constantFrom('12.host', '12[].host', '12[3].host', '1.0', 'abc', '', '12.')), {
  minLength: 1,
  maxLength: 3,
});
const depend = fc.oneof(
  fc
    .tuple(
      // the types the schedd takes, and some it does not
      fc.constantFrom(...DEPEND_TYPES, 'synccount', 'syncwith', 'nosuch', ''),
      jobIds,
    )
    .map(([t, ids]) => `${t}:${ids.join(':')}`),
  fc.constantFrom('afterok', 'afterok:', ':', 'on:3', 'afterok:1,afterany:2', 'afterok:1:2:3:4:5:6:7:8:9:10'),
);
const array = fc.oneof(
  fc.tuple(num, num).map(([a, b]) => `${a}-${b}`),
  fc.tuple(num, num, num).map(([a, b, s]) => `${a}-${b}:${s}`),
  fc.tuple(num, num, num).map(([a, b, p]) => `${a}-${b}%${p}`),
  fc.constantFrom('1,2,5-7', '1-100000', '0-4294967295', '5-1', '1-10:0', '-', '1-', ',', '1-3,2-4', '1 - 3'),
);
const word = fc.oneof(
  fc.constantFrom(
    'job',
    'a b',
    "'quoted'",
    '"dq"',
    '/tmp/out',
    'user@example.org',
    'n',
    'abe',
    'oe',
    'eo',
    'y',
    '$HOME',
    'A=1,B=2',
    'A=1,B',
    '=',
    'x'.repeat(300),
    '',
  ),
  fc.string({ maxLength: 8 }),
);

const option = fc.oneof(
  resource.map((r) => ['-l', r]),
  array.map((a) => ['-J', a]),
  array.map((a) => ['-t', a]),
  depend.map((d) => ['-W', `depend=${d}`]),
  fc
    .constantFrom('group_list=g', 'umask=022', 'stagein=a@h:/b', 'sandbox=PRIVATE', 'x=y', 'depend', 'block=true')
    .map((w) => ['-W', w]),
  fc
    .tuple(
      fc.constantFrom(
        '-N',
        '-q',
        '-o',
        '-e',
        '-j',
        '-m',
        '-M',
        '-v',
        '-a',
        '-r',
        '-A',
        '-p',
        '-S',
        '-C',
        '-I',
        '-X',
        '-G',
        '-z',
        '-f',
        '-h',
        '-V',
        '-k',
        '-u',
        '-c',
        '-P',
        '--',
        '-',
        '-Z',
      ),
      word,
    )
    .map(([o, w]) => [o, w]),
  fc.constantFrom(
    ['-V'],
    ['-h'],
    ['-z'],
    ['-a', '202612061200'],
    ['-a', '1200.30'],
    ['-p', '-1024'],
    ['-p', '2000'],
    ['-v', 'A=1,B="x,y"'],
    ['-lselect=2'],
  ),
);

const directive = fc.oneof(
  { weight: 6, arbitrary: option.map((o) => `#PBS ${o.join(' ')}`) },
  { weight: 1, arbitrary: fc.array(option, { minLength: 2, maxLength: 3 }).map((os) => `#PBS ${os.flat().join(' ')}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '#PBS',
      '#PBS ',
      '#PBS -',
      '#PBS -l',
      '#PBS -W',
      '#PBS  -N  spaced   ',
      '#PBS -N a # comment',
      '#pbs -N lower',
      '  #PBS -N indented',
      '#PBS -l walltime=1:00 \\',
      '#PBS -N "unterminated',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom('echo $PBS_ARRAY_INDEX', 'cd $PBS_O_WORKDIR', '', '# comment', 'sleep 1', 'exit 0'),
  },
);

const generated = fc
  .tuple(
    fc.constantFrom('#!/bin/bash', '#!/bin/sh', '#!', '', '#!/bin/bash -l'),
    fc.array(directive, { minLength: 1, maxLength: 15 }),
  )
  .map(([shebang, lines]) => [shebang, ...lines].join('\n') + '\n');
const args = fc.option(
  fc.array(option, { maxLength: 3 }).map((os) => os.flat()),
  { nil: undefined, freq: 3 },
);

function runPbs(input: FuzzInput): void {
  const plan = loadSubmit(submitInput(input.text, { file: 'job.sh', pbsArgs: input.args }));
  expandSubmit(plan, 123);
}

export const pbsTarget: Target = {
  name: 'pbs',
  ext: 'sh',
  arbitrary() {
    const corpus = loadCorpus().pbs;
    const seed = fc.constantFrom(...corpus);
    const tokens = [
      '#PBS ',
      '-l ',
      '-J ',
      '-W depend=',
      'select=',
      ':ncpus=',
      'walltime=',
      ':',
      '+',
      '%',
      ...COMMON_TOKENS,
    ];
    const text = fc.oneof(
      { weight: 5, arbitrary: generated },
      { weight: 1, arbitrary: seed },
      { weight: 4, arbitrary: mutated(fc.oneof(seed, generated), corpus, tokens) },
    );
    return fc.tuple(text, args).map(([t, a]) => (a && a.length ? { text: t, args: a } : { text: t }));
  },
  run: runPbs,
};
