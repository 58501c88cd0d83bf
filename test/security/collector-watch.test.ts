// Collector.Watch is open to any user of the pool (READ). A user whose Watch stream reads nothing made the
// collector keep every ad change of the pool for it, without bound, until the collector ran out of memory for
// everyone. Now a reader more than 64 MB behind the changes is cut off with WATCHER_TOO_SLOW, and a reader that
// keeps up is told every change. (The service is driven directly: a transport that never takes a message.)
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { AdStore } from '../../daemons/collector/ad-store.js';
import type { Admission } from '../../daemons/collector/admission.js';
import { collectorService } from '../../daemons/collector/service.js';
import { DschedError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { CallContext } from '../../lib/rpc/server.js';

const quiet = { info() {}, warn() {}, error() {} } as unknown as Logger;
const nobody: CallContext = {
  identity: { kind: 'user', name: 'nobody', admin: false },
  peer: 'test',
  cancelled: () => false,
};
// a machine ad with 1 MB of text: 70 changes of it are more than the bound
const big = (i: number) => ({ Machine: '"h"', Pad: `"${String(i).padEnd(1 << 20, 'x')}"` });

/** A stream whose reader takes messages (`reads`) or never does. */
function fakeCall(reads: boolean) {
  const call = new EventEmitter() as EventEmitter & { written: number; write(m: object, cb?: () => void): boolean };
  call.written = 0;
  call.write = (_m, cb) => {
    call.written++;
    if (reads) setImmediate(() => cb?.());
    return reads;
  };
  return call;
}

describe('security – collector watchers that read nothing', () => {
  test('security – a Watch reader that reads nothing is cut off past 64 MB; one that reads is told every change', async () => {
    const store = new AdStore();
    store.update('Machine', 'slot1@h', 'i1', big(0), 600);
    const service = collectorService(store, quiet, () => 600, {} as Admission);
    const watch = (call: ReturnType<typeof fakeCall>) =>
      service.stream!.Watch!(
        { types: ['Machine'] },
        call as unknown as grpc.ServerWritableStream<unknown, unknown>,
        nobody,
      ) as Promise<void> | undefined;
    const stalled = fakeCall(false);
    const reader = fakeCall(true);
    const stalledDone = watch(stalled);
    const readerDone = watch(reader);
    let outcome: unknown = 'still open';
    Promise.resolve(stalledDone).then(
      () => (outcome = 'ended'),
      (e: unknown) => (outcome = e),
    );
    for (let i = 1; i <= 70; i++) {
      store.update('Machine', 'slot1@h', 'i1', big(i), 600);
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(stalled.written < 72, `the collector stopped writing to the stalled reader (${stalled.written} written)`);
    assert.ok(outcome instanceof DschedError, `the stalled reader was cut off (${String(outcome)})`);
    assert.equal(outcome.code, 'WATCHER_TOO_SLOW');
    assert.equal(reader.written, 1 + 1 + 70, 'the reader got the current ad, the hello and every change');
    reader.emit('cancelled');
    await readerDone;
  });
});
