// Delivers job events to schedds until each is acknowledged: a schedd that is restarting (even after
// kill -9) gets every exit it has not recorded, and an event it already recorded is harmless to resend.
import type { Logger } from '../../lib/log.js';
import { ScheddClient } from '../../lib/rpc/clients/schedd.js';
import type { ClientCredentials } from '../../lib/rpc/tls.js';
import type { JobEvent } from '../../lib/rpc/generated/dsched/v1/JobEvent.js';

export class EventReporter {
  private pending = new Map<string, Map<string, JobEvent>>(); // schedd address → seq → event
  private clients = new Map<string, ScheddClient>();
  private inflight = new Set<string>();
  private backoff = new Map<string, number>();
  private seq = 0;

  constructor(
    private log: Logger,
    private creds: ClientCredentials,
  ) {}

  private onAcked = new Map<string, () => void>();

  /** Queue an event; `acked` runs once the schedd has recorded it. */
  send(scheddAddress: string, ev: Omit<JobEvent, 'seq'>, acked?: () => void): void {
    const seq = `${process.pid}-${Date.now()}-${++this.seq}`;
    if (acked) this.onAcked.set(seq, acked);
    let m = this.pending.get(scheddAddress);
    if (!m) this.pending.set(scheddAddress, (m = new Map()));
    m.set(seq, { ...ev, seq });
    if (!this.inflight.has(scheddAddress)) setImmediate(() => void this.flush(scheddAddress));
  }

  /** Events not yet acknowledged for a claim (ClaimStatus reports them as "exited"). */
  hasPending(claim: string): boolean {
    for (const m of this.pending.values()) for (const e of m.values()) if (e.claim === claim) return true;
    return false;
  }

  client(addr: string): ScheddClient {
    let c = this.clients.get(addr);
    if (!c) this.clients.set(addr, (c = new ScheddClient(addr, this.creds)));
    return c;
  }

  private async flush(addr: string): Promise<void> {
    const m = this.pending.get(addr);
    if (!m || m.size === 0 || this.inflight.has(addr)) return;
    this.inflight.add(addr);
    const batch = [...m.values()].slice(0, 1000);
    try {
      const r = await this.client(addr).jobEvents(batch);
      for (const s of r.acked) {
        m.delete(s);
        const fn = this.onAcked.get(s);
        this.onAcked.delete(s);
        fn?.();
      }
      this.backoff.delete(addr);
    } catch (e) {
      const b = Math.min(5000, (this.backoff.get(addr) ?? 100) * 2);
      this.backoff.set(addr, b);
      this.log.warn({ schedd: addr, events: batch.length, retryMs: b, err: (e as Error).message }, 'could not deliver job events; will retry');
      this.inflight.delete(addr);
      setTimeout(() => void this.flush(addr), b).unref();
      return;
    }
    this.inflight.delete(addr);
    if (m.size) setImmediate(() => void this.flush(addr));
  }

  close() {
    for (const c of this.clients.values()) c.close();
  }
}
