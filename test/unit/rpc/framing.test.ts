// A reply framed once (lib/rpc/framing.ts) goes out through the rewritten grpc-js (scripts/grpc-framing.cjs)
// as that same buffer, and grpc-js's own client reads exactly the messages it would have read before: one
// frame shared by several streams at once, messages larger than a stream's flow-control window, and plain
// replies beside them. grpc-js is loaded here with its server-interceptors.js rewritten as the bundles have it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EncodedReply } from '../../../lib/rpc/server.js';
import { frame } from '../../../lib/rpc/framing.js';

const require = createRequire(import.meta.url);
const { FRAMING_FILE, frameWithoutCopy } = require('../../../scripts/grpc-framing.cjs') as {
  FRAMING_FILE: RegExp;
  frameWithoutCopy: (source: string) => string;
};

/** grpc-js with the rewritten file in require's cache before anything of grpc-js loads it. */
function rewrittenGrpc(): typeof import('@grpc/grpc-js') {
  const file = join(dirname(require.resolve('@grpc/grpc-js')), 'server-interceptors.js');
  assert.match(file, FRAMING_FILE);
  const M = Module as unknown as {
    new (id: string): { filename: string; paths: string[]; loaded: boolean; _compile(src: string, f: string): void };
    _nodeModulePaths(dir: string): string[];
  };
  const m = new M(file);
  m.filename = file;
  m.paths = M._nodeModulePaths(dirname(file));
  m._compile(frameWithoutCopy(readFileSync(file, 'utf8')), file);
  m.loaded = true;
  require.cache[file] = m as unknown as NodeJS.Module;
  return require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
}

const grpc = rewrittenGrpc();
const interceptors = require(join(dirname(require.resolve('@grpc/grpc-js')), 'server-interceptors.js')) as {
  BaseServerInterceptingCall: { prototype: { serializeMessage(this: unknown, v: unknown): Buffer } };
};

const asIs = (b: Buffer) => b;
const METHOD = {
  path: '/test.Framing/Stream',
  requestStream: false,
  responseStream: true,
  requestSerialize: asIs,
  requestDeserialize: asIs,
  // as lib/rpc/server.ts serializes: an encoded reply's message bytes, else the value (here a Buffer)
  responseSerialize: (v: unknown) => (v instanceof EncodedReply ? v.bytes : (v as Buffer)),
  responseDeserialize: asIs,
};

/** n bytes of a repeating pattern that differs from part to part. */
const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

describe('replies framed once', () => {
  // a small message, and one of 1 MiB, past the 64 KiB window a stream starts with
  const small = EncodedReply.framed(frame([bytes(10, 1), bytes(300, 2)]));
  const large = EncodedReply.framed(frame([bytes(1 << 20, 3)]));
  const plain = bytes(70_000, 4);
  const expected = [small.bytes, large.bytes, plain, Buffer.alloc(0)];
  let server: import('@grpc/grpc-js').Server;
  let port = 0;

  before(async () => {
    server = new grpc.Server();
    server.addService({ Stream: METHOD } as unknown as import('@grpc/grpc-js').ServiceDefinition, {
      Stream: (call: import('@grpc/grpc-js').ServerWritableStream<Buffer, unknown>) => {
        // every stream is given the same reply objects, so the same framed buffers
        call.write(small);
        call.write(large);
        call.write(plain);
        call.write(EncodedReply.framed(frame([])));
        call.end();
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
  });
  after(() => server.forceShutdown());

  test('a framed reply is written as its own buffer, anything else framed as grpc-js does', () => {
    const serialize = interceptors.BaseServerInterceptingCall.prototype.serializeMessage;
    const self = { handler: { serialize: METHOD.responseSerialize } };
    const framedBuf = serialize.call(self, small);
    assert.equal(serialize.call(self, small), framedBuf, 'the same buffer each time: never copied');
    // not compressed, 310 bytes
    assert.deepEqual(framedBuf.subarray(0, 5), Buffer.from([0, 0, 0, 0x01, 0x36]));
    assert.deepEqual(framedBuf.subarray(5), small.bytes);
    const copied = serialize.call(self, plain);
    assert.deepEqual(copied, Buffer.concat([Buffer.from([0, 0, 0x01, 0x11, 0x70]), plain]));
    assert.equal(serialize.call(self, large).length, 5 + (1 << 20));
  });

  test("grpc-js's client reads each stream's messages whole and in order, several streams at once", async () => {
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const read = () =>
        new Promise<Buffer[]>((resolve, reject) => {
          const got: Buffer[] = [];
          const s = client.makeServerStreamRequest(METHOD.path, asIs, asIs, Buffer.alloc(0));
          s.on('data', (m: Buffer) => got.push(m));
          s.on('error', reject);
          s.on('end', () => resolve(got));
        });
      const answers = await Promise.all(Array.from({ length: 5 }, read));
      for (const got of answers) assert.deepEqual(got, expected);
    } finally {
      client.close();
    }
  });

  test('the rewrite refuses a grpc-js whose framing it does not know', () => {
    const file = join(dirname(require.resolve('@grpc/grpc-js')), 'server-interceptors.js');
    const source = readFileSync(file, 'utf8');
    assert.throws(
      () => frameWithoutCopy(source.replace('messageBuffer.copy(output, 5);', 'output.set(messageBuffer, 5);')),
      /grpc-js upgraded/,
    );
    assert.throws(() => frameWithoutCopy(source.replace('serializeMessage(value) {', 'frame(value) {')), /grpc-js/);
  });
});
