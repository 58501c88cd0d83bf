// How many bytes of one user's requests a daemon reads at once. A call with a user token may send a request of
// up to 512 MB, and grpc-js reads it whole before the handler runs: one user opening calls in parallel (a
// connection carries up to 1000) made a daemon hold as many requests as they opened, until it ran out of memory
// and stopped serving everyone. Each message of a user's call is charged to that user, from the length its
// header declares, before its body is read, and given back once it has arrived (the handler then owns it and
// bounds what it keeps) or when the call ends however it ends; past the budget a call is refused
// RESOURCE_EXHAUSTED with nothing of its body kept. Only that user waits: each user has a budget of their own.
import { DschedError } from '../errors.js';

const mib = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;

export class UserRequestBudget {
  private readonly byUser = new Map<string, number>();

  /** `limit.bytes` is read at each call, so a reconfig that changes it applies to the next call. */
  constructor(readonly limit: { bytes: number }) {}

  /** Bytes `user`'s calls have being read now. */
  inUse(user: string): number {
    return this.byUser.get(user) ?? 0;
  }

  /** Charge `bytes` to `user`, or throw RESOURCE_EXHAUSTED (USER_REQUEST_LIMIT) with nothing charged. */
  take(user: string, bytes: number): void {
    const mine = this.inUse(user);
    if (mine + bytes > this.limit.bytes)
      throw new DschedError(
        'USER_REQUEST_LIMIT',
        `${user}'s calls already have ${mib(mine)} of requests being read, and this one (${mib(bytes)}) would ` +
          `pass the ${mib(this.limit.bytes)} one user may (USER_REQUEST_BUDGET)`,
      );
    this.byUser.set(user, mine + bytes);
  }

  give(user: string, bytes: number): void {
    if (bytes <= 0) return;
    const left = this.inUse(user) - bytes;
    if (left > 0) this.byUser.set(user, left);
    else this.byUser.delete(user);
  }
}
