process.env.TZ = 'UTC';
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { DschedError, SourceError } from '../../../lib/errors.js';
import {
  autoformat,
  evalToJS,
  formatOne,
  formatPrintf,
  parseAfQualifiers,
  splitAfQualifiers,
} from '../../../cli/shared/output/autoformat.js';
import { splitQualifiers } from '../../../cli/shared/yargs.js';
import { ad, job, T } from './fixtures.js';

const first = job(12, 0, { JobStatus: 2, RequestMemory: 2048, Owner: 'alice' });
first.setExprText('RemoteWallClockTime', '3725.0'); // a real, as the schedd stores it
const jobs = [first, job(12, 1, { JobStatus: 1, Owner: 'bob "the builder"' })];

describe('output/autoformat – splitting -af:qualifiers for yargs', () => {
  test('output/autoformat – -af:jh becomes --af-opts jh --af', () => {
    assert.deepEqual(splitAfQualifiers(['-af:jh', 'Owner', 'JobStatus', '-nobatch']), [
      '--af-opts',
      'jh',
      '--af',
      'Owner',
      'JobStatus',
      '-nobatch',
    ]);
    assert.deepEqual(splitAfQualifiers(['-autoformat:lrng', 'A']), ['--af-opts', 'lrng', '--af', 'A']);
    assert.deepEqual(splitAfQualifiers(['--af:,', 'A', 'B']), ['--af-opts', ',', '--af', 'A', 'B']);
  });
  test('output/autoformat – everything else passes through', () => {
    const argv = ['-af', 'Owner', '-format', '%d\\n', 'ClusterId', '12.0', '-constraint', 'JobStatus == 1'];
    assert.deepEqual(splitAfQualifiers(argv), argv);
  });
  test('output/autoformat – -long:FORM, -wide:N, -analyze:QUALS split only for the options a command names', () => {
    const argv = ['-long:json', '-wide:80', '-better-analyze:summary,reverse', '12'];
    assert.deepEqual(splitQualifiers(argv, ['long', 'wide', 'analyze']), [
      '--long-opts',
      'json',
      '--long',
      '--wide-opts',
      '80',
      '--wide',
      '--analyze-opts',
      'summary,reverse',
      '--analyze',
      '12',
    ]);
    assert.deepEqual(splitQualifiers(argv, ['af']), argv);
  });
  test('output/autoformat – qualifier letters', () => {
    assert.deepEqual(parseAfQualifiers('jlVrTY,tg'), {
      jobId: true,
      label: true,
      quoteStrings: true,
      raw: true,
      duration: true,
      timestamp: true,
      comma: true,
      tab: true,
      group: true,
    });
    assert.deepEqual(parseAfQualifiers(''), {});
  });
  test('output/autoformat – unknown letters and forbidden pairs are usage errors', () => {
    for (const bad of ['x', 'n,', 'lh']) {
      assert.throws(
        () => parseAfQualifiers(bad),
        (e: unknown) => e instanceof DschedError && e.code === 'USAGE' && e.exitCode === 2,
      );
    }
  });
});

describe('output/autoformat – -af', () => {
  test('output/autoformat – plain: values separated by a space, one line per ad, strings bare', () => {
    assert.equal(
      autoformat(jobs, ['Owner', 'JobStatus', 'RemoteWallClockTime', 'Missing']),
      'alice 2 3725.0 undefined\nbob "the builder" 1 undefined undefined\n',
    );
  });
  test('output/autoformat – arguments are expressions', () => {
    assert.equal(
      autoformat(jobs, ['RequestMemory * 2', 'JobStatus == 2 ? "run" : "other"']),
      '4096 run\nundefined other\n',
    );
  });
  test('output/autoformat – j puts the job id first', () => {
    assert.equal(autoformat(jobs, ['Owner'], parseAfQualifiers('j')), '12.0 alice\n12.1 bob "the builder"\n');
  });
  test('output/autoformat – l labels every field', () => {
    assert.equal(
      autoformat(jobs.slice(0, 1), ['Owner', 'JobStatus'], parseAfQualifiers('l')),
      'Owner = alice JobStatus = 2\n',
    );
    assert.equal(autoformat(jobs.slice(0, 1), ['Owner'], parseAfQualifiers('jl')), 'ID = 12.0 Owner = alice\n');
  });
  test('output/autoformat – h prints headings and pads columns to the widest value', () => {
    assert.equal(
      autoformat(jobs, ['Owner', 'JobStatus'], parseAfQualifiers('jh')),
      'ID   Owner             JobStatus\n12.0 alice             2\n12.1 bob "the builder" 1\n',
    );
    assert.equal(autoformat([], ['Owner'], parseAfQualifiers('h')), 'Owner\n');
  });
  test('output/autoformat – V quotes strings as ClassAd literals', () => {
    assert.equal(
      autoformat(jobs, ['Owner', 'JobStatus'], parseAfQualifiers('V')),
      '"alice" 2\n"bob \\"the builder\\"" 1\n',
    );
  });
  test('output/autoformat – r prints the unevaluated expression', () => {
    const a = ad(
      { RequestMemory: 2048 },
      { Requirements: 'TARGET.Memory >= RequestMemory', Double: 'RequestMemory*2' },
    );
    assert.equal(
      autoformat([a], ['Requirements', 'Double', 'RequestMemory + 1', 'Missing'], parseAfQualifiers('r')),
      'TARGET.Memory >= RequestMemory RequestMemory * 2 RequestMemory + 1 undefined\n',
    );
  });
  test('output/autoformat – T formats numbers as durations, Y as dates', () => {
    assert.equal(
      autoformat(jobs.slice(0, 1), ['RemoteWallClockTime', 'Owner'], parseAfQualifiers('T')),
      '0+01:02:05 alice\n',
    );
    assert.equal(autoformat(jobs.slice(0, 1), ['QDate'], parseAfQualifiers('Y')), '11/23 14:05\n');
    assert.equal(
      autoformat(jobs.slice(0, 1), ['QDate'], { ...parseAfQualifiers('Y'), time: { iso: true, utc: true } }),
      '2025-11-23T14:05:00Z\n',
    );
  });
  test('output/autoformat – separators: comma, tab, newline, group', () => {
    const one = jobs.slice(0, 1);
    assert.equal(autoformat(one, ['Owner', 'JobStatus', 'ProcId'], parseAfQualifiers(',')), 'alice, 2, 0\n');
    assert.equal(autoformat(one, ['Owner', 'JobStatus'], parseAfQualifiers('t')), 'alice\t2\n');
    assert.equal(autoformat(one, ['Owner', 'JobStatus'], parseAfQualifiers('n')), 'alice\n2\n');
    assert.equal(autoformat(jobs, ['Owner', 'JobStatus'], parseAfQualifiers('g')), 'alice2\n\nbob "the builder"1\n');
  });
  test('output/autoformat – lrng gives the -long look', () => {
    assert.equal(
      autoformat(jobs, ['Owner', 'JobStatus'], parseAfQualifiers('lrng')),
      'Owner = "alice"\nJobStatus = 2\n\nOwner = "bob \\"the builder\\""\nJobStatus = 1\n',
    );
  });
  test('output/autoformat – a syntax error in an argument is a ClassAd syntax error, before any output', () => {
    assert.throws(
      () => autoformat(jobs, ['Owner', 'JobStatus ==']),
      (e: unknown) => e instanceof SourceError && e.code === 'CLASSAD_SYNTAX',
    );
    assert.throws(
      () => autoformat(jobs, []),
      (e: unknown) => e instanceof DschedError && e.code === 'USAGE',
    );
  });
  test('output/autoformat – CJK values keep columns aligned under h', () => {
    const out = autoformat([ad({ N: '数据', X: 1 }), ad({ N: 'ab', X: 2 })], ['N', 'X'], parseAfQualifiers('h'));
    assert.equal(out, 'N    X\n数据 1\nab   2\n');
  });
  test('output/autoformat – no ads, no output', () => assert.equal(autoformat([], ['Owner']), ''));
});

describe('output/autoformat – -format', () => {
  const a = job(12, 3, {
    Owner: 'alice',
    RemoteWallClockTime: 3.5,
    Ratio: 0.123456,
    ImageSize: 255,
    Flag: true,
    QDate: T,
  });
  const cases: [string, string, string][] = [
    ['%d', 'ClusterId', '12'],
    ['%5d|', 'ProcId', '    3|'],
    ['%-5d|', 'ProcId', '3    |'],
    ['%05d', 'ProcId', '00003'],
    ['%+d', 'ProcId', '+3'],
    ['%d', 'RemoteWallClockTime', '3'],
    ['%d', 'Flag', '1'],
    ['%x', 'ImageSize', 'ff'],
    ['%X', 'ImageSize', 'FF'],
    ['%o', 'ImageSize', '377'],
    ['%#x', 'ImageSize', '0xff'],
    ['%f', 'Ratio', '0.123456'],
    ['%.2f', 'Ratio', '0.12'],
    ['%8.3f|', 'RemoteWallClockTime', '   3.500|'],
    ['%e', 'Ratio', '1.234560e-01'],
    ['%g', 'Ratio', '0.123456'],
    ['%g', 'ClusterId', '12'],
    ['%s', 'Owner', 'alice'],
    ['%-8s|', 'Owner', 'alice   |'],
    ['%.3s', 'Owner', 'ali'],
    ['%s', 'ClusterId', '12'],
    ['%v', 'Owner', 'alice'],
    ['%V', 'Owner', '"alice"'],
    ['%v', 'RemoteWallClockTime', '3.5'],
    ['%r', 'ClusterId + 1', 'ClusterId + 1'],
    ['%T', 'RemoteWallClockTime', '0+00:00:03'],
    ['%Y', 'QDate', '11/23 14:05'],
    ['owner=%s\\n', 'Owner', 'owner=alice\n'],
    ['100%% %d', 'ProcId', '100% 3'],
    ['just text\\t', 'Owner', 'just text\t'],
    ['%v', 'Missing', 'undefined'],
  ];
  for (const [fmt, expr, out] of cases) {
    test(`output/autoformat – -format ${JSON.stringify(fmt)} ${expr}`, () =>
      assert.equal(formatOne(a, { format: fmt, expr }), out));
  }
  test('output/autoformat – a -format with two conversions is refused: it prints one expression', () => {
    assert.throws(
      () => formatOne(a, { format: '%d.%d\\n', expr: 'ClusterId' }),
      /-format '%d\.%d\\n' has 2 conversions, but each -format prints one expression/,
    );
    assert.equal(formatOne(a, { format: '%d%%', expr: 'ProcId' }), '3%');
  });
  test('output/autoformat – a value that does not fit its conversion prints nothing for that item', () => {
    assert.equal(formatOne(a, { format: 'x=%d\\n', expr: 'Owner' }), '');
    assert.equal(formatOne(a, { format: 'x=%s\\n', expr: 'Missing' }), '');
    assert.equal(formatOne(a, { format: 'x=%f\\n', expr: 'Missing' }), '');
  });
  test('output/autoformat – several -format items over several ads (condor_q manual example)', () => {
    const ads = [job(27, 0), job(27, 1)];
    assert.equal(
      formatPrintf(ads, [
        { format: '%d.', expr: 'ClusterId' },
        { format: '%d\\n', expr: 'ProcId' },
      ]),
      '27.0\n27.1\n',
    );
  });
  test('output/autoformat – syntax errors surface before printing', () => {
    assert.throws(
      () => formatPrintf([a], [{ format: '%d', expr: '(' }]),
      (e: unknown) => e instanceof SourceError,
    );
  });
  test('output/autoformat – evalToJS gives the JS value of an expression', () => {
    assert.equal(evalToJS(a, 'ClusterId * 2'), 24);
    assert.equal(evalToJS(a, 'Missing'), null);
  });
});
