import { RpcClient, type ClientCredentials } from '../client.js';
import { proto } from '../proto.js';
import type { PrioritiesReply__Output } from '../generated/dsched/v1/PrioritiesReply.js';

export class NegotiatorClient {
  readonly rpc: RpcClient;
  /** `host`: the host the server must be (its certificate's CN), when the caller knows it. */
  constructor(address: string, creds: ClientCredentials, host?: string) {
    this.rpc = new RpcClient(
      address,
      proto().Negotiator,
      creds,
      { role: 'negotiator', host },
      `negotiator at ${address}`,
      'DAEMON_UNREACHABLE',
    );
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
