// The failures of work a daemon repeats on a timer, logged when they begin and when they end: a queue that
// cannot be written (disk full) fails every turn, and a line with a stack each second buried the log.
import { DschedError } from './errors.js';
import type { Logger } from './log.js';

export class RepeatedFailure {
  /** the failure being told of (its code, or an untyped error's message); undefined while the work succeeds */
  private failing: string | undefined;

  constructor(
    private readonly log: Logger,
    /** what the work is, as the log says it: `${what} failed`, `${what} works again` */
    private readonly what: string,
  ) {}

  /** The outcome of one turn of the work. */
  track(turn: Promise<unknown>): Promise<void> {
    return turn.then(
      () => this.succeeded(),
      (e: unknown) => this.failed(e),
    );
  }

  private failed(e: unknown): void {
    // a typed error says what is wrong and is logged without a stack once; an untyped one is a fault in
    // dsched itself, logged with its stack whenever its message changes
    const key = e instanceof DschedError ? e.code : `untyped: ${(e as Error)?.message}`;
    if (key === this.failing) return;
    this.failing = key;
    if (e instanceof DschedError) this.log.error({ code: e.code, err: e.message }, `${this.what} failed`);
    else this.log.error({ err: e }, `${this.what} failed`);
  }

  private succeeded(): void {
    if (this.failing === undefined) return;
    this.failing = undefined;
    this.log.info(`${this.what} works again`);
  }
}
