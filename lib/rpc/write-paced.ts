// Writing to a server stream at the reader's pace: a slow client must not make a daemon buffer what it
// sends (a queue's worth of pages, a job's output).
import type * as grpc from '@grpc/grpc-js';

/** Write a message; when the stream's buffer is full, resolve once it drains (or the call ends). */
export function writePaced(call: grpc.ServerWritableStream<unknown, unknown>, msg: object): Promise<void> | void {
  if (call.write(msg) || call.cancelled) return;
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
}
