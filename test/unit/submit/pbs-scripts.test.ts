// pbs scripts – #PBS directives and qsub options → job ads, one table row per script.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SourceError } from '../../../lib/errors.js';
import { isPbsScript, parseEnv, splitArgs } from '../../../grammar/submit/index.js';
import { ENV, FIXTURES, run, scratch, str, type Result } from './helpers.js';

interface PbsCase {
  name: string;
  script: string;
  file?: string;
  mode?: number;
  args?: string[];
  procs?: number;
  check: (r: Result, dir: string, script: string) => void;
}

const env = (r: Result, i = 0) => parseEnv(undefined, str(r.ad(i).Environment));

const cases: PbsCase[] = [
  {
    name: "the seed's test.py: -J 0-99 and -V",
    file: 'test.py',
    script: readFileSync(join(FIXTURES, 'test.py'), 'utf8'),
    mode: 0o755,
    procs: 100,
    check: (r, dir, script) => {
      assert.equal(r.jobs.cluster.IsPbsJob, 'true');
      assert.equal(str(r.jobs.cluster.Cmd), script, 'an executable script with #! runs as itself');
      assert.equal(
        str(r.jobs.cluster.PbsScript),
        readFileSync(join(FIXTURES, 'test.py'), 'utf8'),
        'the script travels in the ad, as qsub copies it',
      );
      assert.equal(str(r.jobs.cluster.PbsScriptPath), script);
      assert.equal(r.jobs.cluster.TransferExecutable, 'false');
      const e = env(r, 42);
      assert.equal(e.PBS_ARRAY_INDEX, '42');
      assert.equal(e.PBS_ARRAY_ID, '77[].submit.example.org');
      assert.equal(e.PBS_JOBID, '77[42].submit.example.org');
      assert.equal(e.PBS_ENVIRONMENT, 'PBS_BATCH');
      assert.equal(e.PBS_JOBNAME, 'test.py');
      assert.equal(e.PBS_O_WORKDIR, dir);
      assert.equal(e.PBS_O_HOME, ENV.HOME);
      assert.equal(e.PBS_O_PATH, ENV.PATH);
      assert.equal(e.PBS_O_HOST, 'submit.example.org');
      assert.equal(e.MYVAR1, 'from-env', '-V exports the submitter environment');
      assert.equal(e.PBS_TMPDIR, undefined, 'PBS_TMPDIR is set by the startd at run time');
      assert.equal(str(r.ad(42).Out), join(dir, 'test.py.o77.42'));
      assert.equal(str(r.ad(42).Err), join(dir, 'test.py.e77.42'));
      assert.equal(r.ad(42).PbsArrayIndex, '42');
      assert.equal(str(r.jobs.cluster.PbsArrayId), '77[].submit.example.org');
      // what the script computes from its environment
      assert.equal(Number(e.PBS_ARRAY_ID!.split('[')[0]), 77);
    },
  },
  {
    name: "the seed's job.sh run as node B of the diamond: -N and -W depend from the command line",
    file: 'job.sh',
    script: readFileSync(join(FIXTURES, 'job.sh'), 'utf8'),
    mode: 0o755,
    args: ['-N', 'B', '-W', 'depend=afterok:12.submit.example.org'],
    check: (r, dir) => {
      assert.equal(str(r.jobs.cluster.PbsDepend), 'afterok:12.submit.example.org');
      assert.equal(env(r).PBS_JOBNAME, 'B');
      assert.equal(env(r).PBS_JOBID, '77.submit.example.org');
      assert.equal(str(r.jobs.cluster.Out), join(dir, 'B.o77'));
      assert.equal(str(r.jobs.cluster.Err), join(dir, 'B.e77'));
      assert.equal(r.jobs.procs.length, 1);
    },
  },
  {
    name: 'D of the diamond depends on two jobs',
    file: 'job.sh',
    script: '#!/bin/bash\necho "I am job $PBS_JOBNAME"\n',
    mode: 0o755,
    args: ['-N', 'D', '-W', 'depend=afterok:13.h:14.h'],
    check: (r) => assert.equal(str(r.jobs.cluster.PbsDepend), 'afterok:13.h:14.h'),
  },
  {
    name: 'a script that is not executable runs through its #! interpreter',
    file: 'run.py',
    script: '#!/usr/bin/env python3\n#PBS -N pyjob\nprint(1)\n',
    mode: 0o644,
    check: (r, dir, script) => {
      assert.equal(str(r.jobs.cluster.Cmd), '/usr/bin/env');
      assert.deepEqual(splitArgs(undefined, str(r.jobs.cluster.Arguments)), ['python3', script]);
      assert.equal(str(r.jobs.cluster.Out), join(dir, 'pyjob.o77'));
    },
  },
  {
    name: "-v CONTAINER_IMAGE=IMAGE runs the job in that image (PBS Professional's container hook)",
    file: 'boxed.sh',
    script: '#PBS -N boxed\n#PBS -v CONTAINER_IMAGE=docker://busybox\necho hi\n',
    mode: 0o644,
    check: (r) => {
      const c = r.jobs.cluster;
      assert.equal(str(c.ContainerImage), 'docker://busybox');
      assert.equal(c.JobUniverse, '14');
      assert.equal(c.ShouldTransferFiles, '"YES"');
      assert.match(
        String(c.Requirements),
        /\(TARGET\.HasContainer\) && \(TARGET\.HasDockerURL\) && \(TARGET\.HasFileTransfer\)$/,
      );
    },
  },
  {
    name: 'a script without #! runs with /bin/sh; -S picks another shell',
    file: 'plain.sh',
    script: '#PBS -N plain\necho hi\n',
    mode: 0o644,
    args: ['-S', '/bin/bash'],
    check: (r, _dir, script) => {
      assert.equal(str(r.jobs.cluster.Cmd), '/bin/bash');
      assert.deepEqual(splitArgs(undefined, str(r.jobs.cluster.Arguments)), [script]);
    },
  },
  {
    name: '-l select=N:ncpus=C:mem=M is a parallel job of N chunks, each with C cpus and M memory',
    script: '#!/bin/sh\n#PBS -l select=2:ncpus=4:mem=16gb:mpiprocs=4\n#PBS -l place=scatter:excl\ntrue\n',
    check: (r, dir) => {
      assert.equal(r.jobs.cluster.RequestCpus, '4');
      assert.equal(r.jobs.cluster.RequestMemory, '16384');
      assert.equal(r.jobs.cluster.MachineCount, '2');
      assert.equal(r.jobs.cluster.GangPlacement, '"scatter"');
      assert.equal(r.jobs.cluster.PbsMpiProcs, '4');
      assert.match(r.jobs.cluster.Requirements!, /\(TARGET\.Cpus >= RequestCpus\)/);
      assert.deepEqual(r.warnings, []);
      const free = run(dir, '#!/bin/sh\n#PBS -l select=3:ncpus=1\ntrue\n', { file: 'x.sh' }).jobs.cluster;
      assert.equal(free.GangPlacement, '"free"', 'PBS places chunks freely unless told');
      assert.equal(
        run(dir, '#!/bin/sh\n#PBS -l select=1:ncpus=2\ntrue\n', { file: 'x.sh' }).jobs.cluster.MachineCount,
        undefined,
        'one chunk is an ordinary job',
      );
      assert.throws(
        () => run(dir, '#!/bin/sh\n#PBS -l select=2:ncpus=1\n#PBS -l place=everywhere\ntrue\n', { file: 'x.sh' }),
        /place: 'everywhere' is not free, pack or scatter/,
      );
    },
  },
  {
    name: '-l select with chunks of different sizes still runs as one job on one host, with a warning',
    script: '#!/bin/sh\n#PBS -l select=1:ncpus=4+1:ncpus=2\ntrue\n',
    check: (r) => {
      assert.equal(r.jobs.cluster.RequestCpus, '6');
      assert.equal(r.jobs.cluster.MachineCount, undefined);
      assert.ok(r.warnings.some((w) => /chunks of different sizes are run as one job on one host/.test(w.message)));
    },
  },
  {
    name: '$PBS_NODEFILE lines: mpiprocs per chunk (default 1), Torque nodes × ppn',
    script: '#!/bin/sh\n#PBS -l select=2:ncpus=4:mpiprocs=4+1:ncpus=2\ntrue\n',
    check: (r, dir) => {
      assert.equal(r.jobs.cluster.PbsMpiProcs, '9');
      assert.equal(
        run(dir, '#!/bin/sh\n#PBS -l nodes=1:ppn=3\ntrue\n', { file: 'x.sh' }).jobs.cluster.PbsMpiProcs,
        '3',
      );
      assert.equal(
        run(dir, '#!/bin/sh\n#PBS -l select=1:ncpus=8\ntrue\n', { file: 'x.sh' }).jobs.cluster.PbsMpiProcs,
        '1',
      );
    },
  },
  {
    name: '-l ncpus, mem and walltime (walltime → AllowedJobDuration in seconds)',
    script: '#!/bin/sh\n#PBS -l ncpus=4,mem=512mb\n#PBS -l walltime=01:30:00\ntrue\n',
    check: (r) => {
      assert.equal(r.jobs.cluster.RequestCpus, '4');
      assert.equal(r.jobs.cluster.RequestMemory, '512');
      assert.equal(r.jobs.cluster.AllowedJobDuration, '5400');
    },
  },
  {
    name: '-o, -e and -j oe (stderr joins stdout)',
    script: '#!/bin/sh\n#PBS -o logs/out.txt\n#PBS -e /tmp/never-used.err\n#PBS -j oe\ntrue\n',
    check: (r, dir) => {
      assert.equal(str(r.jobs.cluster.Out), join(dir, 'logs/out.txt'));
      assert.equal(r.jobs.cluster.Err, r.jobs.cluster.Out);
    },
  },
  {
    name: '-o naming a directory puts the default file name in it; host: prefixes are dropped',
    script: '#!/bin/sh\n#PBS -N nm\n#PBS -o myhost:outdir/\ntrue\n',
    check: (r, dir) => assert.equal(str(r.jobs.cluster.Out), join(dir, 'outdir', 'nm.o77')),
  },
  {
    name: '-m abe -M addr, -h, -r n, -q, -a, -p, -A',
    script:
      '#!/bin/sh\n#PBS -m abe -M me@example.org\n#PBS -h\n#PBS -r n\n#PBS -q serial\n#PBS -a 2359\n#PBS -p 10\n#PBS -A proj1\ntrue\n',
    check: (r) => {
      const c = r.jobs.cluster;
      assert.equal(c.JobNotification, '1');
      assert.equal(str(c.NotifyUser), 'me@example.org');
      assert.equal(c.JobStatus, '5');
      assert.equal(c.HoldReasonCode, '15');
      assert.equal(c.PbsRerunable, 'false');
      assert.equal(str(c.PbsQueue), 'serial');
      assert.equal(env(r).PBS_QUEUE, 'serial');
      assert.ok(Number(c.DeferralTime) > Date.now() / 1000 - 60);
      assert.equal(c.JobPrio, '10');
      assert.equal(str(c.PbsAccount), 'proj1');
    },
  },
  {
    name: '-v sets variables, a bare name takes the submitter value; without -V nothing else is exported',
    script: '#!/bin/sh\n#PBS -v "ENV1=VAL1, ENV2=VAL2"\n#PBS -v MYVAR1\ntrue\n',
    check: (r) => {
      const e = env(r);
      assert.equal(e.ENV1, 'VAL1');
      assert.equal(e.ENV2, 'VAL2');
      assert.equal(e.MYVAR1, 'from-env');
      assert.equal(e.HOME, undefined);
      assert.equal(e.PBS_O_HOME, ENV.HOME);
    },
  },
  {
    name: 'the command line wins over #PBS lines',
    script: '#!/bin/sh\n#PBS -N fromscript\n#PBS -l ncpus=2\ntrue\n',
    args: ['-N', 'fromcli', '-l', 'ncpus=3'],
    check: (r) => {
      assert.equal(str(r.jobs.cluster.PbsJobName), 'fromcli');
      assert.equal(r.jobs.cluster.RequestCpus, '3');
    },
  },
  {
    name: 'directives are read only up to the first command',
    script: '#!/bin/sh\n\n# comment\n#PBS -N early\necho go\n#PBS -N late\n',
    check: (r) => assert.equal(str(r.jobs.cluster.PbsJobName), 'early'),
  },
  {
    name: '-J with a step, and -o with ^array_index^',
    script: '#!/bin/sh\n#PBS -J 1-10:3\n#PBS -o out.^array_index^\ntrue\n',
    procs: 4,
    check: (r, dir) => {
      assert.deepEqual(
        r.jobs.procs.map((p) => p.PbsArrayIndex),
        ['1', '4', '7', '10'],
      );
      assert.equal(str(r.ad(2).Out), join(dir, 'out.7'));
    },
  },
  {
    name: 'Torque -t: a list of indexes and ranges, PBS_ARRAYID, files NAME.oCLUSTER-INDEX',
    script: '#!/bin/sh\n#PBS -N tj\n#PBS -t 1,4-5%2\ntrue\n',
    procs: 3,
    check: (r, dir) => {
      assert.deepEqual(
        r.jobs.procs.map((p) => p.PbsArrayIndex),
        ['1', '4', '5'],
      );
      const e = env(r, 1);
      assert.equal(e.PBS_ARRAYID, '4');
      assert.equal(e.PBS_JOBID, '77[4].submit.example.org');
      assert.equal(str(r.ad(1).Out), join(dir, 'tj.o77-4'));
      // the %2 limit on running subjobs: the schedd keeps it
      assert.equal(r.ad(0).ArrayMaxRunning, '2');
      assert.equal(r.ad(0).PbsArrayIndices, '"1,4-5"');
      assert.ok(!r.warnings.some((w) => /%2/.test(w.message)));
    },
  },
  {
    name: 'a script with no #! and no #PBS lines runs with /bin/sh, named after the file',
    file: 'plain.sh',
    script: 'cd "$PBS_O_WORKDIR"\necho hi\n',
    mode: 0o644,
    check: (r, dir, script) => {
      assert.equal(str(r.jobs.cluster.Cmd), '/bin/sh');
      assert.deepEqual(splitArgs(undefined, str(r.jobs.cluster.Arguments)), [script]);
      assert.equal(str(r.jobs.cluster.Out), join(dir, 'plain.sh.o77'));
    },
  },
  {
    name: 'a script read from standard input (echo cmd | qsub) is named STDIN and runs from its copy',
    file: '<stdin>',
    script: 'echo hi\n',
    check: (r, dir) => {
      assert.equal(str(r.jobs.cluster.PbsJobName), 'STDIN');
      assert.equal(str(r.jobs.cluster.Cmd), '/bin/sh');
      assert.deepEqual(splitArgs(undefined, str(r.jobs.cluster.Arguments)), [join(dir, 'STDIN')]);
      assert.equal(str(r.jobs.cluster.PbsScriptPath), join(dir, 'STDIN'));
      assert.equal(str(r.jobs.cluster.PbsScript), 'echo hi\n');
      assert.equal(str(r.jobs.cluster.Out), join(dir, 'STDIN.o77'));
    },
  },
  {
    name: 'qsub -- program args runs a program without a script',
    script: '',
    args: ['-N', 'hello', '--', '/bin/echo', 'Hello, PBS!'],
    check: (r) => {
      assert.equal(str(r.jobs.cluster.Cmd), '/bin/echo');
      assert.equal(r.jobs.cluster.PbsScript, undefined);
      assert.deepEqual(splitArgs(undefined, str(r.jobs.cluster.Arguments)), ['Hello, PBS!']);
    },
  },
];

describe('pbs scripts – table', () => {
  for (const c of cases) {
    test(`pbs scripts – ${c.name}`, () => {
      const s = scratch();
      try {
        const file = c.file ?? 'job.pbs';
        const path = s.write(file, c.script, c.mode ?? 0o755);
        const r = run(s.dir, c.script, { file, pbsArgs: c.args });
        if (c.procs !== undefined) assert.equal(r.jobs.procs.length, c.procs);
        assert.equal(r.jobs.cluster.ClusterId, '77');
        c.check(r, s.dir, path);
      } finally {
        s.cleanup();
      }
    });
  }
});

interface PbsErr {
  name: string;
  script: string;
  args?: string[];
  line: number;
  column: number;
  message: RegExp;
  file?: string;
  code?: string;
}

const errors: PbsErr[] = [
  {
    name: 'a walltime that is not a duration',
    script: '#!/bin/sh\n#PBS -l walltime=abc\ntrue\n',
    line: 2,
    column: 9,
    message: /walltime: 'abc' is not a duration/,
  },
  {
    name: 'an array range that runs backwards',
    script: '#!/bin/sh\n#PBS -J 5-1\n',
    line: 2,
    column: 9,
    message: /below the start index/,
  },
  { name: 'an unknown option', script: '#!/bin/sh\n#PBS -Y\n', line: 2, column: 7, message: /unknown qsub option -Y/ },
  {
    name: 'an option without its value',
    script: '#!/bin/sh\n#PBS -N\n',
    line: 2,
    column: 6,
    message: /-N needs a value/,
  },
  {
    name: 'an unterminated quote',
    script: '#!/bin/sh\n#PBS -v "A=1\n',
    line: 2,
    column: 9,
    message: /unterminated double quote/,
  },
  {
    name: 'a bad -W depend',
    script: '#!/bin/sh\n#PBS -W depend=whenever\n',
    line: 2,
    column: 9,
    message: /is not type:jobid/,
  },
  {
    name: 'a bad command-line option is reported on the command line',
    script: '#!/bin/sh\n',
    args: ['-j', 'xx'],
    line: 1,
    column: 4,
    message: /-j: expected oe, eo or n/,
    file: '<command line>',
  },
  {
    name: 'a Torque -t request that is not a list of indexes',
    script: '#!/bin/sh\n#PBS -t 1-x\n',
    line: 2,
    column: 9,
    message: /not an array request/,
  },
  {
    name: 'an array larger than maxProcs',
    script: '#!/bin/sh\n#PBS -J 0-2000000\n',
    line: 2,
    column: 9,
    message: /more than the limit/,
  },
  {
    name: 'a script with Windows line endings and #!',
    script: '#!/bin/sh\r\necho hi\r\n',
    line: 1,
    column: 10,
    message: /Windows line endings \(line 1 ends/,
  },
  {
    name: 'a script with Windows line endings after its #PBS lines',
    script: '#PBS -N w\ncd /data\r\necho hi\r\n',
    line: 2,
    column: 9,
    message: /Windows line endings \(line 2 ends/,
  },
  {
    name: 'a script too large to be copied into the job',
    script: '#!/bin/sh\n' + '# padding\n'.repeat(60_000),
    line: 1,
    column: 1,
    message: /too large to be copied into the job/,
    code: 'INPUT_TOO_LARGE',
  },
  {
    name: 'interactive jobs',
    script: '#!/bin/sh\n#PBS -I\n',
    line: 2,
    column: 6,
    message: /interactive jobs are not supported/,
  },
];

describe('pbs scripts – errors', () => {
  for (const c of errors) {
    test(`pbs scripts – ${c.name}`, () => {
      const s = scratch();
      try {
        s.write('job.pbs', c.script, 0o755);
        let err: unknown;
        try {
          run(s.dir, c.script, { file: 'job.pbs', pbsArgs: c.args });
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof SourceError, String(err));
        assert.equal(err.code, c.code ?? 'PBS_SYNTAX');
        assert.equal(err.location.file, c.file ?? 'job.pbs');
        assert.equal(err.location.line, c.line, err.message);
        assert.equal(err.location.column, c.column, err.message);
        assert.match(err.bareMessage, c.message);
      } finally {
        s.cleanup();
      }
    });
  }
});

describe('pbs scripts – detection', () => {
  test('pbs scripts – isPbsScript tells scripts from submit descriptions', () => {
    assert.equal(isPbsScript('x.sh', '#!/bin/bash\necho\n'), true);
    assert.equal(isPbsScript('x', '# job\n#PBS -N a\necho\n'), true);
    assert.equal(isPbsScript('x.sub', '# job\nexecutable = /bin/true\nqueue\n'), false);
    assert.equal(isPbsScript('x.sub', 'executable = /bin/true\n#PBS -N a\nqueue\n'), false);
    assert.equal(isPbsScript('x.sh', '# no #! and no #PBS lines, as qsub takes it\ncd /data\necho hi\n'), true);
    assert.equal(
      isPbsScript('x.sub', 'executable = /bin/true\n'),
      false,
      'a submit description without queue stays one (its error says so)',
    );
    assert.equal(isPbsScript('x.sub', '+Group = "a"\nqueue 2\n'), false);
  });
});
