// grpc-js frames every message a server sends by copying it into a new buffer (5-byte header + message),
// once per stream: fifty readers of one shared answer (daemons/schedd/query-share.ts) made fifty copies of
// every page, and the schedd spent a third of its thread collecting them. The bundles (scripts/bundle.mjs)
// rewrite that one method so that a reply a daemon has already framed (lib/rpc/framing.ts) is written as
// it is: the same buffer to every stream. Anything else is framed as grpc-js does; compression (never on
// for replies), flow control and backpressure stay grpc-js's own.
'use strict';

/** The file of grpc-js that frames a server's messages. */
const FRAMING_FILE = /[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/]server-interceptors\.js$/;

/** The key lib/rpc/framing.ts puts a reply's framed bytes under (a registered symbol: same in both). */
const FRAMED_KEY = 'dsched.grpc.framed';

const METHOD =
  /(\n[ \t]*serializeMessage\(value\) \{\n)([ \t]*)(const messageBuffer = this\.handler\.serialize\(value\);)/;

/** The source of grpc-js's server-interceptors.js with the copy left out for framed replies; throws if
 *  the method is not where grpc-js 1.x had it, so an upgrade that moves it fails the build loudly. */
function frameWithoutCopy(source) {
  const m = METHOD.exec(source);
  if (!m || !/messageBuffer\.copy\(output, 5\);/.test(source))
    throw new Error(
      "scripts/grpc-framing.cjs: grpc-js's ServerInterceptingCall.serializeMessage is not as expected " +
        '(grpc-js upgraded?); check how it frames a message and update the rewrite',
    );
  const check =
    `const framed = value != null ? value[Symbol.for(${JSON.stringify(FRAMED_KEY)})] : undefined;\n` +
    `${m[2]}if (framed !== undefined) return framed;\n${m[2]}`;
  return source.slice(0, m.index) + m[1] + m[2] + check + m[3] + source.slice(m.index + m[0].length);
}

module.exports = { FRAMING_FILE, FRAMED_KEY, frameWithoutCopy };
