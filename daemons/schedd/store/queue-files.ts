// What SQLite would open without a word though the queue lost committed transactions: a job_queue.db
// emptied to 0 bytes (SQLite takes it for a new, empty database) and a -wal cut short below what the
// queue had committed to it (SQLite keeps the frames up to the last whole commit and drops the rest). A
// torn tail, the frames of a transaction a crash interrupted before it was committed, is normal: SQLite
// drops it and nothing acknowledged is lost, so it is not refused. Formats: sqlite.org/fileformat.html
// (the WAL) and sqlite.org/walformat.html (the -shm's index header).
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { DschedError } from '../../../lib/errors.js';

const WAL_HEADER = 32;
const FRAME_HEADER = 24;
const SHM_HEADER = 48;
const SHM_VERSION = 3007000;

function readHead(file: string, bytes: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const b = Buffer.alloc(bytes);
    return b.subarray(0, readSync(fd, b, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}

/** SQLite's WAL checksum over `data` (pairs of 32-bit words), going on from `s`. */
function walChecksum(data: Buffer, bigEndian: boolean, s: [number, number]): [number, number] {
  let [s0, s1] = s;
  for (let i = 0; i + 8 <= data.length; i += 8) {
    const a = bigEndian ? data.readUInt32BE(i) : data.readUInt32LE(i);
    const b = bigEndian ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4);
    s0 = (s0 + a + s1) >>> 0;
    s1 = (s1 + b + s0) >>> 0;
  }
  return [s0, s1];
}

/** The WAL's salts and how many of its frames SQLite takes (up to its last whole commit); undefined: no WAL. */
export function walCommittedFrames(wal: string): { salts: Buffer; frames: number } | undefined {
  const head = readHead(wal, WAL_HEADER);
  if (!head || head.length < WAL_HEADER) return undefined;
  const magic = head.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return undefined;
  const bigEndian = (magic & 1) === 1;
  const pageSize = head.readUInt32BE(8);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  let sum = walChecksum(head.subarray(0, 24), bigEndian, [0, 0]);
  if (sum[0] !== head.readUInt32BE(24) || sum[1] !== head.readUInt32BE(28)) return undefined;
  const salts = head.subarray(16, 24);
  const size = statSync(wal).size;
  const frameSize = FRAME_HEADER + pageSize;
  const fd = openSync(wal, 'r');
  let frames = 0;
  try {
    const frame = Buffer.alloc(frameSize);
    for (let n = 1; WAL_HEADER + n * frameSize <= size; n++) {
      if (readSync(fd, frame, 0, frameSize, WAL_HEADER + (n - 1) * frameSize) !== frameSize) break;
      if (!frame.subarray(8, 16).equals(salts)) break;
      sum = walChecksum(frame.subarray(0, 8), bigEndian, sum);
      sum = walChecksum(frame.subarray(FRAME_HEADER), bigEndian, sum);
      if (sum[0] !== frame.readUInt32BE(16) || sum[1] !== frame.readUInt32BE(20)) break;
      if (frame.readUInt32BE(4) !== 0) frames = n; // a commit frame: the database's size after it
    }
  } finally {
    closeSync(fd);
  }
  return { salts, frames };
}

/** The frames of the WAL (with these salts) the last writer had committed, from the -shm's index header. */
function shmCommittedFrames(shm: string): { salts: Buffer; frames: number } | undefined {
  const head = readHead(shm, 2 * SHM_HEADER);
  if (!head || head.length < 2 * SHM_HEADER) return undefined;
  // two copies, equal when the header was written whole; native byte order (this host's)
  const [a, b] = [head.subarray(0, SHM_HEADER), head.subarray(SHM_HEADER)];
  if (!a.equals(b) || a[12] !== 1) return undefined;
  const le = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  const u32 = (at: number) => (le ? a.readUInt32LE(at) : a.readUInt32BE(at));
  if (u32(0) !== SHM_VERSION) return undefined;
  return { salts: a.subarray(32, 40), frames: u32(16) };
}

/**
 * Refuse (QUEUE_CORRUPT, naming the file) a queue that SQLite would open with committed transactions
 * silently gone. Call before SQLite opens it: its recovery rebuilds the -shm from the -wal.
 */
export function checkQueueFiles(file: string): void {
  if (!existsSync(file)) return;
  const wal = walCommittedFrames(`${file}-wal`);
  if (statSync(file).size === 0 && !wal?.frames)
    throw new DschedError(
      'QUEUE_CORRUPT',
      `${basename(file)} is empty (0 bytes) and its -wal holds no committed transaction: SQLite would start an empty queue in its place`,
    );
  const index = shmCommittedFrames(`${file}-shm`);
  if (!index || index.frames === 0) return;
  // only a -wal of the index's generation (its salts) can be judged by it: one begun anew since (or whose
  // header a crash tore while beginning anew, all before it checkpointed) says nothing of what was lost
  if (!wal || !wal.salts.equals(index.salts)) return;
  if (wal.frames < index.frames)
    throw new DschedError(
      'QUEUE_CORRUPT',
      `${basename(file)}-wal is cut short or damaged: it holds ${wal.frames} frames of committed transactions, and the queue had committed ${index.frames} to it (the rest would be lost)`,
    );
}
