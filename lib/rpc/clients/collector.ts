import type * as grpc from '@grpc/grpc-js';
import { RpcClient, type CallOptions, type ClientCredentials } from '../client.js';
import { proto } from '../proto.js';
import type { AdUpdate } from '../generated/dsched/v1/AdUpdate.js';
import type { AdvertiseReply__Output } from '../generated/dsched/v1/AdvertiseReply.js';
import type { CollectorQueryReply__Output } from '../generated/dsched/v1/CollectorQueryReply.js';
import type { AdChange__Output } from '../generated/dsched/v1/AdChange.js';
import type { CreateJoinTokenReply__Output } from '../generated/dsched/v1/CreateJoinTokenReply.js';
import type { JoinReply__Output } from '../generated/dsched/v1/JoinReply.js';
import type { RevokeReply__Output } from '../generated/dsched/v1/RevokeReply.js';

export class CollectorClient {
  readonly rpc: RpcClient;
  /** `host`: the host the server must be (its certificate's CN), when the caller knows it. */
  constructor(address: string, creds: ClientCredentials, host?: string) {
    this.rpc = new RpcClient(
      address,
      proto().Collector,
      creds,
      { role: 'collector', host },
      `collector at ${address}`,
      'COLLECTOR_UNREACHABLE',
    );
  }
  advertise(updates: AdUpdate[], opts?: CallOptions) {
    return this.rpc.unary<AdvertiseReply__Output>('Advertise', { updates }, { deadlineMs: 10_000, ...opts });
  }
  invalidate(type: string, names: string[], instance: string) {
    return this.rpc.unary<object>('Invalidate', { type, names, instance }, { deadlineMs: 5_000 });
  }
  async query(
    type: string,
    constraint = '',
    projection: string[] = [],
    opts?: CallOptions,
  ): Promise<Array<Record<string, string>>> {
    const r = await this.rpc.unary<CollectorQueryReply__Output>('Query', { type, constraint, projection }, opts);
    return r.ads.map((a) => a.attrs);
  }
  /** `renewals`: the watcher applies a renewal's texts (kind "renewed") over its copy of the ad. */
  watch(types: string[], opts: { renewals?: boolean } = {}): grpc.ClientReadableStream<AdChange__Output> {
    return this.rpc.stream<AdChange__Output>('Watch', { types, renewals: !!opts.renewals });
  }
  createJoinToken(ttl: number) {
    return this.rpc.unary<CreateJoinTokenReply__Output>('CreateJoinToken', { ttl }, { deadlineMs: 10_000 });
  }
  join(token: string, host: string, publicKey: string) {
    return this.rpc.unary<JoinReply__Output>('Join', { token, host, public_key: publicKey }, { deadlineMs: 30_000 });
  }
  revoke(host: string) {
    return this.rpc.unary<RevokeReply__Output>('Revoke', { host }, { deadlineMs: 10_000 });
  }
  close() {
    this.rpc.close();
  }
}
