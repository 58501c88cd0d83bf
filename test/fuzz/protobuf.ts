// Malformed protobuf bodies for a gRPC method, as fast-check arbitraries built from the method's message
// descriptor: plausible messages (right field numbers, hostile values), fields with the wrong wire type,
// unknown fields, huge declared lengths, deep nesting (sub-messages and groups), overlong varints, invalid
// UTF-8, truncation and byte flips of a valid encoding.
import fc from 'fast-check';

export interface FieldDesc {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}
export interface MessageDesc {
  name: string;
  field: FieldDesc[];
  nestedType: MessageDesc[];
  options?: { mapEntry?: boolean } | null;
}

// ------------------------------------------------------------------------------------------------ encoding

function varint(v: bigint): number[] {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return out;
}
const tag = (num: number, wt: number) => varint((BigInt(num) << 3n) | BigInt(wt));
const lenDelimited = (num: number, body: Uint8Array | number[]) => [
  ...tag(num, 2),
  ...varint(BigInt(body.length)),
  ...body,
];

// --------------------------------------------------------------------------------------------- generation

const HOSTILE_STRINGS = [
  '',
  'x',
  'alice',
  'root',
  'nobody',
  'user:root',
  'daemon:schedd',
  '../../../etc/passwd',
  '/etc/shadow',
  '/',
  '.',
  '..',
  '-',
  'TRUE',
  'true || false',
  'Owner == "root"',
  'JobStatus = 4',
  '[ Owner = "root" ]',
  'strcat(',
  '"',
  '\\',
  '\0',
  'a\nb',
  '1.0',
  '-1',
  'Machine',
  'Submitter',
  'Negotiator',
  'Scheduler',
  'Slot',
  'Schedd',
  'Collector',
  'slot1@host',
  '1.0',
  '4294967296.0',
  '$(ENV)',
  '%s%s%n',
  '__proto__',
  'constructor',
  'x'.repeat(70_000),
  '{'.repeat(5000),
  '('.repeat(300) + '1' + ')'.repeat(300),
];

/**
 * A constraint whose regular expression backtracks for ever in JS's RegExp: it stops whichever daemon
 * evaluates it (a known issue, being fixed by moving the ClassAd regexp functions to a linear-time engine).
 * `npm run fuzz` sends it; the CI slice leaves it out until that lands.
 */
export const REDOS_CONSTRAINT = 'regexp("(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!")';

const int64s = fc.oneof(
  fc.integer({ min: -3, max: 20 }).map(BigInt),
  fc.constantFrom(
    -1n,
    2n ** 31n - 1n,
    2n ** 31n,
    2n ** 32n,
    2n ** 53n + 1n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    2n ** 64n - 1n,
  ),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
);
let hostile = [...HOSTILE_STRINGS, REDOS_CONSTRAINT];
/** Leave out inputs of known, separately tracked issues (see REDOS_CONSTRAINT). Call before building bodies. */
export function skipKnownIssues(skip: boolean): void {
  hostile = skip ? [...HOSTILE_STRINGS] : [...HOSTILE_STRINGS, REDOS_CONSTRAINT];
}
const stringBytes = () =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...hostile).map((s) => [...Buffer.from(s)]) },
    { weight: 2, arbitrary: fc.string({ maxLength: 20 }).map((s) => [...Buffer.from(s)]) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }).map((b) => [...b]) }, // invalid UTF-8
    {
      weight: 1,
      arbitrary: fc.constantFrom([0xc3], [0xff, 0xfe], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]).map((b) => [...b]),
    },
  );

/** One field's encoding with a value of its declared type (or of no type: a random wire type). */
function fieldArb(f: FieldDesc, types: Map<string, MessageDesc>, depth: number): fc.Arbitrary<number[]> {
  const n = f.number;
  let value: fc.Arbitrary<number[]>;
  switch (f.type) {
    case 'TYPE_STRING':
      value = stringBytes().map((b) => lenDelimited(n, b));
      break;
    case 'TYPE_BYTES':
      value = fc.uint8Array({ maxLength: 64 }).map((b) => lenDelimited(n, b));
      break;
    case 'TYPE_BOOL':
    case 'TYPE_ENUM':
    case 'TYPE_INT32':
    case 'TYPE_INT64':
    case 'TYPE_UINT32':
    case 'TYPE_UINT64':
    case 'TYPE_SINT32':
    case 'TYPE_SINT64':
      value = int64s.map((v) => [...tag(n, 0), ...varint(v)]);
      break;
    case 'TYPE_DOUBLE':
    case 'TYPE_FIXED64':
    case 'TYPE_SFIXED64':
      value = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 1e308)).map((d) => {
        const b = Buffer.alloc(8);
        b.writeDoubleLE(d);
        return [...tag(n, 1), ...b];
      });
      break;
    case 'TYPE_FLOAT':
    case 'TYPE_FIXED32':
    case 'TYPE_SFIXED32':
      value = fc.integer().map((i) => {
        const b = Buffer.alloc(4);
        b.writeInt32LE(i);
        return [...tag(n, 5), ...b];
      });
      break;
    case 'TYPE_MESSAGE': {
      const sub = types.get(f.typeName);
      value = (depth > 0 && sub ? messageArb(sub, types, depth - 1) : fc.constant([] as number[])).map((b) =>
        lenDelimited(n, b),
      );
      break;
    }
    default:
      value = fc.constant([]);
  }
  // packed repeated numbers: one length-delimited run
  if (
    f.label === 'LABEL_REPEATED' &&
    f.type !== 'TYPE_STRING' &&
    f.type !== 'TYPE_BYTES' &&
    f.type !== 'TYPE_MESSAGE'
  ) {
    value = fc.oneof(
      value,
      fc.array(int64s, { maxLength: 8 }).map((vs) =>
        lenDelimited(
          n,
          vs.flatMap((v) => varint(v)),
        ),
      ),
    );
  }
  return fc.oneof({ weight: 8, arbitrary: value }, { weight: 1, arbitrary: wrongType(n) });
}

/** A field number with a payload of some other wire type (or of an invalid one). */
function wrongType(n: number): fc.Arbitrary<number[]> {
  return fc.oneof(
    int64s.map((v) => [...tag(n, 0), ...varint(v)]),
    fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => [...tag(n, 1), ...b]),
    fc.uint8Array({ maxLength: 16 }).map((b) => lenDelimited(n, b)),
    fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => [...tag(n, 5), ...b]),
    fc.constant(0).map(() => [...tag(n, 3), ...tag(n, 4)]), // an empty group
    fc.constantFrom(6, 7).map((wt) => [...tag(n, wt), 0]), // wire types that do not exist
  );
}

export function messageArb(m: MessageDesc, types: Map<string, MessageDesc>, depth = 3): fc.Arbitrary<number[]> {
  const fields = m.field.map((f) => {
    const one = fieldArb(f, types, depth);
    const count = f.label === 'LABEL_REPEATED' ? fc.integer({ min: 0, max: 4 }) : fc.integer({ min: 0, max: 1 });
    return fc.tuple(count, fc.array(one, { minLength: 4, maxLength: 4 })).map(([c, xs]) => xs.slice(0, c).flat());
  });
  const unknown = fc.array(
    fc.tuple(fc.constantFrom(15, 16, 100, 2 ** 29 - 1, 19000), fc.nat()).chain(([n]) => wrongType(n)),
    { maxLength: 2 },
  );
  return fc.tuple(fc.tuple(...fields), unknown, fc.boolean()).map(([fs, u, shuffle]) => {
    const parts = [...fs, ...u];
    if (shuffle) parts.reverse();
    return parts.flat();
  });
}

/** Bodies that break the framing rather than the values. */
const structural = fc.oneof(
  fc.uint8Array({ maxLength: 256 }).map((b) => [...b]),
  fc.integer({ min: 1, max: 15 }).chain((n) =>
    fc
      .constantFrom(
        [...tag(n, 2), ...varint(2n ** 31n - 1n), 1, 2, 3], // a length far past the end
        [...tag(n, 2), ...varint(2n ** 64n - 1n)], // a length that is not a number JS can hold
        [...tag(n, 2), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // an overlong varint
        [...tag(n, 0), 0x80], // a varint that never ends
        [...tag(n, 3)], // a group that never ends
        [...tag(n, 4)], // an end-group with no start
        [0], // field 0
      )
      .map((b) => [...b]),
  ),
  // deep nesting: sub-messages inside field 1, or groups, thousands deep
  fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 50, max: 20_000 })).map(([n, d]) => {
    let body: number[] = [];
    for (let i = 0; i < Math.min(d, 2000); i++) body = lenDelimited(n, body);
    return body;
  }),
  fc
    .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 100, max: 100_000 }))
    .map(([n, d]) => [
      ...Array.from({ length: d }, () => tag(n, 3)).flat(),
      ...Array.from({ length: d }, () => tag(n, 4)).flat(),
    ]),
  // many repeats of one field
  fc
    .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1000, max: 100_000 }))
    .map(([n, k]) => Array.from({ length: k }, () => lenDelimited(n, [0x61])).flat()),
);

/** Bodies for one method: plausible, structural, and mutations (truncation, flips, splices) of plausible ones. */
export function bodyArb(m: MessageDesc, types: Map<string, MessageDesc>): fc.Arbitrary<Buffer> {
  const plausible = messageArb(m, types);
  const mutatedBody = fc.tuple(plausible, fc.nat(), fc.nat(255), fc.nat(3)).map(([b, i, x, op]) => {
    if (b.length === 0) return [x];
    const at = i % b.length;
    if (op === 0) return b.slice(0, at); // truncated
    if (op === 1) return [...b.slice(0, at), b[at]! ^ (1 << (x % 8)), ...b.slice(at + 1)];
    if (op === 2) return [...b.slice(0, at), x, ...b.slice(at)];
    return [...b, ...b.slice(at)];
  });
  return fc
    .oneof(
      { weight: 5, arbitrary: plausible },
      { weight: 2, arbitrary: structural },
      { weight: 3, arbitrary: mutatedBody },
    )
    .map((b) => Buffer.from(b));
}

/** Every message type by full name ('.dsched.v1.X', nested ones too), from the loaded package. */
export function messageTypes(pkg: Record<string, unknown>, prefix = '.dsched.v1'): Map<string, MessageDesc> {
  const out = new Map<string, MessageDesc>();
  const add = (name: string, m: MessageDesc) => {
    out.set(name, m);
    for (const n of m.nestedType ?? []) add(`${name}.${n.name}`, n);
  };
  for (const [k, v] of Object.entries(pkg)) {
    const def = v as { format?: string; type?: MessageDesc };
    if (def && typeof def === 'object' && def.format?.startsWith('Protocol Buffer') && def.type)
      add(`${prefix}.${k}`, def.type);
  }
  return out;
}
