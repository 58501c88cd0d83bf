// JobQueryPage read by hand (lib/rpc/query-page-decode.ts) gives exactly the objects the generic codec gives,
// for pages as the schedd writes them and for any page protobuf can encode.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import serviceDescriptors from '../../../lib/rpc/generated/services.json' with { type: 'json' };
import { decodeJobQueryPage } from '../../../lib/rpc/query-page-decode.js';
import { WirePage } from '../../../daemons/schedd/query-wire.js';

const root = protobuf.Root.fromJSON((serviceDescriptors as Record<string, protobuf.INamespace>)['dsched.v1.Schedd']!);
root.resolveAll();
const Page = root.lookupType('dsched.v1.JobQueryPage');
const generic = (b: Buffer) =>
  Page.toObject(Page.decode(b), { longs: Number, enums: String, defaults: true, oneofs: true });

const counts = fc.record(
  {
    total: fc.integer({ min: 0, max: 2 ** 40 }),
    completed: fc.integer({ min: 0, max: 1000 }),
    removed: fc.integer({ min: -5, max: 1000 }),
    idle: fc.constant(0),
    running: fc.maxSafeNat(),
    held: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
    suspended: fc.nat(),
  },
  { requiredKeys: [] },
);
const attrs = fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), { maxKeys: 6 });
const page = fc.record(
  {
    ads: fc.array(fc.record({ attrs }), { maxLength: 5 }),
    last: fc.boolean(),
    matched: counts,
    mine: counts,
    all: counts,
    text: fc.uint8Array({ maxLength: 40 }),
    completions: fc.array(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), { maxLength: 5 }),
    unreadable: fc.array(
      fc.record(
        {
          id: fc.record(
            { cluster: fc.maxSafeNat(), proc: fc.integer({ min: -1, max: 2 ** 31 }) },
            { requiredKeys: [] },
          ),
          name: fc.string(),
          code: fc.string(),
          error: fc.string({ unit: 'binary' }),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

describe('rpc – JobQueryPage decoded by hand', () => {
  test('query page – any encodable page decodes as the generic codec decodes it', () => {
    fc.assert(
      fc.property(page, (p) => {
        const b = Buffer.from(Page.encode(Page.fromObject(p)).finish());
        assert.deepEqual(decodeJobQueryPage(b), generic(b));
      }),
      // an attribute named __proto__ (found by this property once): an own property, not the prototype
      { numRuns: 500, examples: [[{ ads: [{ attrs: JSON.parse('{"__proto__":"x"}') as Record<string, string> }] }]] },
    );
  });

  test("query page – the schedd's pages (shared cluster entries, a proc's own after) decode the same", () => {
    const wire = new WirePage();
    const hidden = new Set(['env']);
    const shared = WirePage.entriesOf({ ClusterId: '12', Owner: '"alice"', Cmd: '"/bin/true"', Env: '"S=1"' }, hidden);
    for (let i = 0; i < 50; i++) wire.add(shared, { ProcId: String(i), Owner: i % 2 ? '"bob"' : '"alice"' }, hidden);
    const ads = wire.take();
    const tail = Buffer.from(Page.encode(Page.fromObject({ last: true, matched: { total: 50, held: 50 } })).finish());
    const b = Buffer.concat([ads, tail]);
    const d = decodeJobQueryPage(b);
    assert.deepEqual(d, generic(b));
    assert.deepEqual(d.ads[1]!.attrs, { ClusterId: '12', Owner: '"bob"', Cmd: '"/bin/true"', ProcId: '1' });
  });

  test('query page – a truncated page fails as the generic codec fails', () => {
    const b = Buffer.from(Page.encode(Page.fromObject({ ads: [{ attrs: { a: 'b' } }], last: true })).finish());
    for (let n = 1; n < b.length; n++) {
      const cut = b.subarray(0, n);
      let genericFailed = false;
      try {
        generic(cut);
      } catch {
        genericFailed = true;
      }
      assert.equal(
        (() => {
          try {
            decodeJobQueryPage(cut);
            return false;
          } catch {
            return true;
          }
        })(),
        genericFailed,
        `cut at ${n}`,
      );
    }
  });
});
