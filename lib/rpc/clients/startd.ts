import { RpcClient, type ClientCredentials } from '../client.js';
import { proto } from '../proto.js';
import type { ActivateClaimsReply__Output } from '../generated/dsched/v1/ActivateClaimsReply.js';
import type { ClaimReply__Output } from '../generated/dsched/v1/ClaimReply.js';
import type { ClaimRequest } from '../generated/dsched/v1/ClaimRequest.js';
import type { FileChunk__Output } from '../generated/dsched/v1/FileChunk.js';
import type { ClaimStatusReply__Output } from '../generated/dsched/v1/ClaimStatusReply.js';
import type { RenewReply__Output } from '../generated/dsched/v1/RenewReply.js';
import type { RankOutput__Output } from '../generated/dsched/v1/RankOutput.js';
import type { TailChunk__Output } from '../generated/dsched/v1/TailChunk.js';
import type { TailRequest } from '../generated/dsched/v1/TailRequest.js';

export class StartdClient {
  readonly rpc: RpcClient;
  /** `host`: the host the server must be (its certificate's CN), when the caller knows it. */
  constructor(address: string, creds: ClientCredentials, host?: string) {
    this.rpc = new RpcClient(
      address,
      proto().Startd,
      creds,
      { role: 'startd', host },
      `startd at ${address}`,
      'DAEMON_UNREACHABLE',
    );
  }
  requestClaim(req: ClaimRequest) {
    return this.rpc.unary<ClaimReply__Output>('RequestClaim', req, { deadlineMs: 30_000 });
  }
  activate(claim: string, job: Record<string, string>) {
    return this.rpc.unary<object>('ActivateClaim', { claim, job: { attrs: job } }, { deadlineMs: 30_000 });
  }
  /** Start a job on each of several claims: one error text per claim ('' = started). */
  activateMany(items: Array<{ claim: string; job: Record<string, string> }>) {
    return this.rpc.unary<ActivateClaimsReply__Output>(
      'ActivateClaims',
      { claims: items.map((i) => ({ claim: i.claim, job: { attrs: i.job } })) },
      { deadlineMs: 30_000 },
    );
  }
  deactivate(claim: string, fast: boolean, reason: string) {
    return this.rpc.unary<object>('DeactivateClaim', { claim, fast, reason }, { deadlineMs: 30_000 });
  }
  release(claim: string) {
    return this.rpc.unary<object>('ReleaseClaim', { claim }, { deadlineMs: 10_000 });
  }
  renew(claims: string[], lease: number, scheddAddress: string) {
    return this.rpc.unary<RenewReply__Output>(
      'RenewLeases',
      { claims, lease, schedd_address: scheddAddress },
      { deadlineMs: 10_000 },
    );
  }
  claimStatus(claims: string[], scheddAddress: string) {
    return this.rpc.unary<ClaimStatusReply__Output>(
      'ClaimStatus',
      { claims, schedd_address: scheddAddress },
      { deadlineMs: 10_000 },
    );
  }
  /** A finished job's output files, from its sandbox. */
  fetchOutput(claim: string, id: { cluster: number; proc: number }) {
    return this.rpc.iterate<FileChunk__Output>('FetchOutput', { claim, id });
  }
  chirp(secret: string, op: string, name: string, value: string) {
    return this.rpc.unary<{ value: string }>('Chirp', { secret, op, name, value }, { deadlineMs: 10_000 });
  }
  /** Evict the job on a dynamic slot (kill_sig, grace, SIGKILL; fast: SIGKILL at once); its claim ends. */
  vacate(slot: string, reason: string, fast = false) {
    return this.rpc.unary<{ vacated: boolean }>('Vacate', { slot, reason, fast }, { deadlineMs: 10_000 });
  }
  /** dtail: a running job's stdout or stderr (see TailRequest); `rpc.streamError` types its errors. */
  tail(req: TailRequest) {
    return this.rpc.stream<TailChunk__Output>('TailJob', req);
  }
  /** dsched-rank: run a process on chunk `procno` of the caller's parallel job; one message, at its end. */
  runRank(key: string, procno: number, args: string[]) {
    return this.rpc.iterate<RankOutput__Output>('RunRank', { key, procno, args });
  }
  drain(cancel: boolean, reason: string) {
    return this.rpc.unary<{ running: number }>('Drain', { cancel, reason }, { deadlineMs: 10_000 });
  }
  close() {
    this.rpc.close();
  }
}
