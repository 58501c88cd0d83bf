// submit files – what condor_submit makes of them: one table row per submit description.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { splitArgs, parseEnv } from '../../../grammar/submit/index.js';
import { condorArch, condorOpSys } from '../../../lib/platform.js';
import { FIXTURES, run, scratch, str, type Result, type Scratch } from './helpers.js';

const ARCH = condorArch();
const OPSYS = condorOpSys();
const DEFAULT_REQ = `(TARGET.Arch == "${ARCH}") && (TARGET.OpSys == "${OPSYS}") && (TARGET.Disk >= RequestDisk) && (TARGET.Memory >= RequestMemory) && ((TARGET.FileSystemDomain == MY.FileSystemDomain) || (TARGET.HasFileTransfer))`;

interface Case {
  name: string;
  text: string;
  files?: Record<string, string>;
  extra?: Parameters<typeof run>[2];
  procs?: number;
  cluster?: Record<string, string | undefined>;
  check?: (r: Result, dir: string) => void;
  warn?: RegExp;
  noWarnings?: boolean;
}

const EXE = 'executable = prog.sh\n';

const cases: Case[] = [
  {
    name: 'simplest file: defaults condor_submit writes',
    text: `${EXE}queue\n`,
    procs: 1,
    noWarnings: true,
    check: (r, dir) => {
      const c = r.jobs.cluster;
      assert.equal(c.JobUniverse, '5');
      assert.equal(str(c.Cmd), join(dir, 'prog.sh'));
      assert.equal(str(c.Iwd), dir);
      assert.equal(c.In, '"/dev/null"');
      assert.equal(c.Out, '"/dev/null"');
      assert.equal(c.Err, '"/dev/null"');
      assert.equal(c.JobStatus, '1');
      assert.equal(c.JobPrio, '0');
      assert.equal(c.Rank, '0.0');
      assert.equal(c.RequestCpus, '1');
      assert.equal(c.Requirements, DEFAULT_REQ);
      assert.equal(str(c.Owner), 'alice');
      assert.equal(c.ClusterId, '77');
      assert.equal(r.jobs.procs[0]!.ProcId, '0');
      assert.equal(c.Args, undefined);
      assert.equal(c.UserLog, undefined);
    },
  },
  {
    name: 'universe = container: the image, a host that runs containers, transferred files, the image’s program',
    text: 'universe = container\ncontainer_image = docker://busybox:1.36\nexecutable = /bin/cat\nqueue\n',
    cluster: {
      JobUniverse: '14',
      ContainerImage: '"docker://busybox:1.36"',
      ShouldTransferFiles: '"YES"',
      TransferExecutable: 'false',
      Cmd: '"/bin/cat"',
    },
    check: (r) => {
      const req = String(r.jobs.cluster.Requirements);
      assert.match(req, /\(TARGET\.HasContainer\) && \(TARGET\.HasDockerURL\)/);
      assert.match(req, /\(TARGET\.HasFileTransfer\)$/);
    },
  },
  {
    name: 'container_image without a universe is a container job (HTCondor); a transferred executable stays so',
    text: `container_image = localhost/img\ntransfer_executable = true\n${EXE}queue\n`,
    cluster: { JobUniverse: '14', ContainerImage: '"localhost/img"', TransferExecutable: 'true' },
    check: (r) => assert.doesNotMatch(String(r.jobs.cluster.Requirements), /HasDockerURL/),
  },
  {
    name: 'keys are case-insensitive, values keep their case',
    text: `EXECUTABLE = prog.sh\nOutPut = Out.TXT\nQUEUE\n`,
    cluster: { Out: '"Out.TXT"' },
  },
  {
    name: 'comments and blank lines; # only starts a comment at the beginning of a line',
    text: `# a comment\n\n   # indented comment\n${EXE}arguments = a#b\nqueue\n`,
    cluster: { Args: '"a#b"' },
  },
  {
    name: 'backslash continues a line; comment lines inside are skipped',
    text: `${EXE}arguments = one \\\n  two \\\n# not part of it\n  three\nqueue\n`,
    cluster: { Args: '"one two three"' },
  },
  {
    name: 'queue N makes N procs numbered from 0',
    text: `${EXE}output = out.$(Process)\nqueue 5\n`,
    procs: 5,
    check: (r) => {
      assert.deepEqual(
        r.jobs.procs.map((p) => p.ProcId),
        ['0', '1', '2', '3', '4'],
      );
      assert.equal(r.jobs.procs[3]!.Out, '"out.3"');
      assert.equal(r.jobs.cluster.Out, undefined);
    },
  },
  {
    name: '$(Cluster) $(ClusterId) $(Process) $(ProcId)',
    text: `${EXE}arguments = $(Cluster) $(ClusterId) $(Process) $(ProcId)\nqueue 2\n`,
    check: (r) => {
      assert.equal(r.jobs.procs[1]!.Args, '"77 77 1 1"');
    },
  },
  {
    name: '$(JobId) is $(ClusterId).$(ProcId), as HTCondor defines it',
    text: `${EXE}output = out.$(JobId)\nqueue 2\n`,
    noWarnings: true,
    check: (r) => {
      assert.equal(r.ad(0).Out, '"out.77.0"');
      assert.equal(r.ad(1).Out, '"out.77.1"');
    },
  },
  {
    name: 'queue N where N is an expression',
    text: `${EXE}N = 3\nqueue $(N) * 2 + 1\n`,
    procs: 7,
  },
  {
    name: 'user macros, defined before or after use, and $(name:default)',
    text: `${EXE}arguments = $(greeting) $(missing:fallback) $(late)\ngreeting = hello\nlate = world\nqueue\n`,
    cluster: { Args: '"hello fallback world"' },
    noWarnings: true,
  },
  {
    name: 'a macro defined in terms of itself appends to its previous value',
    text: `${EXE}flags = -a\nflags = $(flags) -b\narguments = $(flags)\nqueue\n`,
    cluster: { Args: '"-a -b"' },
  },
  {
    name: 'undefined macro expands to nothing, with a warning',
    text: `${EXE}arguments = x$(nosuch)y\nqueue\n`,
    cluster: { Args: '"xy"' },
    warn: /macro 'nosuch' is not defined/,
  },
  {
    name: '$(DOLLAR) is a literal $, $$(Attr) is kept for the startd',
    text: `${EXE}arguments = cost$(DOLLAR)5 $$(OpSys) $$([TARGET.Memory * 0.9])\nqueue\n`,
    cluster: { Args: '"cost$5 $$(OpSys) $$([TARGET.Memory * 0.9])"' },
  },
  {
    name: 'arguments, old syntax: split on spaces, \\" is a quote, stored in Args',
    text: `${EXE}arguments = one \\"two\\" 'three'\nqueue\n`,
    check: (r) => {
      assert.equal(r.jobs.cluster.Arguments, undefined);
      assert.deepEqual(splitArgs(str(r.jobs.cluster.Args), undefined), ['one', '"two"', "'three'"]);
    },
  },
  {
    name: 'arguments, new syntax: single quotes group, doubled quotes, stored in Arguments',
    text: `${EXE}arguments = "one ""two"" 'spacey ''quoted'' argument'"\nqueue\n`,
    check: (r) => {
      assert.equal(r.jobs.cluster.Args, undefined);
      assert.deepEqual(splitArgs(undefined, str(r.jobs.cluster.Arguments)), [
        'one',
        '"two"',
        "spacey 'quoted' argument",
      ]);
    },
  },
  {
    name: 'arguments, new syntax: runs of white space collapse',
    text: `${EXE}arguments = "3   simple\targuments"\nqueue\n`,
    cluster: { Arguments: '"3 simple arguments"' },
  },
  {
    name: 'environment, old syntax: ; separated, stored in Env',
    text: `${EXE}environment = one=1;two=2;three="quotes have no 'special' meaning"\nqueue\n`,
    check: (r) => {
      assert.deepEqual(parseEnv(str(r.jobs.cluster.Env), undefined), {
        one: '1',
        two: '2',
        three: `"quotes have no 'special' meaning"`,
      });
    },
  },
  {
    name: 'environment, new syntax: stored in Environment',
    text: `${EXE}environment = "one=1 two=""2"" three='spacey ''quoted'' value'"\nqueue\n`,
    check: (r) => {
      assert.equal(r.jobs.cluster.Env, undefined);
      assert.deepEqual(parseEnv(undefined, str(r.jobs.cluster.Environment)), {
        one: '1',
        two: '"2"',
        three: "spacey 'quoted' value",
      });
    },
  },
  {
    name: 'getenv = true copies the submitter environment; environment entries win',
    text: `${EXE}getenv = true\nenvironment = "MYVAR1=mine EXTRA=1"\nqueue\n`,
    check: (r) => {
      const env = parseEnv(undefined, str(r.jobs.cluster.Environment));
      assert.equal(env.MYVAR1, 'mine');
      assert.equal(env.HOME, '/home/alice');
      assert.equal(env.EXTRA, '1');
    },
  },
  {
    name: 'getenv with a list of names and wildcards',
    text: `${EXE}getenv = HOME, MY*\nqueue\n`,
    check: (r) => {
      assert.deepEqual(parseEnv(undefined, str(r.jobs.cluster.Environment)), {
        HOME: '/home/alice',
        MYVAR1: 'from-env',
      });
    },
  },
  {
    name: 'getenv with a 33,000-character word matches no variable (no RegExp is built from it)',
    text: `${EXE}getenv = ${'A'.repeat(33_000)}*\nqueue\n`,
    check: (r) => {
      assert.deepEqual(parseEnv(undefined, str(r.jobs.cluster.Environment ?? '""')), {});
    },
  },
  {
    name: 'getenv: ? and * wildcards, case-insensitive, a leading ! excludes',
    text: `${EXE}getenv = my*, h?me, !myvar1\nqueue\n`,
    check: (r) => {
      assert.deepEqual(parseEnv(undefined, str(r.jobs.cluster.Environment)), { HOME: '/home/alice' });
    },
  },
  {
    name: 'input/output/error kept as written (relative to Iwd); log made absolute',
    text: `${EXE}input = in.txt\noutput = o.txt\nerror = e.txt\nlog = logs/job.log\nqueue\n`,
    files: { 'in.txt': 'x', 'logs/.keep': '' },
    check: (r, dir) => {
      assert.equal(r.jobs.cluster.In, '"in.txt"');
      assert.equal(r.jobs.cluster.Out, '"o.txt"');
      assert.equal(r.jobs.cluster.Err, '"e.txt"');
      assert.equal(str(r.jobs.cluster.UserLog), join(dir, 'logs/job.log'));
    },
  },
  {
    name: 'initialdir sets Iwd; log is relative to it, the executable is not',
    text: `${EXE}initialdir = run1\nlog = job.log\nqueue\n`,
    files: { 'run1/.keep': '' },
    check: (r, dir) => {
      assert.equal(str(r.jobs.cluster.Iwd), join(dir, 'run1'));
      assert.equal(str(r.jobs.cluster.UserLog), join(dir, 'run1', 'job.log'));
      assert.equal(str(r.jobs.cluster.Cmd), join(dir, 'prog.sh'));
    },
  },
  {
    name: 'initialdir per proc',
    text: `${EXE}initialdir = run$(Process)\nqueue 2\n`,
    files: { 'run0/.keep': '', 'run1/.keep': '' },
    check: (r, dir) => {
      assert.equal(str(r.jobs.procs[1]!.Iwd), join(dir, 'run1'));
    },
  },
  {
    name: 'request_memory and request_disk units (memory in MB rounded up, disk in KB)',
    text: `${EXE}request_memory = 2GB\nrequest_disk = 512M\nrequest_cpus = 4\nqueue\n`,
    cluster: { RequestMemory: '2048', RequestDisk: '524288', RequestCpus: '4' },
  },
  {
    name: 'units: K rounds up to a whole MB, bare memory is MB, bare disk is KB, "32 Mb" with a space',
    text: `${EXE}request_memory = 1500K\nrequest_disk = 100\nimage_size = 28 Mb\nqueue\n`,
    cluster: { RequestMemory: '2', RequestDisk: '100', ImageSize: '28672' },
  },
  {
    name: 'request_memory as an expression is kept as an expression',
    text: `${EXE}request_memory = max({60, Target.TotalSlotMemory})\nqueue\n`,
    cluster: { RequestMemory: 'max({60, Target.TotalSlotMemory})' },
  },
  {
    name: 'default Requirements adds Cpus only when request_cpus > 1',
    text: `${EXE}request_cpus = 2\nqueue\n`,
    check: (r) => assert.match(r.jobs.cluster.Requirements!, /\(TARGET\.Cpus >= RequestCpus\)/),
  },
  {
    name: 'default Requirements: Arch and OpSys clauses the user already names are left out, Disk and Memory never',
    text: `${EXE}requirements = (Target.Memory > 64) && (Target.Arch == "X86_64") && (OpSys == "LINUX") && (Disk > 10)\nqueue\n`,
    cluster: {
      Requirements:
        '((Target.Memory > 64) && (Target.Arch == "X86_64") && (OpSys == "LINUX") && (Disk > 10)) && (TARGET.Disk >= RequestDisk) && (TARGET.Memory >= RequestMemory) && ((TARGET.FileSystemDomain == MY.FileSystemDomain) || (TARGET.HasFileTransfer))',
    },
  },
  {
    name: 'default Requirements: no Disk clause for request_disk = 0, no Memory clause for request_memory <= 1',
    text: `${EXE}request_disk = 0\nrequest_memory = 1\nqueue\n`,
    cluster: {
      Requirements: `(TARGET.Arch == "${ARCH}") && (TARGET.OpSys == "${OPSYS}") && ((TARGET.FileSystemDomain == MY.FileSystemDomain) || (TARGET.HasFileTransfer))`,
    },
  },
  {
    name: 'default Requirements: GPUs and should_transfer_files = YES',
    text: `${EXE}request_gpus = 1\nshould_transfer_files = YES\nwhen_to_transfer_output = ON_EXIT\nqueue\n`,
    check: (r) => {
      const req = r.jobs.cluster.Requirements!;
      assert.match(req, /\(TARGET\.GPUs >= RequestGPUs\)/);
      assert.match(req, /&& \(TARGET\.HasFileTransfer\)$/);
      assert.equal(r.jobs.cluster.RequestGPUs, '1');
      assert.equal(r.jobs.cluster.ShouldTransferFiles, '"YES"');
    },
  },
  {
    name: 'should_transfer_files = NO requires the same FileSystemDomain',
    text: `${EXE}should_transfer_files = NO\nqueue\n`,
    check: (r) => {
      assert.match(r.jobs.cluster.Requirements!, /&& \(TARGET\.FileSystemDomain == MY\.FileSystemDomain\)$/);
      assert.equal(r.jobs.cluster.FileSystemDomain, '"submit.example.org"');
    },
  },
  {
    name: 'custom request_<name> becomes Request<name> and a Requirements clause',
    text: `${EXE}request_Foo = 3\nqueue\n`,
    check: (r) => {
      assert.equal(r.jobs.cluster.RequestFoo, '3');
      assert.match(r.jobs.cluster.Requirements!, /\(TARGET\.Foo >= RequestFoo\)/);
    },
  },
  {
    name: 'rank and priority',
    text: `${EXE}rank = Target.KFlops\npriority = -5\nqueue\n`,
    cluster: { Rank: 'Target.KFlops', JobPrio: '-5' },
  },
  {
    name: '+Attr and My.Attr set custom attributes as expressions',
    text: `${EXE}+Project = "physics"\nMy.Weight = 2 * 3\n+Index = $(Process)\nqueue 2\n`,
    check: (r) => {
      assert.equal(r.jobs.cluster.Project, '"physics"');
      assert.equal(r.jobs.cluster.Weight, '2 * 3');
      assert.equal(r.jobs.procs[1]!.Index, '1');
    },
    noWarnings: true,
  },
  {
    name: 'queue var in (list) across lines, with ItemIndex',
    text: `${EXE}arguments = $(animal) $(ItemIndex)\nqueue animal in (\n  cat, dog\n  # a comment row\n  emu\n)\n`,
    procs: 3,
    check: (r) => {
      assert.deepEqual(
        r.jobs.procs.map((p) => p.Args),
        ['"cat 0"', '"dog 1"', '"emu 2"'],
      );
    },
  },
  {
    name: 'queue N in (list) on one line: N procs per item, Step counts within the item',
    text: `${EXE}arguments = $(Item) $(Step) $(Process)\nqueue 2 in (a b)\n`,
    procs: 4,
    check: (r) => {
      assert.deepEqual(
        r.jobs.procs.map((p) => p.Args),
        ['"a 0 0"', '"a 1 1"', '"b 0 2"', '"b 1 3"'],
      );
    },
  },
  {
    name: 'queue v1,v2 from file: the last variable takes the rest of the line',
    text: `${EXE}arguments = "$(name) $(rest)"\nqueue name, rest from rows.txt\n`,
    files: { 'rows.txt': 'alpha, 1\nbeta,2\n\ngamma 3 and more words\n' },
    procs: 3,
    check: (r) => {
      assert.deepEqual(splitArgs(undefined, str(r.ad(2).Arguments)), ['gamma', '3', 'and', 'more', 'words']);
      assert.equal(r.ad(1).Arguments, '"beta 2"');
    },
  },
  {
    name: "queue from file: a line beginning with '#' is an item, as condor_submit reads a file (with a warning)",
    text: `${EXE}arguments = $(x)\nqueue x from rows.txt\n`,
    files: { 'rows.txt': '# not a comment\none\n  #two\n\n' },
    procs: 3,
    warn: /2 line\(s\) beginning with '#' are items/,
    check: (r) => {
      assert.deepEqual(
        r.jobs.procs.map((p) => p.Args),
        ['"# not a comment"', '"one"', '"#two"'],
      );
    },
  },
  {
    name: "queue from ( inline rows ): lines beginning with '#' are comments, skipped without a warning",
    text: `${EXE}arguments = $(x)\nqueue x from (\n  # a comment\n  one\n\n  two\n)\n`,
    procs: 2,
    noWarnings: true,
  },
  {
    name: "a loop variable named like a command sets it (the manual's example 1b: queue Arguments From (…))",
    text: `${EXE}Output  = foo.out$(Process)\nError   = foo.err$(Process)\nQueue Arguments From (\n  15 2000\n  30 2000\n  45 6000\n)\n`,
    procs: 3,
    check: (r) => {
      assert.deepEqual(
        r.jobs.procs.map((p) => p.Args),
        ['"15 2000"', '"30 2000"', '"45 6000"'],
      );
      assert.equal(r.jobs.procs[2]!.Out, '"foo.out2"');
    },
    noWarnings: true,
  },
  {
    name: 'queue from ( inline rows ) with $(Row)',
    text: `${EXE}arguments = $(a)-$(b)-$(Row)\nqueue a b from (\n  1 x\n  2 y\n)\n`,
    check: (r) => {
      assert.deepEqual(
        r.jobs.procs.map((p) => p.Args),
        ['"1-x-0"', '"2-y-1"'],
      );
    },
  },
  {
    name: 'queue matching files globs, sorted, and the dirs form',
    text: `${EXE}arguments = $(Item)\nqueue matching files *.dat\n`,
    files: { 'b.dat': '', 'a.dat': '', 'c.txt': '', 'd.dat/x': '' },
    check: (r) => {
      assert.deepEqual(
        r.jobs.procs.map((p) => p.Args),
        ['"a.dat"', '"b.dat"'],
      );
    },
  },
  {
    name: 'queue matching dirs',
    text: `${EXE}initialdir = $(dir)\nqueue dir matching dirs run*\n`,
    files: { 'run1/f': '', 'run2/f': '', runfile: '' },
    procs: 2,
  },
  {
    name: 'slices [start:end:step] select items and keep their ItemIndex',
    text: `${EXE}arguments = $(Item):$(ItemIndex)\nqueue in [1:6:2] (a b c d e f g)\n`,
    check: (r) => {
      assert.deepEqual(
        r.jobs.procs.map((p) => p.Args),
        ['"b:1"', '"d:3"', '"f:5"'],
      );
    },
  },
  {
    name: 'several queue statements share one cluster; what changes between them goes to the procs',
    text: `${EXE}arguments = 15 2000\noutput = foo.out0\nqueue\narguments = 30 2000\noutput = foo.out1\nqueue\n`,
    procs: 2,
    check: (r) => {
      assert.equal(r.jobs.procs[0]!.Args, '"15 2000"');
      assert.equal(r.jobs.procs[1]!.Out, '"foo.out1"');
      assert.equal(r.jobs.procs[1]!.ProcId, '1');
      assert.equal(r.jobs.cluster.Args, undefined);
      assert.equal(r.jobs.cluster.Cmd !== undefined, true);
    },
  },
  {
    name: 'if / elif / else / endif with defined and expressions',
    text: `${EXE}if defined NOPE\n  arguments = a\nelif $(N:2) > 1\n  arguments = b\nelse\n  arguments = c\nendif\nif version >= 8.4\n  +Modern = true\nendif\nqueue\n`,
    cluster: { Args: '"b"', Modern: 'true' },
  },
  {
    name: 'include : file reads submit lines from another file',
    text: `${EXE}include : common.inc\nqueue\n`,
    files: { 'common.inc': 'request_cpus = 2\n+FromInclude = "yes"\n' },
    cluster: { RequestCpus: '2', FromInclude: '"yes"' },
  },
  {
    name: 'function macros: $ENV $INT $REAL $SUBSTR $CHOICE $Fnx',
    text:
      `${EXE}X = 2\nY = 6\nArea = $(X) * $(Y)\nName = abcdef\npath = /tmp/simulate.exe\n` +
      `arguments = $ENV(HOME) $INT(Area,%04d) $REAL(X,%.2f) $SUBSTR(Name,1,3) $SUBSTR(Name,-1) $CHOICE(1,a,b,c) $Fn(path) $Fx(path) $Fp(path) $ENV(NOPE:dflt)\nqueue\n`,
    cluster: { Args: '"/home/alice 0012 2.00 bcd f b simulate .exe /tmp/ dflt"' },
  },
  {
    name: '$RANDOM_INTEGER and $RANDOM_CHOICE are drawn per proc within their range',
    text: `${EXE}arguments = $RANDOM_INTEGER(0, 8, 2) $RANDOM_CHOICE(x,y)\nqueue 20\n`,
    check: (r) => {
      for (const p of r.jobs.procs) assert.match(str(p.Args ?? r.jobs.cluster.Args)!, /^[02468] [xy]$/);
    },
  },
  {
    name: 'hold = true submits held',
    text: `${EXE}hold = true\nqueue\n`,
    cluster: { JobStatus: '5', HoldReasonCode: '15', HoldReason: `"submitted on hold at user's request"` },
  },
  {
    name: 'policy commands and their attributes',
    text:
      `${EXE}on_exit_hold = ExitCode == 3\non_exit_hold_reason = "bad exit"\nperiodic_remove = JobStatus == 5\n` +
      `periodic_release = true\nleave_in_queue = false\njob_max_vacate_time = 30\nkill_sig = SIGUSR1\n` +
      `allowed_job_duration = 3600\ndeferral_time = 1700000000\nqueue\n`,
    cluster: {
      OnExitHold: 'ExitCode == 3',
      OnExitHoldReason: '"bad exit"',
      PeriodicRemove: 'JobStatus == 5',
      PeriodicRelease: 'true',
      PeriodicHold: 'false',
      LeaveJobInQueue: 'false',
      JobMaxVacateTime: '30',
      KillSig: '"SIGUSR1"',
      AllowedJobDuration: '3600',
      DeferralTime: '1700000000',
      OnExitRemove: 'true',
    },
  },
  {
    name: 'max_retries / success_exit_code fold into OnExitRemove',
    text: `${EXE}max_retries = 3\nsuccess_exit_code = 2\nretry_until = ExitCode == 7\nqueue\n`,
    cluster: {
      JobMaxRetries: '3',
      SuccessExitCode: '2',
      OnExitRemove: 'NumJobCompletions > JobMaxRetries || ExitCode is 2 || (ExitCode == 7)',
    },
  },
  {
    name: 'notification, notify_user, concurrency_limits, accounting_group, batch_name',
    text: `${EXE}notification = Error\nnotify_user = a@b.c\nconcurrency_limits = db:2\naccounting_group = group_physics\nbatch_name = run-7\nqueue\n`,
    cluster: {
      JobNotification: '3',
      NotifyUser: '"a@b.c"',
      ConcurrencyLimits: '"db:2"',
      AcctGroup: '"group_physics"',
      AcctGroupUser: '"alice"',
      AccountingGroup: '"group_physics.alice"',
      JobBatchName: '"run-7"',
    },
  },
  {
    name: 'kill_sig: a number becomes the signal name, a name is upper-cased',
    text: `${EXE}kill_sig = 2\nremove_kill_sig = sigusr1\nhold_kill_sig = SIGKILL\nqueue\n`,
    cluster: { KillSig: '"SIGINT"', RemoveKillSig: '"SIGUSR1"', HoldKillSig: '"SIGKILL"' },
  },
  {
    name: 'accounting_group_user without accounting_group is the accounting name; batch_name in single quotes',
    text: `${EXE}accounting_group_user = bob\nbatch_name = 'nightly run'\nqueue\n`,
    cluster: { AcctGroup: undefined, AcctGroupUser: '"bob"', AccountingGroup: '"bob"', JobBatchName: '"nightly run"' },
  },
  {
    name: 'concurrency_limits: lower-cased, sorted and joined by commas, as condor_submit stores them',
    text: `${EXE}concurrency_limits = Sw_B:2, DB  licence.x\nqueue\n`,
    cluster: { ConcurrencyLimits: '"db,licence.x,sw_b:2"' },
  },
  {
    name: 'file transfer commands',
    text: `${EXE}should_transfer_files = IF_NEEDED\ntransfer_input_files = a, b\ntransfer_output_files = out\ntransfer_executable = false\nqueue\n`,
    files: { a: '', b: '' },
    cluster: {
      ShouldTransferFiles: '"IF_NEEDED"',
      TransferInput: '"a,b"',
      TransferOutput: '"out"',
      TransferExecutable: 'false',
    },
  },
  {
    name: 'file lists are stored trimmed and joined by commas; "" is the empty list',
    text: `${EXE}transfer_input_files = data/in 1.txt ,  lib/ ,\ntransfer_output_files = ""\nqueue\n`,
    files: { 'data/in 1.txt': '', 'lib/.keep': '' },
    cluster: { TransferInput: '"data/in 1.txt,lib/"', TransferOutput: '""' },
  },
  {
    name: 'a $$([expr]) in a file list is one item, with the commas of its arguments and strings',
    text: `${EXE}transfer_input_files = a, $$([ifThenElse(Arch == "X86_64", "x,1.bin", "y.bin")]), b\nqueue\n`,
    files: { a: '', b: '' },
    cluster: { TransferInput: '"a,$$([ifThenElse(Arch == \\"X86_64\\", \\"x,1.bin\\", \\"y.bin\\")]),b"' },
  },
  {
    name: 'universe local and scheduler',
    text: `universe = local\n${EXE}queue\n`,
    cluster: { JobUniverse: '12', Requirements: 'true' },
  },
  {
    name: 'universe parallel: machine_count machines, several may share a host',
    text: `universe = parallel\nmachine_count = 3\nrequest_cpus = 2\n${EXE}queue\n`,
    cluster: { JobUniverse: '11', MachineCount: '3', GangPlacement: '"free"', RequestCpus: '2' },
  },
  {
    name: 'a misspelt command is warned about with its line',
    text: `${EXE}exectuable = prog.sh\nqueue\n`,
    warn: /^line 2: 'exectuable' is not a submit command; did you mean 'executable'\?$/,
  },
  {
    name: 'name=value macros from the command line; the file can change them',
    text: `${EXE}arguments = $(a) $(b)\nb = file\nqueue\n`,
    extra: { macros: { a: 'cli', b: 'cli' } },
    cluster: { Args: '"cli file"' },
  },
  {
    name: '-a lines go just before the queue statement and win over the file',
    text: `${EXE}output = file.out\nqueue\n`,
    extra: { append: ['output = appended.out', 'error = appended.err'] },
    cluster: { Out: '"appended.out"', Err: '"appended.err"' },
  },
  {
    name: 'a -a queue statement is used when the file has none',
    text: `${EXE}`,
    extra: { append: ['queue 3'] },
    procs: 3,
  },
  {
    name: '-a lines win over the file also when -a gives the queue statement (condor_submit -a X -a queue)',
    text: `${EXE}arguments = file\noutput = file.out\n`,
    extra: { append: ['arguments = appended', 'queue 2'] },
    procs: 2,
    cluster: { Args: '"appended"', Out: '"file.out"' },
  },
  {
    name: 'multi-line values with @=tag',
    text: `${EXE}arguments @=end\n  one\n  two\n@end\nqueue\n`,
    cluster: { Args: '"one two"' },
  },
  {
    name: 'CRLF line endings are accepted',
    text: `executable = prog.sh\r\narguments = a b\r\nqueue 2\r\n`,
    procs: 2,
    cluster: { Args: '"a b"' },
  },
  {
    name: 'queue with no trailing newline, and "queue 0" queues nothing from that statement',
    text: `${EXE}queue 0\nqueue 1`,
    procs: 1,
  },
];

describe('submit files – the seed examples', () => {
  let s: Scratch;
  before(() => {
    s = scratch();
  });
  after(() => s.cleanup());

  test('submit files – simple.job runs verbatim apart from the python path', () => {
    const text = readFileSync(join(FIXTURES, 'simple.job'), 'utf8').replace(
      '/usr/local/bin/python3.5',
      process.execPath,
    );
    const r = run(s.dir, text);
    assert.equal(r.jobs.procs.length, 1);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(splitArgs(str(r.jobs.cluster.Args), str(r.jobs.cluster.Arguments)), [
      '-c',
      "print('Hello, HTCondor!')",
    ]);
    assert.equal(r.jobs.cluster.Out, '"simple_stdout.txt"');
    assert.equal(str(r.jobs.cluster.UserLog), join(s.dir, 'simple.log'));
  });

  test('submit files – script.job: 100 procs, per-proc arguments and files, getenv plus environment', () => {
    s.write('test.py', readFileSync(join(FIXTURES, 'test.py'), 'utf8'), 0o755);
    const r = run(s.dir, readFileSync(join(FIXTURES, 'script.job'), 'utf8'), {}, 61);
    assert.equal(r.jobs.procs.length, 100);
    assert.deepEqual(r.warnings, []);
    const ad9 = r.ad(9);
    assert.deepEqual(splitArgs(undefined, str(ad9.Arguments)), ['--clusterid=61', '--processid=9']);
    assert.equal(ad9.Out, '"script_stdout.61.9.txt"');
    assert.equal(ad9.Err, '"script_stderr.61.9.txt"');
    const env = parseEnv(undefined, str(r.jobs.cluster.Environment));
    assert.equal(env.MYVAR1, 'foo');
    assert.equal(env.MYVAR2, 'bar');
    assert.equal(env.PATH, '/usr/bin:/bin');
    assert.equal(str(r.jobs.cluster.Cmd), join(s.dir, 'test.py'));
  });

  test('submit files – the DAG node file a.job', () => {
    const r = run(s.dir, readFileSync(join(FIXTURES, 'a.job'), 'utf8'));
    assert.deepEqual(splitArgs(undefined, str(r.jobs.cluster.Arguments)), ['I', 'am', 'job', 'A']);
  });
});

describe('submit files – table', () => {
  for (const c of cases) {
    test(`submit files – ${c.name}`, () => {
      const s = scratch();
      try {
        s.write('prog.sh', '#!/bin/sh\necho "$@"\n', 0o755);
        for (const [name, content] of Object.entries(c.files ?? {})) s.write(name, content);
        const r = run(s.dir, c.text, c.extra);
        if (c.procs !== undefined) assert.equal(r.jobs.procs.length, c.procs, 'number of procs');
        for (const [k, v] of Object.entries(c.cluster ?? {}))
          assert.equal(r.jobs.cluster[k], v, `cluster attribute ${k}`);
        if (c.warn)
          assert.ok(
            r.warnings.some((w) => c.warn!.test(w.message)),
            `expected a warning ${c.warn}, got ${JSON.stringify(r.warnings)}`,
          );
        if (c.noWarnings) assert.deepEqual(r.warnings, []);
        for (const p of r.jobs.procs) assert.ok(p.ProcId !== undefined, 'every proc has ProcId');
        c.check?.(r, s.dir);
      } finally {
        s.cleanup();
      }
    });
  }
});
