// Replies framed once for every stream they go to. gRPC puts each message behind a 5-byte header (a
// compressed flag, 0 here, and the message's length, big-endian); grpc-js makes that frame by copying the
// message into a new buffer for each stream. A page of a shared answer goes to every reader of it, so it is
// framed when it is made, and the bundled grpc-js (scripts/grpc-framing.cjs) writes that same buffer to
// each stream. Run unbundled (tests under tsx), grpc-js frames the message bytes itself, as before.
import { Buffer } from 'node:buffer';

/** Bytes before a message in its gRPC frame. */
export const FRAME_HEADER = 5;

/** Where a reply keeps its framed bytes; the rewritten grpc-js looks for the same registered symbol. */
export const FRAMED: unique symbol = Symbol.for('dsched.grpc.framed');

/** `parts`, one message, framed: header then the parts, in one new buffer. */
export function frame(parts: Buffer[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = Buffer.allocUnsafeSlow(FRAME_HEADER + len);
  out[0] = 0;
  out.writeUInt32BE(len, 1);
  let at = FRAME_HEADER;
  for (const p of parts) at += p.copy(out, at);
  return out;
}
