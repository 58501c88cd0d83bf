import { RpcClient, type TokenSource } from '../client.js';
import { proto } from '../proto.js';
import type { PrioritiesReply__Output } from '../generated/dsched/v1/PrioritiesReply.js';

export class NegotiatorClient {
  readonly rpc: RpcClient;
  constructor(address: string, token: TokenSource) {
    this.rpc = new RpcClient(address, proto().Negotiator, token, `negotiator at ${address}`, 'DAEMON_UNREACHABLE');
  }
  reschedule() {
    return this.rpc.unary<object>('Reschedule', {}, { deadlineMs: 5_000 });
  }
  priorities() {
    return this.rpc.unary<PrioritiesReply__Output>('GetPriorities', {}, { deadlineMs: 10_000 });
  }
  setFactor(submitter: string, factor: number) {
    return this.rpc.unary<object>('SetFactor', { submitter, factor }, { deadlineMs: 10_000 });
  }
  close() {
    this.rpc.close();
  }
}
