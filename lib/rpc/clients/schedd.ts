import type * as grpc from '@grpc/grpc-js';
import { RpcClient, type CallOptions, type ClientCredentials } from '../client.js';
import { proto } from '../proto.js';
import type { ActRequest } from '../generated/dsched/v1/ActRequest.js';
import type { ActReply__Output } from '../generated/dsched/v1/ActReply.js';
import type { EditRequest } from '../generated/dsched/v1/EditRequest.js';
import type { BeginAuthReply__Output } from '../generated/dsched/v1/BeginAuthReply.js';
import type { FileChunk__Output } from '../generated/dsched/v1/FileChunk.js';
import type { FinishAuthReply__Output } from '../generated/dsched/v1/FinishAuthReply.js';
import type { IdleReply__Output } from '../generated/dsched/v1/IdleReply.js';
import type { JobChange__Output } from '../generated/dsched/v1/JobChange.js';
import type { JobEvent } from '../generated/dsched/v1/JobEvent.js';
import type { JobEventsReply__Output } from '../generated/dsched/v1/JobEventsReply.js';
import type { JobId } from '../generated/dsched/v1/JobId.js';
import type { JobQuery } from '../generated/dsched/v1/JobQuery.js';
import type { JobQueryPage__Output } from '../generated/dsched/v1/JobQueryPage.js';
import type { Match } from '../generated/dsched/v1/Match.js';
import type { NewClusterReply__Output } from '../generated/dsched/v1/NewClusterReply.js';
import type { SubmitReply__Output } from '../generated/dsched/v1/SubmitReply.js';
import type { WatchJobsRequest } from '../generated/dsched/v1/WatchJobsRequest.js';

/** Procs, and characters of their attributes, per message of a submission sent in pieces. */
const SUBMIT_PIECE_PROCS = 10_000;
const SUBMIT_PIECE_CHARS = 4 << 20;

export class ScheddClient {
  readonly rpc: RpcClient;
  /** `host`: the host the server must be (its certificate's CN), when the caller knows it. */
  constructor(address: string, creds: ClientCredentials, host?: string) {
    this.rpc = new RpcClient(
      address,
      proto().Schedd,
      creds,
      { role: 'schedd', host },
      `schedd at ${address}`,
      'SCHEDD_UNREACHABLE',
    );
  }
  /** The input files of the job starting on a claim; `expanded`: its transfer attributes with $$() filled in. */
  fetchInput(claim: string, id: { cluster: number; proc: number }, expanded: Record<string, string> = {}) {
    return this.rpc.iterate<FileChunk__Output>('FetchInput', { claim, id, expanded });
  }
  beginAuth(user: string) {
    return this.rpc.unary<BeginAuthReply__Output>('BeginAuth', { user }, { deadlineMs: 10_000 });
  }
  finishAuth(nonce: string) {
    return this.rpc.unary<FinishAuthReply__Output>('FinishAuth', { nonce }, { deadlineMs: 10_000 });
  }
  newCluster() {
    return this.rpc.unary<NewClusterReply__Output>('NewCluster', {});
  }
  /** A submission: its procs, or how many procs with nothing but their ProcId (0, 1, …) of their own. */
  submit(cluster: number, clusterAttrs: Record<string, string>, procs: Array<Record<string, string>> | number) {
    // procs that differ in their ProcId alone go as a count
    const plain =
      typeof procs === 'number' || procs.every((p, i) => p.ProcId === String(i) && Object.keys(p).length === 1);
    // many procs of their own go in pieces: one message of them could pass what the schedd decodes at once
    if (!plain && typeof procs !== 'number' && procs.length > SUBMIT_PIECE_PROCS)
      return this.submitPieces(cluster, clusterAttrs, procs.length, procs);
    return this.rpc.unary<SubmitReply__Output>(
      'Submit',
      typeof procs === 'number' || plain
        ? { cluster, cluster_attrs: clusterAttrs, count: typeof procs === 'number' ? procs : procs.length }
        : { cluster, cluster_attrs: clusterAttrs, procs: procs.map((attrs) => ({ attrs })) },
      { deadlineMs: 300_000 },
    );
  }
  /**
   * A submission of `total` procs sent in pieces as `procs` makes them (SubmitPieces): the submitter holds a
   * few pieces at a time, whatever the total. Queued whole once all have arrived, or not at all.
   */
  submitPieces(
    cluster: number,
    clusterAttrs: Record<string, string>,
    total: number,
    procs: Iterable<Record<string, string>>,
  ) {
    function* messages() {
      let piece: Array<{ attrs: Record<string, string> }> = [];
      let chars = 0;
      let first = true;
      const message = () => {
        const m = first ? { cluster, cluster_attrs: clusterAttrs, total, procs: piece } : { procs: piece };
        first = false;
        piece = [];
        chars = 0;
        return m;
      };
      for (const attrs of procs) {
        piece.push({ attrs });
        for (const k in attrs) chars += k.length + attrs[k]!.length;
        if (piece.length >= SUBMIT_PIECE_PROCS || chars >= SUBMIT_PIECE_CHARS) yield message();
      }
      if (piece.length || first) yield message();
    }
    return this.rpc.upload<SubmitReply__Output>('SubmitPieces', messages(), { deadlineMs: 300_000 });
  }
  /** A job query as the schedd answers it, a page at a time; the last page carries the counts. */
  queryPages(q: JobQuery): AsyncGenerator<JobQueryPage__Output> {
    return this.rpc.iterate<JobQueryPage__Output>('QueryJobs', q);
  }
  /** dq -autocluster: the autoclusters of the jobs a query selects, as ads, a page at a time. */
  autoclusterPages(q: JobQuery): AsyncGenerator<JobQueryPage__Output> {
    return this.rpc.iterate<JobQueryPage__Output>('QueryAutoclusters', q);
  }
  /** Every ad of a job query, gathered (for callers that need them all at once). */
  async query(q: JobQuery, _opts?: CallOptions): Promise<Array<Record<string, string>>> {
    const out: Array<Record<string, string>> = [];
    for await (const page of this.queryPages(q)) for (const a of page.ads) out.push(a.attrs);
    return out;
  }
  act(req: ActRequest) {
    return this.rpc.unary<ActReply__Output>('Act', req, { deadlineMs: 120_000 });
  }
  edit(req: EditRequest) {
    return this.rpc.unary<ActReply__Output>('Edit', req, { deadlineMs: 120_000 });
  }
  watchJobs(ids: JobId[]): grpc.ClientReadableStream<JobChange__Output> {
    return this.rpc.stream<JobChange__Output>('WatchJobs', { ids });
  }
  /** The job-change stream (see WatchJobsRequest); `rpc.streamError` types its errors. */
  jobChanges(req: WatchJobsRequest): grpc.ClientReadableStream<JobChange__Output> {
    return this.rpc.stream<JobChange__Output>('WatchJobs', req);
  }
  idleAutoclusters(submitter: string, significant: string[] = []) {
    return this.rpc.unary<IdleReply__Output>('GetIdleAutoclusters', { submitter, significant }, { deadlineMs: 30_000 });
  }
  matched(matches: Match[], reserved: string[] = [], reservedStart = 0) {
    return this.rpc.unary<object>(
      'Matched',
      { matches, reserved, reserved_start: reservedStart },
      { deadlineMs: 30_000 },
    );
  }
  jobEvents(events: JobEvent[]) {
    return this.rpc.unary<JobEventsReply__Output>('JobEvents', { events }, { deadlineMs: 30_000 });
  }
  close() {
    this.rpc.close();
  }
}
