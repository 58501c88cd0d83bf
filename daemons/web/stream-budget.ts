// Event streams (/v1/events) each hold a socket and a small queue for as long as the client keeps them open.
// They are bounded for the daemon, and for each client (a user by their token's name, an anonymous reader by
// its address), so one client, an anonymous one above all, cannot take every stream the daemon will serve.
import { DschedError } from '../../lib/errors.js';

export class StreamBudget {
  private perClient = new Map<string, number>();
  private total = 0;

  constructor(
    readonly maxTotal: number,
    readonly maxPerClient: number,
  ) {}

  /** A stream for `client`: the function that gives it back (once, when the stream ends), or why not. */
  take(client: string): (() => void) | DschedError {
    if (this.total >= this.maxTotal)
      return new DschedError('TOO_MANY_CLIENTS', `${this.maxTotal} event streams are open already`);
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.maxPerClient)
      return new DschedError(
        'TOO_MANY_CLIENTS',
        `${this.maxPerClient} event streams of this client (${client}) are open already: close one first`,
      );
    this.perClient.set(client, mine + 1);
    this.total++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.total--;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
    };
  }
}
