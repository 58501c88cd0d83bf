// Loads the dsched.v1 protos once, with the same options proto-loader-gen-types used for the types. They
// come as the JSON descriptor `npm run gen` writes (no .proto text is parsed at run time).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import descriptor from './generated/descriptor.json' with { type: 'json' };
import type { ProtoGrpcType as CollectorProto } from './generated/collector.js';
import type { ProtoGrpcType as NegotiatorProto } from './generated/negotiator.js';
import type { ProtoGrpcType as ScheddProto } from './generated/schedd.js';
import type { ProtoGrpcType as StartdProto } from './generated/startd.js';
import type { ProtoGrpcType as MasterProto } from './generated/master.js';

type V1 = CollectorProto['dsched']['v1'] &
  NegotiatorProto['dsched']['v1'] &
  ScheddProto['dsched']['v1'] &
  StartdProto['dsched']['v1'] &
  MasterProto['dsched']['v1'];

let cached: V1 | undefined;
export function proto(): V1 {
  if (!cached) {
    const def = protoLoader.fromJSON(descriptor as Parameters<typeof protoLoader.fromJSON>[0], { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
    cached = (grpc.loadPackageDefinition(def) as unknown as { dsched: { v1: V1 } }).dsched.v1;
  }
  return cached;
}
