// Reading a user's file with a size bound. The schedd (root) reads DAG, INCLUDE, SPLICE, CONFIG and node
// submit files with their owner's rights; a device (/dev/zero), a FIFO or a huge file named there would
// otherwise block it or run it out of memory for every user of the pool.
import { closeSync, constants as fsc, fstatSync, openSync, readSync } from 'node:fs';
import { DschedError, type ErrorCode } from './errors.js';

/**
 * Read a regular file of at most maxBytes as UTF-8 text. The check is fstat on the opened descriptor (no race
 * between a check and the open), and the open does not block on a FIFO (O_NONBLOCK), so a FIFO is refused as not
 * a regular file rather than waited on. Synchronous, so that it can run inside asUser. `what` names the file in
 * the error ("the DAG file"); an errno error of the open itself is thrown as is.
 */
export function readBoundedFile(path: string, maxBytes: number, what: string, code: ErrorCode): string {
  return readBoundedBytes(path, maxBytes, what, code).toString('utf8');
}

/**
 * The same, its bytes as they are (a language's source checks they are UTF-8: grammar/source.ts). `own`: the
 * file must be the reader's own (its effective uid's), and is not read through a link: for a file whose
 * content is trusted because the reader's earlier run wrote it (a rescue DAG), in a folder others may write.
 */
export function readBoundedBytes(path: string, maxBytes: number, what: string, code: ErrorCode, own = false): Buffer {
  const fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY | (own ? fsc.O_NOFOLLOW : 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new DschedError(code, `${what} ${path} is not a regular file`);
    if (own && st.uid !== process.geteuid!())
      throw new DschedError(
        code,
        `${what} ${path} belongs to uid ${st.uid}, not to uid ${process.geteuid!()} who reads it`,
      );
    if (st.size > maxBytes) throw new DschedError(code, `${what} ${path} is larger than ${maxBytes} bytes`);
    // read at most one byte more than the bound: a file that grows after the fstat is still refused
    const buf = Buffer.alloc(st.size + 1);
    let got = 0;
    while (got < buf.length) {
      const k = readSync(fd, buf, got, buf.length - got, got);
      if (k === 0) break;
      got += k;
      if (got > maxBytes) throw new DschedError(code, `${what} ${path} is larger than ${maxBytes} bytes`);
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
