// Loads the dsched.v1 protos once, with the same options proto-loader-gen-types used for the types.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
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

function protoRoot(): string {
  // Source tree (tsx) and build output (dist/lib/rpc) both find the repo's proto/ folder.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'proto', 'dsched', 'v1', 'common.proto'))) return join(dir, 'proto');
    dir = dirname(dir);
  }
  throw new Error('proto/dsched/v1 not found');
}

let cached: V1 | undefined;
export function proto(): V1 {
  if (!cached) {
    const root = protoRoot();
    const files = ['collector', 'negotiator', 'schedd', 'startd', 'master'].map((n) => `dsched/v1/${n}.proto`);
    const def = protoLoader.loadSync(files, {
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs: [root],
    });
    cached = (grpc.loadPackageDefinition(def) as unknown as { dsched: { v1: V1 } }).dsched.v1;
  }
  return cached;
}

const LOAD_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true } as const;

let health: HealthProto['grpc']['health']['v1'] | undefined;
/** grpc.health.v1: the standard health service, loaded apart (a CLI that only checks health needs no more). */
export function healthProto(): HealthProto['grpc']['health']['v1'] {
  if (!health) {
    const def = protoLoader.loadSync('grpc/health/v1/health.proto', { ...LOAD_OPTIONS, includeDirs: [protoRoot()] });
    health = (grpc.loadPackageDefinition(def) as unknown as HealthProto).grpc.health.v1;
  }
  return health;
}
