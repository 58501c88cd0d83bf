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

  test('collector watch – a renewal comes as its texts to a watcher that applies them, else as the whole ad', () => {
    const store = new AdStore();
    const svc = collectorService(store, pino({ level: 'silent' }), () => 60, {} as Admission);
    const [renewing, old1, old2] = [watcher(), watcher(), watcher()];
    svc.stream!.Watch!({ types: ['Machine'], renewals: true }, renewing.call as never, undefined as never);
    svc.stream!.Watch!({ types: ['Machine'], renewals: false }, old1.call as never, undefined as never);
    svc.stream!.Watch!({ types: [] }, old2.call as never, undefined as never);
    const attrs = { MyType: q('Machine'), Name: q('slot1_1@exec1'), Machine: q('exec1'), LoadAvg: '0.5' };
    store.update('Machine', 'slot1_1@exec1', 'i1', { ...attrs, MyCurrentTime: '100' }, 60, 'v1');
    assert.ok(store.renew('Machine', 'slot1_1@exec1', 'i1', 'v1', 60, { LoadAvg: '1.5' }));
    assert.ok(store.renew('Machine', 'slot1_1@exec1', 'i1', 'v1', 60, { LoadAvg: '1.5' }), 'no news');
    assert.ok(store.renew('Machine', 'slot1_1@exec1', 'i1', 'v1', 60, { LoadAvg: '2.5' }));

    type Change = { kind: string; ad?: { attrs: Record<string, string> } };
    const changes = (w: ReturnType<typeof watcher>) =>
      w
        .wire()
        .map((bytes) => decode(bytes) as Change)
        .filter((c) => c.kind !== 'hello');
    /** the watcher's copy of the ad after each change, as the negotiator and the web daemon keep it */
    const copies = (w: ReturnType<typeof watcher>) => {
      let ad: Record<string, string> = {};
      return changes(w).map((c) => (ad = c.kind === 'renewed' ? { ...ad, ...c.ad!.attrs } : c.ad!.attrs));
    };
    const now = store.stored('Machine', 'slot1_1@exec1');
    assert.deepEqual(
      changes(renewing).map((c) => [c.kind, c.ad?.attrs.LoadAvg, c.ad?.attrs.Name]),
      [
        ['added', '0.5', q('slot1_1@exec1')],
        ['renewed', '1.5', undefined],
        ['renewed', '2.5', undefined],
      ],
    );
    assert.deepEqual(
      changes(old1).map((c) => [c.kind, c.ad?.attrs.LoadAvg, c.ad?.attrs.Name]),
      [
        ['added', '0.5', q('slot1_1@exec1')],
        ['updated', '1.5', q('slot1_1@exec1')],
        ['updated', '2.5', q('slot1_1@exec1')],
      ],
    );
    // every watcher's copy is the ad as the collector holds it now
    for (const w of [renewing, old1, old2]) assert.deepEqual(copies(w).at(-1), now);
    // the older watchers' whole ads are one encoding
    old1.call.sent.slice(2).forEach((m, i) => assert.equal(m, old2.call.sent[i + 2], `renewal ${i}`));
  });
});
