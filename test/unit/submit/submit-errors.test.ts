// submit errors – a broken submit file is refused whole, at file:line:column, with a message.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SourceError } from '../../../lib/errors.js';
import { run, scratch } from './helpers.js';

interface ErrCase {
  name: string;
  text: string;
  files?: Record<string, string>;
  extra?: Parameters<typeof run>[2];
  code: string | string[];
  line: number;
  /** exact column, or [min, max] when the ClassAd library decides the precise position */
  column: number | [number, number];
  message: RegExp;
  file?: string;
}

const EXE = 'executable = prog.sh\n';

const cases: ErrCase[] = [
  {
    name: 'a line that is not a statement',
    text: `${EXE}\nfoo bar\nqueue\n`,
    code: 'SUBMIT_SYNTAX',
    line: 3,
    column: 1,
    message: /expected 'name = value'.*found 'foo bar'/,
  },
  {
    name: 'an indented bad line points at its first character',
    text: `${EXE}   what is this\nqueue\n`,
    code: 'SUBMIT_SYNTAX',
    line: 2,
    column: 4,
    message: /found 'what is this'/,
  },
  {
    name: 'a script whose #! line ends in \\r\\n (saved on Windows): it could not start, as condor_submit says',
    text: `universe = vanilla\nexecutable = dos.sh\nqueue\n`,
    files: { 'dos.sh': '#!/bin/sh\r\necho hi\r\n' },
    code: 'SUBMIT_FILE',
    line: 2,
    column: 14,
    message: /executable 'dos\.sh' is a script whose #! line ends in a DOS\/Windows line end .*dos2unix dos\.sh/,
  },
  {
    name: "HTCondor's docker universe: the message says how to write it as the container universe with its image",
    text: `universe = docker\ndocker_image = busybox:1.36\n${EXE}queue\n`,
    code: 'SUBMIT_INVALID',
    line: 1,
    column: 12,
    message: /universe = container and container_image = docker:\/\/busybox:1\.36/,
  },
  {
    name: 'an executable that does not exist',
    text: `universe = vanilla\nexecutable =   nosuch.sh\nqueue\n`,
    code: 'SUBMIT_FILE',
    line: 2,
    column: 16,
    message: /executable 'nosuch.sh' does not exist/,
  },
  {
    name: 'an executable that is a directory',
    text: `executable = sub\nqueue\n`,
    files: { 'sub/x': '' },
    code: 'SUBMIT_FILE',
    line: 1,
    column: 14,
    message: /is a directory/,
  },
  {
    name: 'no executable at all',
    text: `arguments = x\nqueue\n`,
    code: 'SUBMIT_INVALID',
    line: 2,
    column: 1,
    message: /no executable given/,
  },
  {
    name: 'a bare double quote inside old-syntax arguments',
    text: `${EXE}arguments = -x "two words"\nqueue\n`,
    code: 'SUBMIT_SYNTAX',
    line: 2,
    column: 16,
    message: /double quote in the old syntax must be written/,
  },
  {
    name: 'an unterminated double quote in arguments',
    text: `${EXE}arguments = "abc\nqueue\n`,
    code: 'SUBMIT_SYNTAX',
    line: 2,
    column: 13,
    message: /unterminated double quote/,
  },
  {
    name: 'an unterminated single quote in new-style arguments',
    text: `${EXE}arguments = "a 'b c"\nqueue\n`,
    code: 'SUBMIT_SYNTAX',
    line: 2,
    column: 16,
    message: /unterminated single quote/,
  },
  {
    name: 'text after the closing double quote',
    text: `${EXE}arguments = "a" b\nqueue\n`,
    code: 'SUBMIT_SYNTAX',
    line: 2,
    column: 17,
    message: /unexpected text after the closing double quote/,
  },
  {
    name: 'an unterminated quote in new-style environment',
    text: `${EXE}environment = "A='x"\nqueue\n`,
    code: 'SUBMIT_SYNTAX',
    line: 2,
    column: 18,
    message: /unterminated single quote/,
  },
  {
    name: 'an old-style environment entry without =',
    text: `${EXE}environment = A=1;oops\nqueue\n`,
    code: 'SUBMIT_INVALID',
    line: 2,
    column: 15,
    message: /'oops' is not NAME=value/,
  },
  {
    name: 'a requirements expression that does not parse',
    text: `${EXE}requirements = (Memory > 64) && (Arch == \n queue\n`,
    code: ['CLASSAD_SYNTAX', 'SUBMIT_INVALID'],
    line: 2,
    column: [16, 60],
    message: /requirements|expect/i,
  },
  {
    name: 'a +Attr value that is not an expression',
    text: `${EXE}+Foo = a b\nqueue\n`,
    code: ['CLASSAD_SYNTAX'],
    line: 2,
    column: [8, 10],
    message: /./,
  },
  {
    name: 'a +Attr value that looks like a number but is none (octal-looking, past 64 bits)',
    text: `${EXE}+Foo = 007\n+Bar = 12345678901234567890\nqueue\n`,
    code: ['CLASSAD_SYNTAX'],
    line: 2,
    column: 8,
    message: /007/,
  },
  {
    name: 'a negative queue count',
    text: `${EXE}queue -1\n`,
    code: 'SUBMIT_QUEUE',
    line: 2,
    column: 7,
    message: /cannot be negative/,
  },
  {
    name: 'a queue count that is not a number',
    text: `${EXE}queue lots\n`,
    code: 'SUBMIT_QUEUE',
    line: 2,
    column: 7,
    message: /not a number of jobs/,
  },
  {
    name: 'an absurd queue count',
    text: `${EXE}queue 5000000\n`,
    code: 'SUBMIT_QUEUE',
    line: 2,
    column: 7,
    message: /more than the limit of 1000000/,
  },
  {
    name: 'more procs than maxProcs across statements',
    text: `${EXE}queue 6\nqueue 5\n`,
    extra: { maxProcs: 10 },
    code: 'SUBMIT_QUEUE',
    line: 3,
    column: 7,
    message: /limit of 10/,
  },
  {
    name: 'queue from a file that does not exist',
    text: `${EXE}queue a,b from  rows.txt\n`,
    code: 'SUBMIT_FILE',
    line: 2,
    column: 17,
    message: /cannot read 'rows.txt': no such file/,
  },
  {
    name: 'an item list that is never closed',
    text: `${EXE}queue x in (\n a\n b\n`,
    code: 'SUBMIT_QUEUE',
    line: 2,
    column: 12,
    message: /never closed/,
  },
  {
    name: "'in' with two variables",
    text: `${EXE}queue a, b in (x y)\n`,
    code: 'SUBMIT_QUEUE',
    line: 2,
    column: 7,
    message: /use 'from' for several/,
  },
  {
    name: 'a negative slice step',
    text: `${EXE}queue in [::-1] (a b)\n`,
    code: 'SUBMIT_QUEUE',
    line: 2,
    column: 7,
    message: /slice step must be positive/,
  },
  {
    name: 'no queue statement',
    text: `${EXE}arguments = x\n`,
    code: 'SUBMIT_QUEUE',
    line: 3,
    column: 1,
    message: /has no queue statement/,
  },
  {
    name: "'if' without 'endif'",
    text: `${EXE}if true\nqueue\n`,
    code: 'SUBMIT_SYNTAX',
    line: 2,
    column: 1,
    message: /without a matching 'endif'/,
  },
  {
    name: "'endif' without 'if'",
    text: `${EXE}endif\nqueue\n`,
    code: 'SUBMIT_SYNTAX',
    line: 2,
    column: 1,
    message: /'endif' without a matching 'if'/,
  },
  {
    name: 'a second else',
    text: `${EXE}if true\nelse\nelse\nendif\nqueue\n`,
    code: 'SUBMIT_SYNTAX',
    line: 4,
    column: 1,
    message: /second 'else'/,
  },
  {
    name: 'an if condition that is not one',
    text: `${EXE}if $(x:maybe) so\nendif\nqueue\n`,
    code: 'SUBMIT_SYNTAX',
    line: 2,
    column: 4,
    message: /is not a condition/,
  },
  {
    name: 'recursive macros end in an error, not a hang',
    text: `${EXE}a = $(b)\nb = $(a)\narguments = $(a)\nqueue\n`,
    code: 'SUBMIT_MACRO',
    line: 4,
    column: 13,
    message: /refers to itself: a → b → a/,
  },
  {
    name: 'an unterminated macro reference',
    text: `${EXE}arguments = $(oops\nqueue\n`,
    code: 'SUBMIT_MACRO',
    line: 2,
    column: 13,
    message: /unterminated macro reference/,
  },
  {
    name: '$CHOICE out of range',
    text: `${EXE}arguments = $CHOICE(5, a, b)\nqueue\n`,
    code: 'SUBMIT_MACRO',
    line: 2,
    column: 13,
    message: /outside the list/,
  },
  {
    name: 'an unsupported universe',
    text: `universe = standard\n${EXE}queue\n`,
    code: 'SUBMIT_INVALID',
    line: 1,
    column: 12,
    message: /not supported/,
  },
  {
    name: 'a parallel job without machine_count',
    text: `universe = parallel\n${EXE}queue\n`,
    code: 'SUBMIT_INVALID',
    line: 1,
    column: 12,
    message: /universe = parallel needs machine_count = N/,
  },
  {
    name: 'universe = container without an image',
    text: `universe = container\n${EXE}queue\n`,
    code: 'SUBMIT_INVALID',
    line: 1,
    column: 12,
    message: /universe = container needs container_image = IMAGE/,
  },
  {
    name: 'a container image in another universe',
    text: `universe = vanilla\ncontainer_image = img\n${EXE}queue\n`,
    code: 'SUBMIT_INVALID',
    line: 2,
    column: 19,
    message: /container_image needs universe = container/,
  },
  {
    name: 'a container job without file transfer',
    text: `universe = container\ncontainer_image = img\nshould_transfer_files = NO\n${EXE}queue\n`,
    code: 'SUBMIT_INVALID',
    line: 3,
    column: 25,
    message: /a container job runs on transferred files/,
  },
  {
    name: 'an unknown universe',
    text: `universe = banana\n${EXE}queue\n`,
    code: 'SUBMIT_INVALID',
    line: 1,
    column: 12,
    message: /unknown universe 'banana'/,
  },
  {
    name: 'the scheduler universe without a DAG file',
    text: `universe = scheduler\n${EXE}queue\n`,
    code: 'SUBMIT_INVALID',
    line: 1,
    column: 12,
    message: /universe = scheduler runs DAGs only, and this file names no DAG \(\+DAGManDagFile\)/,
  },
  {
    name: 'a kill_sig that is not a signal',
    text: `${EXE}kill_sig = SIGBOGUS\nqueue\n`,
    code: 'SUBMIT_INVALID',
    line: 2,
    column: 12,
    message: /kill_sig: 'SIGBOGUS' is not a signal/,
  },
  {
    name: 'a concurrency limit that is not name[:increment]',
    text: `${EXE}concurrency_limits = db:lots\nqueue\n`,
    code: 'SUBMIT_INVALID',
    line: 2,
    column: 22,
    message: /'db:lots' is not a limit/,
  },
  {
    name: 'a priority that is not an integer',
    text: `${EXE}priority = high\nqueue\n`,
    code: 'SUBMIT_INVALID',
    line: 2,
    column: 12,
    message: /expected an integer/,
  },
  {
    name: 'a notification that is not one',
    text: `${EXE}notification = sometimes\nqueue\n`,
    code: 'SUBMIT_INVALID',
    line: 2,
    column: 16,
    message: /Always, Complete, Error or Never/,
  },
  {
    name: 'a negative memory request',
    text: `${EXE}request_memory = -5\nqueue\n`,
    code: 'SUBMIT_INVALID',
    line: 2,
    column: 18,
    message: /cannot be negative/,
  },
  {
    name: 'an include file that does not exist',
    text: `${EXE}include : common.inc\nqueue\n`,
    code: 'SUBMIT_FILE',
    line: 2,
    column: 11,
    message: /cannot read 'common.inc'/,
  },
  {
    name: 'an error statement',
    text: `${EXE}error : need $(what:a license)\nqueue\n`,
    code: 'SUBMIT_INVALID',
    line: 2,
    column: 1,
    message: /^need a license$/,
  },
  {
    name: 'an input file that does not exist',
    text: `${EXE}input = data.in\nqueue\n`,
    code: 'SUBMIT_FILE',
    line: 2,
    column: 9,
    message: /input 'data.in' does not exist/,
  },
  {
    name: 'a transfer_input_files file that does not exist (condor_submit refuses it too)',
    text: `${EXE}should_transfer_files = YES\ntransfer_input_files = prog.sh, missing.dat\nqueue\n`,
    code: 'SUBMIT_FILE',
    line: 3,
    column: 24,
    message: /transfer_input_files: 'missing.dat' does not exist/,
  },
  {
    name: 'an output file in a folder that does not exist',
    text: `${EXE}output = out/$(Process).out\nqueue\n`,
    code: 'SUBMIT_FILE',
    line: 2,
    column: 10,
    message: /output 'out\/0.out': the folder .*\/out does not exist/,
  },
  {
    name: 'an error file in a folder that does not exist',
    text: `${EXE}error = logs/err\nqueue\n`,
    code: 'SUBMIT_FILE',
    line: 2,
    column: 9,
    message: /error 'logs\/err': the folder .*\/logs does not exist/,
  },
  {
    name: 'a log file in a folder that does not exist',
    text: `${EXE}log = nodir/job.log\nqueue\n`,
    code: 'SUBMIT_FILE',
    line: 2,
    column: 7,
    message: /log 'nodir\/job.log': the folder .*\/nodir does not exist/,
  },
  {
    name: 'an initialdir that does not exist',
    text: `${EXE}initialdir = nowhere\nqueue\n`,
    code: 'SUBMIT_FILE',
    line: 2,
    column: 14,
    message: /initialdir 'nowhere' does not exist/,
  },
  {
    name: 'when_to_transfer_output with should_transfer_files = NO',
    text: `${EXE}should_transfer_files = NO\nwhen_to_transfer_output = ON_EXIT\nqueue\n`,
    code: 'SUBMIT_INVALID',
    line: 3,
    column: 27,
    message: /cannot be used with should_transfer_files = NO/,
  },
  {
    name: 'a per-item error names the job and item',
    text: `executable = $(Item)\nqueue in (prog.sh, missing.sh)\n`,
    code: 'SUBMIT_FILE',
    line: 1,
    column: 14,
    message: /'missing.sh' does not exist.*\(job 1: Item=missing.sh\)/,
  },
  {
    name: 'an unclosed @=tag value',
    text: `${EXE}arguments @=end\n a\n`,
    code: 'SUBMIT_SYNTAX',
    line: 2,
    column: 1,
    message: /never closed with '@end'/,
  },
  {
    name: 'an include that includes itself',
    text: `${EXE}include : self.inc\nqueue\n`,
    files: { 'self.inc': 'include : self.inc\n' },
    code: 'SUBMIT_FILE',
    line: 1,
    column: 11,
    message: /nested more than 16 levels/,
    file: 'self.inc',
  },
  {
    name: 'an error in an included file is reported in that file',
    text: `${EXE}include : bad.inc\nqueue\n`,
    files: { 'bad.inc': '\n\nthis is bad\n' },
    code: 'SUBMIT_SYNTAX',
    line: 3,
    column: 1,
    message: /found 'this is bad'/,
    file: 'bad.inc',
  },
  {
    name: 'a -a line that is broken',
    text: `${EXE}queue\n`,
    extra: { append: ['not valid'] },
    code: 'SUBMIT_SYNTAX',
    line: 1,
    column: 1,
    message: /-a 'not valid'/,
    file: '<-a>',
  },
];

describe('submit errors – table', () => {
  for (const c of cases) {
    test(`submit errors – ${c.name}`, () => {
      const s = scratch();
      try {
        s.write('prog.sh', '#!/bin/sh\n', 0o755);
        for (const [name, content] of Object.entries(c.files ?? {})) s.write(name, content);
        let err: unknown;
        try {
          run(s.dir, c.text, c.extra);
        } catch (e) {
          err = e;
        }
        assert.ok(
          err instanceof SourceError,
          `expected a SourceError, got ${err instanceof Error ? err.stack : String(err)}`,
        );
        const codes = Array.isArray(c.code) ? c.code : [c.code];
        assert.ok(codes.includes(err.code), `code ${err.code} not in ${codes.join(', ')}: ${err.message}`);
        assert.equal(err.location.line, c.line, `line: ${err.message}`);
        if (typeof c.column === 'number') assert.equal(err.location.column, c.column, `column: ${err.message}`);
        else
          assert.ok(
            err.location.column >= c.column[0] && err.location.column <= c.column[1],
            `column ${err.location.column}: ${err.message}`,
          );
        assert.match(err.bareMessage, c.message);
        if (c.file) assert.ok(err.location.file.endsWith(c.file), `file ${err.location.file}`);
        else assert.equal(err.location.file, 'job.sub');
        // the message shows the line with a caret
        assert.match(err.message, /--> .*:\d+:\d+/);
      } finally {
        s.cleanup();
      }
    });
  }
});

describe('submit errors – warnings do not stop a submission', () => {
  test('submit errors – a matching glob that matches nothing is a warning', () => {
    const s = scratch();
    try {
      s.write('prog.sh', '#!/bin/sh\n', 0o755);
      const r = run(s.dir, `${EXE}queue matching *.nothing\nqueue\n`);
      assert.equal(r.jobs.procs.length, 1);
      assert.ok(r.warnings.some((w) => /'\*\.nothing' matches no files/.test(w.message) && w.location?.line === 2));
    } finally {
      s.cleanup();
    }
  });
});

describe("submit errors – a DOS line end on a script's #! line", () => {
  test('submit errors – with -allow-crlf-script it is a warning and the job is queued; \\r\\n after the #! line is not looked at', () => {
    const s = scratch();
    try {
      s.write('dos.sh', '#!/bin/sh\r\necho hi\r\n', 0o755);
      const r = run(s.dir, 'executable = dos.sh\nqueue\n', { allowCrlfScript: true });
      assert.equal(r.jobs.procs.length, 1);
      assert.ok(r.warnings.some((w) => /#! line ends in a DOS\/Windows line end/.test(w.message)));
      s.write('later.sh', '#!/bin/sh\necho hi\r\n', 0o755);
      s.write('binary', '\x7fELF\r\n', 0o755);
      for (const exe of ['later.sh', 'binary'])
        assert.equal(run(s.dir, `executable = ${exe}\nqueue\n`).warnings.length, 0, exe);
    } finally {
      s.cleanup();
    }
  });
});

describe('submit errors – include ifexist', () => {
  // ifexist passes over a file that is not there; anything else that cannot be read as a submit file is an error
  const nonRegular: Array<[string, (dir: string) => string]> = [
    ['a folder', (dir) => (mkdirSync(join(dir, 'conf.d')), 'conf.d')],
    ['a FIFO', (dir) => (execFileSync('mkfifo', [join(dir, 'pipe.inc')]), 'pipe.inc')],
    ['a device', () => '/dev/zero'],
  ];
  for (const [what, make] of nonRegular)
    test(`submit errors – include ifexist naming ${what} is refused at its line`, () => {
      const s = scratch();
      try {
        s.write('prog.sh', '#!/bin/sh\n', 0o755);
        const name = make(s.dir);
        let err: unknown;
        try {
          run(s.dir, `${EXE}include ifexist : ${name}\nqueue\n`);
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof SourceError, `expected a SourceError, got ${String(err)}`);
        assert.equal(err.code, 'SUBMIT_FILE');
        assert.equal(err.location.line, 2);
        assert.equal(err.location.file, 'job.sub');
        assert.match(err.bareMessage, /include: cannot read '.*': .*is not a regular file/);
      } finally {
        s.cleanup();
      }
    });

  test('submit errors – include ifexist of a missing file is skipped', () => {
    const s = scratch();
    try {
      s.write('prog.sh', '#!/bin/sh\n', 0o755);
      const r = run(s.dir, `${EXE}include ifexist : missing.inc\ninclude ifexist : prog.sh/x.inc\nqueue\n`);
      assert.equal(r.jobs.procs.length, 1);
    } finally {
      s.cleanup();
    }
  });
});
