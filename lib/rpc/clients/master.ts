import { RpcClient, type TokenSource } from '../client.js';
import { proto } from '../proto.js';
import type { MasterStatus__Output } from '../generated/dsched/v1/MasterStatus.js';

export class MasterClient {
  readonly rpc: RpcClient;
  constructor(address: string, token: TokenSource) {
    this.rpc = new RpcClient(address, proto().Master, token, `master at ${address}`, 'POOL_NOT_RUNNING');
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
  close() {
    this.rpc.close();
  }
}
