// Shared helpers for the schedd's unit tests: a Schedd on an in-memory queue with a throwaway spool.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../lib/log.js';
import type { JobQueue } from '../../../daemons/schedd/queue.js';
import { Schedd, type ScheddOptions } from '../../../daemons/schedd/schedd.js';
import type { ClientCredentials } from '../../../lib/rpc/tls.js';
import type { JobEvent__Output } from '../../../lib/rpc/generated/dsched/v1/JobEvent.js';

const spool = mkdtempSync(join(tmpdir(), 'dsched-unit-spool-'));
process.on('exit', () => rmSync(spool, { recursive: true, force: true }));

/** A startd's report that a job exited by itself with `code`, on `claim`. */
export function exitedEvent(job: { cluster: number; proc: number }, claim: string, seq: string, code = 0) {
  return {
    seq,
    claim,
    id: { cluster: job.cluster, proc: job.proc },
    type: 'exited',
    exit_code: code,
    exit_by_signal: false,
    exit_signal: 0,
    time: Math.floor(Date.now() / 1000),
  } as JobEvent__Output;
}

export function makeSchedd(queue: JobQueue, lease = 0, opts: Partial<ScheddOptions> = {}): Schedd {
  return new Schedd(queue, createLogger('schedd', undefined, 'silent'), {
    name: 'unit',
    address: '127.0.0.1:9',
    hostName: 'unit',
    lease: () => lease,
    isAdmin: () => false,
    maxProcs: () => 100,
    mailCommand: () => '',
    spool,
    findStartd: async () => [],
    creds: {} as ClientCredentials,
    ...opts,
  });
}
