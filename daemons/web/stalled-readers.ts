// Connections whose client stopped reading. An answer larger than the sockets' buffers waits, unsent, in this
// daemon's memory until the client reads it, and up to 15 answers pipelined behind it with it: a client that
// stops reading would keep them for good. Node's own socket timeout (server.timeout) is no bound one can state:
// it is put off by every write, and the first time it expires during a write the kernel took part of, it waits
// one period more (net.js, Socket.prototype._onTimeout), so a 10 s timeout closed such a connection after 20 s.
// Here a connection is closed once it has had bytes waiting to be sent, and none of them has left for the
// kernel, for `timeoutMs`: a client reading slowly takes some bytes now and then and stays, as does an event
// stream that is read (nothing waits there).
import type { Socket } from 'node:net';

interface Watched {
  /** bytes of whole writes done, and bytes still queued in libuv of the write under way, at the last check */
  done: number;
  queued: number;
  /** consecutive checks that found bytes waiting and none gone since the check before */
  quiet: number;
}

/** Checks per timeout: a stalled connection is closed between `timeoutMs` and 1.25 times that after it stalled. */
const CHECKS = 4;

export class StalledReaders {
  private readonly sockets = new Map<Socket, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onClose: (socket: Socket, unsent: number) => void,
  ) {}

  watch(socket: Socket): void {
    this.sockets.set(socket, { done: 0, queued: 0, quiet: 0 });
    socket.once('close', () => {
      this.sockets.delete(socket);
      if (!this.sockets.size) this.stop();
    });
    this.timer ??= setInterval(() => this.check(), this.timeoutMs / CHECKS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Counts checks rather than time: a check runs in the timers phase of the event loop and the socket's writes
   * in its poll phase, between two checks, so a daemon that was itself too busy to write never blames its
   * client.
   */
  private check(): void {
    for (const [socket, w] of this.sockets) {
      const waiting = socket.writableLength;
      // bytesWritten counts what was handed to the socket, writableLength what of it is not written yet (the
      // write under way whole); the handle's writeQueueSize is what of the write under way the kernel has not
      // taken yet, the one measure of a client reading part of a large answer (Node's own timeout reads it too)
      const done = socket.bytesWritten - waiting;
      const queued = (socket as unknown as { _handle?: { writeQueueSize?: number } })._handle?.writeQueueSize ?? 0;
      w.quiet = waiting > 0 && done === w.done && queued === w.queued ? w.quiet + 1 : 0;
      w.done = done;
      w.queued = queued;
      if (w.quiet >= CHECKS) {
        this.sockets.delete(socket);
        this.onClose(socket, waiting);
        socket.destroy();
      }
    }
    if (!this.sockets.size) this.stop();
  }
}
