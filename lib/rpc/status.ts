// Mapping between DschedError and gRPC status, in both directions.
import * as grpc from '@grpc/grpc-js';
import { DschedError, isErrorCode, type ErrorCode } from '../errors.js';

export const ERROR_CODE_KEY = 'dsched-error-code';
export const ERROR_HINT_KEY = 'dsched-error-hint';

export function toServiceError(err: unknown, daemon: string): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (err instanceof DschedError) {
    metadata.set(ERROR_CODE_KEY, err.code);
    if (err.hint) metadata.set(ERROR_HINT_KEY, err.hint);
    return { code: err.grpcStatus, details: capped(err.message), metadata };
  }
  if ((err as { name?: string })?.name === 'AbortError')
    return { code: grpc.status.CANCELLED, details: 'cancelled', metadata };
  return { code: grpc.status.INTERNAL, details: `internal error (see the ${daemon} log)`, metadata };
}

/**
 * An error's message as a trailer carries it: a message past the limits of HTTP/2 headers never reached the
 * caller, whose call then ended as if all was well (a 1 MiB attribute in an error's excerpt did that).
 */
const MAX_DETAILS = 8 * 1024;
function capped(message: string): string {
  return message.length <= MAX_DETAILS ? message : message.slice(0, MAX_DETAILS) + '…';
}

/** Rebuild a typed error from a failed call. `unreachable` names the code for a daemon that cannot be reached. */
export function fromServiceError(err: grpc.ServiceError, what: string, unreachable: ErrorCode): DschedError {
  const code = err.metadata?.get(ERROR_CODE_KEY)?.[0];
  const hint = err.metadata?.get(ERROR_HINT_KEY)?.[0];
  if (typeof code === 'string' && isErrorCode(code))
    return new DschedError(code, err.details || err.message, {
      hint: typeof hint === 'string' ? hint : undefined,
      cause: err,
    });
  switch (err.code) {
    case grpc.status.UNAVAILABLE:
      return new DschedError(unreachable, `cannot reach the ${what} (${err.details})`, {
        cause: err,
        details: connectionOf(err.details),
      });
    case grpc.status.DEADLINE_EXCEEDED:
      return new DschedError('TIMEOUT', `the ${what} did not answer in time`, { cause: err });
    case grpc.status.UNAUTHENTICATED:
      return new DschedError('UNAUTHENTICATED', err.details, { cause: err });
    case grpc.status.PERMISSION_DENIED:
      return new DschedError('PERMISSION_DENIED', err.details, { cause: err });
    default:
      return new DschedError('INTERNAL', `${what}: ${err.details || err.message}`, { cause: err });
  }
}

/**
 * Whether a call that found its daemon unreachable never had a connection (the request never left), and
 * whether the connection was refused (nobody listens at the address: a daemon gone, or restarted elsewhere,
 * rather than one slow to answer). grpc-js says so only in its text, read here and nowhere else.
 */
function connectionOf(text: string): { connection: 'refused' | 'never' } | undefined {
  if (/ECONNREFUSED/.test(text)) return { connection: 'refused' };
  return /No connection established/.test(text) ? { connection: 'never' } : undefined;
}

/** A failed call that never reached its daemon: see connectionOf. */
export function neverConnected(e: unknown): boolean {
  return e instanceof DschedError && e.details?.connection !== undefined;
}

/** A failed call whose connection was refused: nobody listens at the address. */
export function connectionRefused(e: unknown): boolean {
  return e instanceof DschedError && e.details?.connection === 'refused';
}
