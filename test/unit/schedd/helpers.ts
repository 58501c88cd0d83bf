// Shared helpers for the schedd's unit tests: a Schedd on an in-memory queue with a throwaway spool.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../lib/log.js';
import type { JobQueue } from '../../../daemons/schedd/queue.js';
import { Schedd } from '../../../daemons/schedd/schedd.js';
import type { ClientCredentials } from '../../../lib/rpc/tls.js';

const spool = mkdtempSync(join(tmpdir(), 'dsched-unit-spool-'));
process.on('exit', () => rmSync(spool, { recursive: true, force: true }));

export function makeSchedd(queue: JobQueue, lease = 0): Schedd {
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
  });
}
