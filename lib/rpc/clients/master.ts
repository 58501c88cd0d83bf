import { RpcClient, type ClientCredentials } from '../client.js';
import { proto } from '../proto.js';
import type { DaemonStatus__Output } from '../generated/dsched/v1/DaemonStatus.js';
import type { MasterStatus__Output } from '../generated/dsched/v1/MasterStatus.js';

export class MasterClient {
  readonly rpc: RpcClient;
  /** `host`: the host the server must be (its certificate's CN), when the caller knows it. */
  constructor(address: string, creds: ClientCredentials, host?: string) {
    this.rpc = new RpcClient(
      address,
      proto().Master,
      creds,
      { role: 'master', host },
      `master at ${address}`,
      'POOL_NOT_RUNNING',
    );
  }
  status() {
    return this.rpc.unary<MasterStatus__Output>('Status', {}, { deadlineMs: 5_000 });
  }
  shutdown() {
    return this.rpc.unary<object>('Shutdown', {}, { deadlineMs: 30_000 });
  }
  reconfig() {
    return this.rpc.unary<object>('Reconfig', {}, { deadlineMs: 10_000 });
  }
  /** Start one daemon again now (a failed one, or one in its restart backoff); its state before. */
  startDaemon(name: string) {
    return this.rpc.unary<DaemonStatus__Output>('StartDaemon', { name }, { deadlineMs: 10_000 });
  }
  close() {
    this.rpc.close();
  }
}
