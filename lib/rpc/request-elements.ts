// What a request costs the daemon once decoded, counted from its bytes before they are decoded: protobufjs
// makes an object for each element of a repeated field or map (a job id, a proc, an attribute), about 40 times
// the few bytes the element takes on the wire, all in one turn. The length of a request bounds none of that.
import { DschedError } from '../errors.js';

/**
 * Elements any request may carry (every field met at its top level, and in each of its nested messages that
 * `nested` names), whatever MAX_JOBS_PER_SUBMISSION: a piece of a submission (10,000 procs with about a hundred
 * attributes each of their own), or about the million job ids SELECTION_REQUEST_BYTES carries. Decoded, that
 * many held the schedd about 200 MB.
 */
export const REQUEST_ELEMENTS = 1 << 20;

/** Beside a proc each, what a whole submission in one request carries: its cluster's attributes, its own fields. */
const CLUSTER_ELEMENTS = 1 << 16;

/**
 * The elements a request may carry where one submission may queue `maxProcs` procs (MAX_JOBS_PER_SUBMISSION):
 * REQUEST_ELEMENTS, or as many procs of nothing of their own as the limit allows with their cluster's
 * attributes, so that an admin who raises the limit can still submit that many in one request.
 */
export function requestElements(maxProcs: number): number {
  return Math.max(REQUEST_ELEMENTS, maxProcs + CLUSTER_ELEMENTS);
}

/**
 * Count the fields of a protobuf message: those at its top level, and for each length-delimited field whose
 * number is in `nested`, the fields of the message it holds (a SubmitRequest's procs, each an Ad of attributes).
 * Stops counting past `max`. Bytes that are no protobuf are left to the decoder to refuse.
 */
export function countElements(bytes: Uint8Array, nested: ReadonlySet<number>, max: number): number {
  let count = 0;
  let at = 0;
  /** The varint at `at`, read up to `to`; -1 when it runs past it. */
  const varint = (to: number): number => {
    let value = 0;
    let shift = 0;
    let b: number;
    do {
      if (at >= to) return -1;
      b = bytes[at++]!;
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80 && shift < 35);
    return value;
  };
  const scan = (to: number, inner: boolean) => {
    while (at < to && count <= max) {
      const tag = varint(to);
      if (tag < 0) return;
      count++;
      switch (tag % 8) {
        case 0:
          varint(to);
          break;
        case 1:
          at += 8;
          break;
        case 5:
          at += 4;
          break;
        case 2: {
          const length = varint(to);
          if (length < 0) return;
          const end = Math.min(to, at + length);
          if (!inner && nested.has(Math.floor(tag / 8))) scan(end, true);
          at = end;
          break;
        }
        default:
          return; // groups, or no protobuf: the decoder refuses it
      }
    }
  };
  scan(bytes.length, false);
  return count;
}

/**
 * Refuse a request (its protobuf bytes, without grpc's 5-byte frame) with more than `max` elements
 * (requestElements), before it is decoded. `advice` tells the user what to send instead.
 */
export function checkRequestElements(
  bytes: Uint8Array,
  nested: ReadonlySet<number>,
  advice: string,
  max = REQUEST_ELEMENTS,
): void {
  const n = countElements(bytes, nested, max);
  if (n > max)
    throw new DschedError(
      'INPUT_TOO_LARGE',
      `the request carries more than ${max} elements (procs, attributes, job ids); ${advice}`,
    );
}
