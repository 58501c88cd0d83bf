// The client side: one TLS channel per address (the server checked against the pool CA and the role the
// caller expects), a deadline on every call, a user's token as call metadata (daemons send none: their
// certificate speaks for them), and failures rebuilt as typed DschedErrors.
import * as grpc from '@grpc/grpc-js';
import type { ErrorCode } from '../errors.js';
import { CHANNEL_OPTIONS } from './channel-options.js';
import { fromServiceError } from './status.js';
import { channelCredentials, type ClientCredentials, type Expect } from './tls.js';

export type { TokenSource, ClientCredentials } from './tls.js';

export interface CallOptions {
  deadlineMs?: number;
  /** Wait for the server to come up instead of failing fast (used by daemons, never by CLIs). */
  waitForReady?: boolean;
}

/** The server refused who the caller is, or what it may do: a kept token is not sent again. */
const refusal = (err: grpc.ServiceError) =>
  err.code === grpc.status.UNAUTHENTICATED || err.code === grpc.status.PERMISSION_DENIED;

type ClientCtor = new (address: string, creds: grpc.ChannelCredentials, options?: object) => grpc.Client;

export class RpcClient {
  private client: grpc.Client;
  constructor(
    readonly address: string,
    ctor: ClientCtor,
    private creds: ClientCredentials,
    expect: Expect,
    private what: string,
    private unreachable: ErrorCode,
  ) {
    // the name the TLS layer checks is ours (checkServer), not the dialled address: no SNI with an IP literal
    this.client = new ctor(address, channelCredentials(creds, expect), {
      ...CHANNEL_OPTIONS,
      'grpc.ssl_target_name_override': `dsched-${expect.role}`,
    });
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    const t = this.creds.token?.();
    if (t) md.set('authorization', `Bearer ${t}`);
    return md;
  }

  unary<Res>(method: string, req: object, opts: CallOptions = {}): Promise<Res> {
    const deadline = new Date(Date.now() + (opts.deadlineMs ?? 30_000));
    const fn = (this.client as unknown as Record<string, (...args: unknown[]) => unknown>)[method];
    if (typeof fn !== 'function') throw new Error(`no RPC method ${method}`);
    return new Promise<Res>((resolve, reject) => {
      fn.call(
        this.client,
        req,
        this.metadata(),
        { deadline, waitForReady: opts.waitForReady ?? false },
        (err: grpc.ServiceError | null, res: Res) => {
          if (!err) return resolve(res);
          if (refusal(err)) this.creds.tokenRefused?.();
          reject(fromServiceError(err, this.what, this.unreachable));
        },
      );
    });
  }

  /**
   * A client stream answered once: `messages` are written as the server takes them (each made only when
   * the last one is on its way, so a long stream is never held whole). A failure of the source cancels the
   * call, which the server sees as such, and is thrown.
   */
  upload<Res>(
    method: string,
    messages: Iterable<object> | AsyncIterable<object>,
    opts: CallOptions = {},
  ): Promise<Res> {
    const deadline = new Date(Date.now() + (opts.deadlineMs ?? 30_000));
    const fn = (this.client as unknown as Record<string, (...args: unknown[]) => unknown>)[method];
    if (typeof fn !== 'function') throw new Error(`no RPC method ${method}`);
    let call!: grpc.ClientWritableStream<object>;
    const reply = new Promise<Res>((resolve, reject) => {
      call = fn.call(
        this.client,
        this.metadata(),
        { deadline, waitForReady: opts.waitForReady ?? false },
        (err: grpc.ServiceError | null, res: Res) =>
          err ? reject(fromServiceError(err, this.what, this.unreachable)) : resolve(res),
      ) as grpc.ClientWritableStream<object>;
    });
    // a reply before the end (the server refused) stops the writing
    let over = false;
    const ended = reply.then(
      () => void (over = true),
      () => void (over = true),
    );
    const send = async () => {
      try {
        for await (const m of messages) {
          if (over) break;
          if (!call.write(m)) await Promise.race([new Promise<void>((r) => call.once('drain', () => r())), ended]);
        }
        if (!over) call.end();
      } catch (e) {
        call.cancel();
        throw e;
      }
    };
    // the source's own error wins over the CANCELLED it causes
    return Promise.all([send(), reply.catch((e) => e as Error)]).then(([, r]) => {
      if (r instanceof Error) throw r;
      return r;
    });
  }

  stream<Res>(method: string, req: object): grpc.ClientReadableStream<Res> {
    const fn = (this.client as unknown as Record<string, (...args: unknown[]) => unknown>)[method];
    return fn.call(this.client, req, this.metadata()) as grpc.ClientReadableStream<Res>;
  }

  /** A server stream as an async iterable whose errors are typed. */
  async *iterate<Res>(method: string, req: object): AsyncGenerator<Res> {
    const s = this.stream<Res>(method, req);
    try {
      for await (const m of s) yield m as Res;
    } catch (e) {
      throw typeof (e as grpc.ServiceError).code === 'number' ? this.streamError(e as grpc.ServiceError) : e;
    } finally {
      s.cancel();
    }
  }

  /** Rebuild a stream error as a typed error. */
  streamError(err: grpc.ServiceError) {
    if (refusal(err)) this.creds.tokenRefused?.();
    return fromServiceError(err, this.what, this.unreachable);
  }

  close(): void {
    this.client.close();
  }
}
