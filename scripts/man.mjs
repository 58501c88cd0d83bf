#!/usr/bin/env node
// Man pages for every command, made from what the command itself prints for --help (so they cannot drift
// from it) and the one-line summary at the top of its source. `node scripts/man.mjs [DIR]` writes
// DIR/man1/<command>.1 (default: man/, git-ignored); read one with `man -l man/man1/dq.1`, or put the folder
// on MANPATH. Needs `npm run build` first: it runs dist/cli/*.js.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'man'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const commands = Object.keys(pkg.bin);

/** roff text: a backslash is \e, and a line must not start with a control character. */
const roff = (text) =>
  text
    .replace(/\\/g, '\\e')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');

function help(cmd, args = []) {
  const js = join(root, 'dist', 'cli', `${cmd}.js`);
  if (!existsSync(js)) throw new Error(`${js} is missing: run npm run build first`);
  return execFileSync(process.execPath, [js, ...args, '--help'], {
    encoding: 'utf8',
    env: { ...process.env, COLUMNS: '80' },
  }).trimEnd();
}

/** The summary after `// cmd:` on the source's second line, up to the first sentence's end. */
function summary(cmd) {
  const line = readFileSync(join(root, 'cli', `${cmd}.ts`), 'utf8').split('\n')[1] ?? '';
  const text = line.replace(/^\/\/\s*[\w-]+:\s*/, '');
  const end = text.search(/\.\s|\.$/);
  return (end >= 0 ? text.slice(0, end) : text).trim();
}

/** dsched's subcommands, from its own help's Commands: section. */
function subcommands(text) {
  return [...text.matchAll(/^ {2}dsched (\w+)/gm)].map((m) => m[1]).filter((c, i, all) => all.indexOf(c) === i);
}

const date = new Date().toISOString().slice(0, 10);
mkdirSync(join(out, 'man1'), { recursive: true });
for (const cmd of commands) {
  const text = help(cmd);
  const page = [
    `.TH ${cmd.toUpperCase()} 1 "${date}" "dsched ${pkg.version}" "dsched manual"`,
    '.SH NAME',
    `${cmd} \\- ${roff(summary(cmd))}`,
    '.SH DESCRIPTION',
    '.nf',
    roff(text),
    '.fi',
  ];
  if (cmd === 'dsched') {
    for (const sub of subcommands(text)) page.push(`.SS dsched ${sub}`, '.nf', roff(help(cmd, [sub])), '.fi');
  }
  page.push(
    '.SH SEE ALSO',
    commands
      .filter((c) => c !== cmd)
      .map((c) => `.BR ${c} (1)`)
      .join(',\n'),
    '',
  );
  writeFileSync(join(out, 'man1', `${cmd}.1`), page.join('\n'));
}
process.stdout.write(`man pages for ${commands.length} commands in ${join(out, 'man1')}\n`);
