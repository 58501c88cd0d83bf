// The Ad message written by hand (lib/rpc/ad-codec.ts) gives exactly the bytes of protobufjs's generated
// encoder, wherever an Ad sits (an advertisement, a watched change, a job activation), for any attributes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import serviceDescriptors from '../../../lib/rpc/generated/services.json' with { type: 'json' };
import { encodeAttrs } from '../../../lib/rpc/ad-codec.js';
import { proto } from '../../../lib/rpc/proto.js';

/** protobufjs's own encoder of a message type of a service's descriptors (no hand-written codec). */
function generic(service: string, type: string): (msg: object) => Buffer {
  const root = protobuf.Root.fromJSON((serviceDescriptors as Record<string, protobuf.INamespace>)[service]!);
  root.resolveAll();
  const t = root.lookupType(type);
  return (msg) => Buffer.from(t.encode(t.fromObject(msg)).finish());
}

const advertise = generic('dsched.v1.Collector', 'dsched.v1.AdvertiseRequest');
const change = generic('dsched.v1.Collector', 'dsched.v1.AdChange');
const activate = generic('dsched.v1.Startd', 'dsched.v1.ActivateClaimsRequest');
const collector = proto().Collector.service;
const startd = proto().Startd.service;

// (an attribute named __proto__ is the generic decoder's matter: the bytes are compared all the same)
const name = fc.string({ unit: 'binary', maxLength: 40 }).filter((k) => k !== '__proto__');
// short values are written by the codec's own loop, long ones by Buffer's: both kinds, in any script
const value = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary', minLength: 50, maxLength: 120 }));
const attrs = fc.dictionary(name, value, {
  maxKeys: 40,
});

describe('Ad codec', () => {
  test('Ad codec – the bytes of the generated encoder, and the same message read back', () => {
    fc.assert(
      fc.property(attrs, attrs, (a, b) => {
        const req = {
          updates: [
            { type: 'Machine', name: 'slot1@h', ad: { attrs: a }, lifetime: 15, instance: 'i' },
            { type: 'Machine', name: 'slot1_1@h', instance: 'i' },
            { type: 'Machine', name: 'slot1_2@h', ad: { attrs: b } },
          ],
        };
        const bytes = collector.Advertise.requestSerialize(req);
        assert.deepEqual(bytes, advertise(req));
        const back = collector.Advertise.requestDeserialize(bytes) as typeof req;
        assert.deepEqual({ ...back.updates[0]!.ad!.attrs }, { ...a });
        const ch = { type: 'Machine', name: 'slot1@h', kind: 'updated', ad: { attrs: b } };
        assert.deepEqual(collector.Watch.responseSerialize(ch), change(ch));
        const act = {
          claims: [
            { claim: 'c1', job: { attrs: a } },
            { claim: 'c2', job: { attrs: b } },
          ],
        };
        assert.deepEqual(startd.ActivateClaims.requestSerialize(act), activate(act));
      }),
    );
  });

  test('Ad codec – lengths past one byte of varint, values that are not strings, an empty ad', () => {
    const big = { Long: 'x'.repeat(20_000), Mid: 'é'.repeat(100), [`K${'k'.repeat(200)}`]: '' };
    for (const a of [big, {}, { Cpus: 4, Flag: true } as unknown as Record<string, string>]) {
      const req = { updates: [{ type: 'Machine', name: 'n', ad: { attrs: a } }] };
      assert.deepEqual(collector.Advertise.requestSerialize(req), advertise(req));
    }
    const many = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`Attr${i}`, `"${i}"`]));
    const ch = { type: 'Machine', name: 'n', kind: 'added', ad: { attrs: many } };
    assert.deepEqual(collector.Watch.responseSerialize(ch), change(ch));
  });

  test('Ad codec – a lone surrogate is written as Buffer writes it (U+FFFD), short or long', () => {
    for (const v of ['a\ud800b', '\udc00', 'x\ud83d', `${'y'.repeat(80)}\ud800`]) {
      const bytes = encodeAttrs({ K: v });
      const want = Buffer.from(v);
      assert.deepEqual(bytes.subarray(bytes.length - want.length), want);
      assert.equal(bytes[bytes.length - want.length - 1], want.length);
    }
  });

  test('Ad codec – an ad whose attrs is not a map is refused, as by the generated code', () => {
    assert.throws(
      () =>
        collector.Advertise.requestSerialize({
          updates: [{ ad: { attrs: 'Cpus = 1' as unknown as Record<string, string> } }],
        }),
      /attrs: object expected/,
    );
  });
});
