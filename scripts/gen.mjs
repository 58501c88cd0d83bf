#!/usr/bin/env node
// Generates the code that is build output (kept out of git, see .gitignore):
//  - a peggy parser for each grammar/**/*.peggy into a sibling generated/ folder;
//    a first-lines comment `// @start-rules: A, B` names the allowed start rules.
//  - TypeScript types for proto/dsched/v1/*.proto and proto/grpc/health/v1 into lib/rpc/generated/, and their
//    JSON descriptor.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

// `npm install -g .` in a fresh clone builds before it has installed anything: say what to do
if (!existsSync(bin('peggy'))) {
  console.error(
    `gen: ${join(root, 'node_modules')} has no peggy: install the dependencies first (npm ci), then npm install -g . (or npm run build)`,
  );
  process.exit(1);
}

function walk(dir, out = []) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (e === 'generated' || e === 'node_modules') continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (e.endsWith('.peggy')) out.push(p);
  }
  return out;
}

for (const file of walk(join(root, 'grammar'))) {
  const head = readFileSync(file, 'utf8').split('\n').slice(0, 5).join('\n');
  const m = /@start-rules:\s*([\w ,]+)/.exec(head);
  const outDir = join(dirname(file), 'generated');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, basename(file, '.peggy') + '.js');
  const args = ['--format', 'es', '--dts', '-o', out];
  if (m)
    args.push(
      '--allowed-start-rules',
      m[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .join(','),
    );
  args.push(file);
  execFileSync(bin('peggy'), args, { stdio: 'inherit' });
}

const protoDir = join(root, 'proto', 'dsched', 'v1');
if (existsSync(protoDir)) {
  const protos = readdirSync(protoDir)
    .filter((f) => f.endsWith('.proto'))
    .map((f) => join('dsched', 'v1', f));
  // the standard health service every daemon serves
  protos.push(join('grpc', 'health', 'v1', 'health.proto'));
  if (protos.length) {
    const outDir = join(root, 'lib', 'rpc', 'generated');
    mkdirSync(outDir, { recursive: true });
    execFileSync(
      bin('proto-loader-gen-types'),
      [
        '--keepCase',
        '--longs',
        'Number',
        '--enums',
        'String',
        '--defaults',
        '--oneofs',
        '--grpcLib',
        '@grpc/grpc-js',
        '-I',
        join(root, 'proto'),
        '-O',
        outDir,
        ...protos,
      ],
      { stdio: 'inherit', cwd: root },
    );
    // The protos as protobufjs's JSON descriptor, which lib/rpc/proto.ts loads (bundled into the programs):
    // no .proto parsing at run time, and no proto/ folder needed beside an installed dist/.
    const protobuf = createRequire(createRequire(import.meta.url).resolve('@grpc/proto-loader'))('protobufjs');
    const protoRoot = new protobuf.Root();
    protoRoot.resolvePath = (_origin, target) => join(root, 'proto', target);
    protoRoot.loadSync(protos, { keepCase: true });
    writeFileSync(join(outDir, 'descriptor.json'), `${JSON.stringify(protoRoot.toJSON())}\n`);
    writeFileSync(join(outDir, 'services.json'), `${JSON.stringify(serviceDescriptors(protobuf, protoRoot))}\n`);
    // The generated files import without extensions, which only CommonJS resolution accepts;
    // they hold types only, so marking the folder CommonJS costs nothing at run time.
    writeFileSync(join(outDir, 'package.json'), '{ "type": "commonjs" }\n');
  }
}

/**
 * Each service with only the messages and enums its methods reach, keyed by the service's full name: a
 * program builds the services it uses from these (lib/rpc/proto.ts), so a command that talks to the schedd
 * does not build the reflection of every message of every daemon at each start. A reached type nested in
 * a message comes with the message that holds it.
 */
function serviceDescriptors(protobuf, protoRoot) {
  protoRoot.resolveAll();
  const out = {};
  const services = [];
  const walk = (ns) => {
    for (const n of ns.nestedArray) {
      if (n instanceof protobuf.Service) services.push(n);
      else if (n instanceof protobuf.Namespace && !(n instanceof protobuf.Type)) walk(n);
    }
  };
  walk(protoRoot);
  for (const s of services) {
    const reached = new Set();
    const reach = (t) => {
      if (!t || reached.has(t)) return;
      reached.add(t);
      if (t instanceof protobuf.Type) for (const f of t.fieldsArray) reach(f.resolvedType);
    };
    for (const m of s.methodsArray) {
      reach(m.resolvedRequestType);
      reach(m.resolvedResponseType);
    }
    // the outermost definition of each reached type, in the namespace (package) that holds it
    const tops = new Set([s]);
    for (let t of reached) {
      while (t.parent instanceof protobuf.Type) t = t.parent;
      tops.add(t);
    }
    const sub = new protobuf.Root();
    for (const t of tops) sub.define(t.parent.fullName.slice(1)).add(t.constructor.fromJSON(t.name, t.toJSON()));
    out[s.fullName.slice(1)] = sub.toJSON();
  }
  return out;
}
