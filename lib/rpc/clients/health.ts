// The standard health service of a daemon (grpc.health.v1.Health): `dsched status` asks each daemon.
import { RpcClient, type ClientCredentials } from '../client.js';
import type { DaemonRole } from '../auth.js';
import { healthProto } from '../proto.js';
import type { HealthCheckResponse__Output } from '../generated/grpc/health/v1/HealthCheckResponse.js';

export class HealthClient {
  readonly rpc: RpcClient;
  /** `role`: the daemon the server's certificate must say it is. */
  constructor(address: string, creds: ClientCredentials, role: DaemonRole, host?: string) {
    this.rpc = new RpcClient(
      address,
      healthProto().Health,
      creds,
      { role, host },
      `${role} at ${address}`,
      'DAEMON_UNREACHABLE',
    );
  }
  /** The status of the daemon ("") or of one of its services. */
  async check(service = '', deadlineMs = 5_000): Promise<HealthCheckResponse__Output['status']> {
    return (await this.rpc.unary<HealthCheckResponse__Output>('Check', { service }, { deadlineMs })).status;
  }
  /** Its status now and on every change. */
  watch(service = '') {
    return this.rpc.iterate<HealthCheckResponse__Output>('Watch', { service });
  }
  close() {
    this.rpc.close();
  }
}
