// Loads the dsched.v1 services once, with the message shapes proto-loader-gen-types typed them with
// (--keepCase --longs Number --enums String --defaults --oneofs). They come from the JSON descriptor
// `npm run gen` writes (no .proto text is parsed at run time), and only the services are built: grpc-js needs
// each method's path and codecs, not the reflection descriptors proto-loader makes for every message, which
// cost every command and daemon CPU at start and heap for as long as it runs.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import descriptor from './generated/descriptor.json' with { type: 'json' };
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

function methodDefinition(pkg: string, service: protobuf.Service, m: protobuf.Method): grpc.MethodDefinition<object, object> {
  const req = m.resolvedRequestType!;
  const res = m.resolvedResponseType!;
  const serialize = (t: protobuf.Type) => (value: object) => {
    if (Array.isArray(value)) throw new Error(`cannot serialize an array as ${t.name}`);
    return Buffer.from(t.encode(t.fromObject(value)).finish());
  };
  const deserialize = (t: protobuf.Type) => (bytes: Buffer) => t.toObject(t.decode(bytes), TO_OBJECT);
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

let root: protobuf.Root | undefined;
/** The services of one package of the descriptor (dsched.v1, grpc.health.v1) as grpc-js client constructors. */
function services(pkg: string): Record<string, grpc.ServiceClientConstructor> {
  if (!root) {
    root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
    root.resolveAll();
  }
  const out: Record<string, grpc.ServiceClientConstructor> = {};
  for (const s of (root.lookup(pkg) as protobuf.Namespace).nestedArray) {
    if (!(s instanceof protobuf.Service)) continue;
    const def = Object.fromEntries(s.methodsArray.map((m) => [m.name, methodDefinition(pkg, s, m)]));
    out[s.name] = grpc.makeClientConstructor(def, s.name);
  }
  return out;
}

let cached: V1 | undefined;
export function proto(): V1 {
  cached ??= services('dsched.v1') as unknown as V1;
  return cached;
}

let health: HealthProto['grpc']['health']['v1'] | undefined;
/** grpc.health.v1: the standard health service every daemon serves. */
export function healthProto(): HealthProto['grpc']['health']['v1'] {
  health ??= services('grpc.health.v1') as unknown as HealthProto['grpc']['health']['v1'];
  return health;
}

/**
 * The same services with proto-loader's reflection descriptors (each method's `requestType.type`, and every
 * message's): for tools that build messages from the protos (the RPC fuzzer), never for the daemons.
 */
export async function protoWithDescriptors(): Promise<V1> {
  const protoLoader = await import('@grpc/proto-loader');
  const def = protoLoader.fromJSON(descriptor as protobuf.INamespace, { keepCase: true, ...TO_OBJECT });
  return (grpc.loadPackageDefinition(def) as unknown as { dsched: { v1: V1 } }).dsched.v1;
}
