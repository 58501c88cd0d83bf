// The collector's Watch stream: every watcher gets each change (added, updated, removed) as the same bytes,
// encoded once, and decoding them gives the change.
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { AdStore } from '../../../daemons/collector/ad-store.js';
import { collectorService } from '../../../daemons/collector/service.js';
import type { Admission } from '../../../daemons/collector/admission.js';
import { proto } from '../../../lib/rpc/proto.js';
import { EncodedReply } from '../../../lib/rpc/server.js';

const q = (s: string) => JSON.stringify(s);
const decode = proto().Collector.service.Watch!.responseDeserialize;

/** A watcher as the handler sees it: what it was written, as the wire would carry it. */
function watcher() {
  const call = new EventEmitter() as EventEmitter & { write(m: unknown): boolean; sent: unknown[] };
  call.sent = [];
  call.write = (m: unknown) => {
    call.sent.push(m);
    return true;
  };
  const wire = () =>
    call.sent.map((m) =>
      m instanceof EncodedReply ? m.bytes : proto().Collector.service.Watch!.responseSerialize(m as object),
    );
  return { call, wire };
}

describe('collector watch', () => {
  test('collector watch – each change goes to every watcher as the same bytes, which decode to it', () => {
    const store = new AdStore();
    const svc = collectorService(store, pino({ level: 'silent' }), () => 60, {} as Admission);
    const a = watcher();
    const b = watcher();
    svc.stream!.Watch!({ types: ['Machine'] }, a.call as never, undefined as never);
    svc.stream!.Watch!({ types: [] }, b.call as never, undefined as never);
    const attrs = { MyType: q('Machine'), Name: q('slot1@exec1'), Machine: q('exec1') };
    store.update('Machine', 'slot1@exec1', 'i1', attrs, 60);
    store.update('Machine', 'slot1@exec1', 'i1', { ...attrs, JobId: q('1.0') }, 60);
    store.update('Scheduler', 'exec1', 'i1', { MyType: q('Scheduler'), Name: q('exec1'), Machine: q('exec1') }, 60);
    store.invalidate('Machine', ['slot1@exec1'], 'i1');

    const seen = (w: ReturnType<typeof watcher>) =>
      w.wire().map((bytes) => {
        const ch = decode(bytes) as {
          type: string;
          name: string;
          kind: string;
          ad?: { attrs: Record<string, string> };
        };
        return [ch.kind, ch.type, ch.name, ch.ad?.attrs?.JobId];
      });
    assert.deepEqual(seen(a), [
      ['hello', '', '', undefined],
      ['added', 'Machine', 'slot1@exec1', undefined],
      ['updated', 'Machine', 'slot1@exec1', q('1.0')],
      ['removed', 'Machine', 'slot1@exec1', undefined],
    ]);
    assert.deepEqual(
      seen(b).filter((c) => c[0] !== 'hello'),
      [
        ['added', 'Machine', 'slot1@exec1', undefined],
        ['updated', 'Machine', 'slot1@exec1', q('1.0')],
        ['added', 'Scheduler', 'exec1', undefined],
        ['removed', 'Machine', 'slot1@exec1', undefined],
      ],
    );
    // the Machine changes both got are one encoding, not one per watcher
    const shared = a.call.sent.slice(1);
    const theirs = b.call.sent.slice(1).filter((_, i) => i !== 2);
    assert.equal(shared.length, 3);
    shared.forEach((m, i) => assert.equal(m, theirs[i], `change ${i} is the same reply object`));
  });
});
