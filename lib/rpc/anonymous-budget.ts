// How many bytes of requests from callers without a credential a daemon holds at once. Each such call reads
// at most ANONYMOUS_REQUEST_BYTES, but calls were not counted: N anonymous clients (or one client with N
// streams) each sending a large request made a daemon hold N times that. Every anonymous call is charged the
// length its message header declares, before the message body is read, against one budget for the daemon and
// one per client host (so one host cannot take all of it); a call past either is refused RESOURCE_EXHAUSTED
// with nothing of its body kept, and whatever a call was charged comes back when its stream closes, however
// it ends (answered, cancelled, deadline, reset, the connection lost). Callers with a credential are never
// counted.
import { isIPv4 } from 'node:net';
import { DschedError } from '../errors.js';

export interface AnonymousLimits {
  /** bytes all anonymous calls of this daemon may hold at once */
  total: number;
  /** bytes the anonymous calls from one host may hold at once */
  perHost: number;
  /** seconds a message may take to arrive once its header has: a call that sends its body slowly, or
   *  never, holds its share only that long */
  bodySeconds: number;
}

export const mib = (n: number): string => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;

/**
 * The host a budget is kept for: an IPv4 address (also one written as IPv4-mapped IPv6), or an IPv6
 * address's /64 network, since one IPv6 host has a whole /64 to choose its addresses from.
 */
export function budgetHost(address: string | undefined): string {
  const a = (address ?? 'unknown').replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return mapped[1]!;
  if (isIPv4(a) || !a.includes(':')) return a;
  // expand `::` so the first four groups are the /64
  const [head, tail = ''] = a.split('::') as [string, string?];
  const h = head ? head.split(':') : [];
  const t = a.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export class AnonymousBudget {
  private held = 0;
  private readonly byHost = new Map<string, number>();

  /** `limits` is read at each call, so a reconfig that changes it applies to the next call. */
  constructor(readonly limits: AnonymousLimits) {}

  /** Bytes held now, in all and by `host`. */
  inUse(host?: string): number {
    return host === undefined ? this.held : (this.byHost.get(host) ?? 0);
  }

  /** Charge `bytes` to `host`, or throw RESOURCE_EXHAUSTED (ANONYMOUS_LIMIT) with nothing charged. */
  take(host: string, bytes: number): void {
    const mine = this.byHost.get(host) ?? 0;
    if (mine + bytes > this.limits.perHost)
      throw new DschedError(
        'ANONYMOUS_LIMIT',
        `calls without a credential from ${host} already have ${mib(mine)} of requests being read, and this one ` +
          `(${mib(bytes)}) would pass the ${mib(this.limits.perHost)} one host may (ANONYMOUS_REQUEST_BUDGET_PER_HOST)`,
      );
    if (this.held + bytes > this.limits.total)
      throw new DschedError(
        'ANONYMOUS_LIMIT',
        `calls without a credential already have ${mib(this.held)} of requests being read, and this one ` +
          `(${mib(bytes)}) would pass this daemon's ${mib(this.limits.total)} (ANONYMOUS_REQUEST_BUDGET)`,
      );
    this.held += bytes;
    this.byHost.set(host, mine + bytes);
  }

  give(host: string, bytes: number): void {
    if (bytes <= 0) return;
    this.held = Math.max(0, this.held - bytes);
    const left = (this.byHost.get(host) ?? 0) - bytes;
    if (left > 0) this.byHost.set(host, left);
    else this.byHost.delete(host);
  }
}

/**
 * grpc-js's request framing (a flag byte, a 4-byte big-endian length, the message) read with a hook on each
 * message's declared length, before its body is read: `admit(length)` throws to refuse it. It stands in for
 * grpc-js's own decoder (write(chunk) → whole framed messages; a throw ends the call RESOURCE_EXHAUSTED).
 */
export class AdmittingDecoder {
  private header = Buffer.alloc(5);
  private headerHave = 0;
  private body: Buffer[] = [];
  private bodyLeft = 0;
  private refused = false;

  constructor(
    private readonly maxLength: number,
    /** throws to refuse a message of this length; undefined admits every one */
    public admit?: (length: number) => void,
    /** a refusal the decoder cannot throw through (a typed error): the call is ended by it */
    private readonly refuse?: (e: unknown) => void,
  ) {}

  /** The typed error for a message longer than the decoder takes, telling the user what to send instead. */
  oversize?: (length: number, max: number) => unknown;

  /** Told when a message admitted has arrived whole. */
  complete?: () => void;

  /** Looks at a whole message, framed, before it is decoded: throws to refuse it (what it would cost decoded). */
  inspect?: (message: Buffer) => void;

  /** Nothing more of this call is kept: the refusal ends it (thrown, or told to `refuse`). */
  private refusing(e: unknown): Buffer[] {
    this.refused = true;
    if (!this.refuse) throw e;
    this.refuse(e);
    return [];
  }

  write(data: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < data.length && !this.refused) {
      if (this.headerHave < 5) {
        const n = Math.min(5 - this.headerHave, data.length - at);
        data.copy(this.header, this.headerHave, at, at + n);
        this.headerHave += n;
        at += n;
        if (this.headerHave < 5) break;
        const length = this.header.readUInt32BE(1);
        if (this.maxLength !== -1 && length > this.maxLength) {
          if (!this.oversize) throw new Error(`Received message larger than max (${length} vs ${this.maxLength})`);
          return this.refusing(this.oversize(length, this.maxLength));
        }
        try {
          this.admit?.(length);
        } catch (e) {
          return this.refusing(e);
        }
        this.bodyLeft = length;
        this.body = [];
      }
      const n = Math.min(this.bodyLeft, data.length - at);
      if (n > 0) this.body.push(data.subarray(at, at + n));
      this.bodyLeft -= n;
      at += n;
      if (this.bodyLeft === 0) {
        const message = Buffer.concat([this.header, ...this.body]);
        try {
          this.inspect?.(message);
        } catch (e) {
          return this.refusing(e);
        }
        out.push(message);
        this.complete?.();
        this.header = Buffer.alloc(5);
        this.headerHave = 0;
        this.body = [];
      }
    }
    return out;
  }
}
