// Loads the dsched.v1 services, each once and only when first used, with the message shapes
// proto-loader-gen-types typed them with (--keepCase --longs Number --enums String --defaults --oneofs).
// They come from the JSON descriptors `npm run gen` writes (no .proto text is parsed at run time), one per
// service with only the messages its methods reach, and only the services are built: grpc-js needs each
// method's path and codecs, not the reflection descriptors proto-loader makes for every message, which cost
// every command and daemon CPU at start and heap for as long as it runs (a command that asks the schedd
// builds a third of the messages, not all of them). protobufjs's light build reads JSON descriptors; the full one
// adds the .proto parser and Google's descriptors, which only the fuzzer's proto-loader needs.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import serviceDescriptors from './generated/services.json' with { type: 'json' };
import { useAdCodec } from './ad-codec.js';
import { decodeJobQueryPage } from './query-page-decode.js';
import type { ProtoGrpcType as CollectorProto } from './generated/collector.js';
import type { ProtoGrpcType as NegotiatorProto } from './generated/negotiator.js';
import type { ProtoGrpcType as ScheddProto } from './generated/schedd.js';
import type { ProtoGrpcType as StartdProto } from './generated/startd.js';
import type { ProtoGrpcType as MasterProto } from './generated/master.js';
import type { ProtoGrpcType as HealthProto } from './generated/health.js';

type V1 = CollectorProto['dsched']['v1'] &
  NegotiatorProto['dsched']['v1'] &
  ScheddProto['dsched']['v1'] &
  StartdProto['dsched']['v1'] &
  MasterProto['dsched']['v1'];

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true };

/** Messages read by hand rather than by the generic codec (same objects): the pages of large answers. */
const DECODERS: Record<string, (bytes: Buffer) => object> = { '.dsched.v1.JobQueryPage': decodeJobQueryPage };

function methodDefinition(
  pkg: string,
  service: protobuf.Service,
  m: protobuf.Method,
): grpc.MethodDefinition<object, object> {
  const req = m.resolvedRequestType!;
  const res = m.resolvedResponseType!;
  const serialize = (t: protobuf.Type) => (value: object) => {
    if (Array.isArray(value)) throw new Error(`cannot serialize an array as ${t.name}`);
    return Buffer.from(t.encode(t.fromObject(value)).finish());
  };
  const deserialize = (t: protobuf.Type) =>
    DECODERS[t.fullName] ?? ((bytes: Buffer) => t.toObject(t.decode(bytes), TO_OBJECT));
  return {
    path: `/${pkg}.${service.name}/${m.name}`,
    requestStream: !!m.requestStream,
    responseStream: !!m.responseStream,
    requestSerialize: serialize(req),
    requestDeserialize: deserialize(req),
    responseSerialize: serialize(res),
    responseDeserialize: deserialize(res),
    // the handlers may be named in camelCase too, as with proto-loader
    originalName: m.name.charAt(0).toLowerCase() + m.name.slice(1),
  };
}

/** One service (its full name, as in the descriptors) as a grpc-js client constructor. */
function service(fullName: string): grpc.ServiceClientConstructor {
  const json = (serviceDescriptors as Record<string, protobuf.INamespace>)[fullName];
  if (!json) throw new Error(`no service ${fullName} in the descriptors`);
  const root = protobuf.Root.fromJSON(json);
  root.resolveAll();
  const ad = root.lookup('dsched.v1.Ad');
  if (ad instanceof protobuf.Type) useAdCodec(ad, protobuf.Writer);
  const s = root.lookupService(fullName);
  const pkg = fullName.slice(0, fullName.lastIndexOf('.'));
  const def = Object.fromEntries(s.methodsArray.map((m) => [m.name, methodDefinition(pkg, s, m)]));
  return grpc.makeClientConstructor(def, s.name);
}

/** The services of one package (dsched.v1, grpc.health.v1), each built when first read. */
function lazyServices<T>(pkg: string): T {
  const out: Record<string, grpc.ServiceClientConstructor> = {};
  for (const fullName of Object.keys(serviceDescriptors)) {
    if (!fullName.startsWith(`${pkg}.`) || fullName.slice(pkg.length + 1).includes('.')) continue;
    let built: grpc.ServiceClientConstructor | undefined;
    Object.defineProperty(out, fullName.slice(pkg.length + 1), {
      enumerable: true,
      get: () => (built ??= service(fullName)),
    });
  }
  return out as T;
}

let cached: V1 | undefined;
export function proto(): V1 {
  cached ??= lazyServices<V1>('dsched.v1');
  return cached;
}

let health: HealthProto['grpc']['health']['v1'] | undefined;
/** grpc.health.v1: the standard health service every daemon serves. */
export function healthProto(): HealthProto['grpc']['health']['v1'] {
  health ??= lazyServices<HealthProto['grpc']['health']['v1']>('grpc.health.v1');
  return health;
}

/**
 * The same services with proto-loader's reflection descriptors (each method's `requestType.type`, and every
 * message's): for tools that build messages from the protos (the RPC fuzzer), never for the daemons.
 */
export async function protoWithDescriptors(): Promise<V1> {
  const [protoLoader, { default: descriptor }] = await Promise.all([
    import('@grpc/proto-loader'),
    import('./generated/descriptor.json', { with: { type: 'json' } }),
  ]);
  const def = protoLoader.fromJSON(descriptor as protobuf.INamespace, { keepCase: true, ...TO_OBJECT });
  return (grpc.loadPackageDefinition(def) as unknown as { dsched: { v1: V1 } }).dsched.v1;
}
