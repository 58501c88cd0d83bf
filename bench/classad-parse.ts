// Parses per second of a typical job Requirements, and of a whole job ad in the long form.
// Run: node --import tsx bench/classad-parse.ts
import { parseClassAd, parseExpr } from '../grammar/classad/index.js';

const REQ =
  '(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (TARGET.Disk >= RequestDisk) && ' +
  '(TARGET.Memory >= RequestMemory) && (TARGET.Cpus >= RequestCpus) && (TARGET.HasFileTransfer)';
const AD =
  Array.from(
    { length: 40 },
    (_, i) => `Attr${i} = ${i % 3 === 0 ? `"value ${i}"` : i % 3 === 1 ? i * 1000 : `Attr${i - 1} + 1`}`,
  ).join('\n') + `\nRequirements = ${REQ}\n`;

function rate(name: string, n: number, f: (i: number) => unknown): void {
  for (let i = 0; i < Math.min(n, 2000); i++) f(i);
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) f(i);
  const u = process.cpuUsage(c0);
  const sec = (u.user + u.system) / 1e6;
  console.log(
    `${name.padEnd(52)} ${Math.round(n / sec)
      .toLocaleString('en-US')
      .padStart(10)}/s of CPU time`,
  );
}

// distinct texts defeat the parse cache (each job's Requirements differs in a constant)
rate('parseExpr(Requirements), distinct texts', 20_000, (i) => parseExpr(REQ.replace('X86_64', `X86_${i}`)));
rate('parseExpr(Requirements), the same text (cached)', 200_000, () => parseExpr(REQ));
rate('parseClassAd(job ad of 41 attributes, long form)', 2_000, () => parseClassAd(AD));
