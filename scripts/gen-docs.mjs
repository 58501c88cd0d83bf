#!/usr/bin/env node
// Writes docs/config.md and docs/errors.md from the tables they describe (lib/config/params.ts,
// lib/errors.ts), so the documentation cannot drift from the code: `npm run docs`.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { PARAMS } = await import(join(root, 'lib', 'config', 'params.ts'));
const { ERROR_CODES } = await import(join(root, 'lib', 'errors.ts'));

const esc = (s) => String(s).replace(/\|/g, '\\|');
const cfg = [
  '# Configuration',
  '',
  'Generated from `lib/config/params.ts` by `node scripts/gen-docs.mjs`. Layers, lowest first: these defaults,',
  '`/etc/dsched/config` (or `$DSCHED_CONFIG`), `$DSCHED_HOME/config`, `DSCHED_<NAME>` environment variables.',
  "Files use HTCondor's syntax: `NAME = value`, `#` comments, `\\` continuation, `$(NAME)` expansion.",
  '`dsched config NAME -v` shows a value and where it came from.',
  'The daemons re-read the files when they change (and on `dsched reconfig`); an edit with a syntax error, or',
  'a number knob that is none, or a ClassAd knob (`START`) that does not parse, is not taken: each daemon keeps its values and logs the file and line, and',
  '`dsched reconfig` refuses it with the same words.',
  '',
  '| name | type | default | read by | applies | meaning |',
  '| --- | --- | --- | --- | --- | --- |',
  ...Object.entries(PARAMS).map(
    ([n, p]) =>
      `| \`${n}\` | ${p.type} | \`${esc(p.default) || ' '}\` | ${p.daemons.join(', ')} | ${p.reload} | ${esc(p.description)} |`,
  ),
  '',
].join('\n');
writeFileSync(join(root, 'docs', 'config.md'), cfg);

const GRPC = Object.fromEntries(
  Object.entries({
    3: 'INVALID_ARGUMENT',
    4: 'DEADLINE_EXCEEDED',
    5: 'NOT_FOUND',
    6: 'ALREADY_EXISTS',
    7: 'PERMISSION_DENIED',
    8: 'RESOURCE_EXHAUSTED',
    9: 'FAILED_PRECONDITION',
    12: 'UNIMPLEMENTED',
    13: 'INTERNAL',
    14: 'UNAVAILABLE',
    15: 'DATA_LOSS',
    16: 'UNAUTHENTICATED',
  }),
);
const errs = [
  '# Errors',
  '',
  'Generated from `lib/errors.ts` by `node scripts/gen-docs.mjs`. Every error a user sees carries one of these',
  'codes: the CLIs print `cmd: error[CODE]: message` (with `--> file:line:column` and the offending line for',
  'errors in a file or expression) and exit with the code below; daemons return the gRPC status with the code',
  'in the `dsched-error-code` trailer. `--debug` adds the stack.',
  '',
  '| code | exit | gRPC status | hint |',
  '| --- | --- | --- | --- |',
  ...Object.entries(ERROR_CODES).map(
    ([c, i]) => `| \`${c}\` | ${i.exit} | ${GRPC[i.status] ?? i.status} | ${esc(i.hint ?? '')} |`,
  ),
  '',
].join('\n');
writeFileSync(join(root, 'docs', 'errors.md'), errs);
console.log('wrote docs/config.md and docs/errors.md');
