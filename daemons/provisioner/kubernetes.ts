// Execute hosts as Kubernetes pods: one pod per host, running an image with dsched, whose command joins the
// pool with its one-time join token and then runs a startd. The token is put in a Secret of its own (never
// in the pod spec, which more people may read) and reaches `dsched join` on stdin. Deleting the pod sends
// its startd SIGTERM (within terminationGracePeriodSeconds): it evicts what still runs, which the schedd
// runs again. Spoken to over the API server's REST interface (the same HTTP edge the official client
// library uses; that package is not installed here), with the pod's service-account token and CA.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { nowSeconds } from '../../lib/time.js';
import { hostConfigLines, sq, type HostHandle, type JoinSpec, type Provider } from './provider.js';

export interface KubernetesOptions {
  /** https://kubernetes.default.svc inside a cluster */
  api: string;
  namespace: string;
  /** File of the bearer token (a service account's); empty = none. */
  tokenFile: string;
  /** CA of the API server; empty = the system's. */
  caFile: string;
  image: string;
  /** Pod (and host) names start with it. */
  prefix: string;
  hostConfig: string;
}

const LABEL = 'dsched.io/execute-host';

export class KubernetesProvider implements Provider {
  readonly name = 'kubernetes';
  constructor(private o: KubernetesOptions) {}

  private call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const url = new URL(path, this.o.api);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.o.tokenFile) headers.authorization = `Bearer ${readFileSync(this.o.tokenFile, 'utf8').trim()}`;
    const data = body === undefined ? undefined : JSON.stringify(body);
    if (data) headers['content-type'] = 'application/json';
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          headers,
          timeout: 30_000,
          ...(this.o.caFile && url.protocol === 'https:' ? { ca: readFileSync(this.o.caFile) } : {}),
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            let json: Record<string, unknown> = {};
            try {
              json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
            } catch {
              /* not JSON: the status says enough */
            }
            resolve({ status: res.statusCode ?? 0, json });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: no answer within 30 s`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  private async must(method: string, path: string, body?: unknown) {
    const r = await this.call(method, path, body);
    if (r.status < 200 || r.status >= 300)
      throw new Error(`${method} ${path}: ${r.status} ${String(r.json.message ?? '')}`.trim());
    return r.json;
  }

  private base() {
    return `/api/v1/namespaces/${encodeURIComponent(this.o.namespace)}`;
  }

  /** The pod of one execute host (exported for tests through start). */
  podSpec(host: string, j: JoinSpec): Record<string, unknown> {
    const cfg = [
      `HOSTNAME = ${host}`,
      `STARTD_NAME = ${host}`,
      `COLLECTOR_HOST = ${j.collector}`,
      'DAEMON_LIST = STARTD',
      ...hostConfigLines(this.o.hostConfig),
    ];
    const script = [
      'set -eu',
      'mkdir -p "$DSCHED_HOME"',
      `printf '%s\\n' ${cfg.map(sq).join(' ')} > "$DSCHED_HOME/config"`,
      // the schedd reaches the startd at the pod's own address
      'echo "BIND_ADDRESS = $POD_IP" >> "$DSCHED_HOME/config"',
      `dsched join ${sq(j.collector)} - < /var/run/dsched/join-token`,
      'exec dsched startd',
    ].join('\n');
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: host, labels: { [LABEL]: 'true' } },
      spec: {
        restartPolicy: 'Never',
        // the startd's shutdown evicts its jobs before the kubelet's SIGKILL
        terminationGracePeriodSeconds: 60,
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'startd',
            image: this.o.image,
            command: ['/bin/sh', '-c', script],
            env: [
              { name: 'DSCHED_HOME', value: '/var/lib/dsched' },
              { name: 'DSCHED_CONFIG', value: '/dev/null' },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            ],
            volumeMounts: [{ name: 'join-token', mountPath: '/var/run/dsched', readOnly: true }],
          },
        ],
        volumes: [{ name: 'join-token', secret: { secretName: host, defaultMode: 0o400 } }],
      },
    };
  }

  async start(joins: JoinSpec[]): Promise<HostHandle[]> {
    const handles: HostHandle[] = [];
    for (const j of joins) {
      const host = `${this.o.prefix}${randomBytes(3).toString('hex')}`;
      await this.must('POST', `${this.base()}/secrets`, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: host, labels: { [LABEL]: 'true' } },
        type: 'Opaque',
        stringData: { 'join-token': j.token },
      });
      try {
        await this.must('POST', `${this.base()}/pods`, this.podSpec(host, j));
      } catch (e) {
        await this.call('DELETE', `${this.base()}/secrets/${host}`).catch(() => undefined);
        throw e;
      }
      handles.push({ id: host, host, provider: this.name, started: nowSeconds() });
    }
    return handles;
  }

  async stop(handle: HostHandle): Promise<void> {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(handle.id)) throw new Error(`not a pod name: ${handle.id}`);
    for (const kind of ['pods', 'secrets']) {
      const r = await this.call('DELETE', `${this.base()}/${kind}/${handle.id}`);
      if (r.status !== 404 && (r.status < 200 || r.status >= 300))
        throw new Error(`DELETE ${kind}/${handle.id}: ${r.status} ${String(r.json.message ?? '')}`);
    }
  }

  async list(): Promise<HostHandle[]> {
    const r = await this.must('GET', `${this.base()}/pods?labelSelector=${encodeURIComponent(`${LABEL}=true`)}`);
    const items = (r.items ?? []) as Array<{
      metadata?: { name?: string; creationTimestamp?: string };
      status?: { phase?: string };
    }>;
    const ended = (p: (typeof items)[number]) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    // a pod that ended by itself (its startd stopped, a join refused) is gone: remove it and its secret
    for (const p of items)
      if (p.metadata?.name && ended(p))
        await this.stop({ id: p.metadata.name, host: p.metadata.name, provider: this.name, started: 0 }).catch(
          () => undefined,
        );
    return items
      .filter((p) => p.metadata?.name && !ended(p))
      .map((p) => ({
        id: p.metadata!.name!,
        host: p.metadata!.name!,
        provider: this.name,
        started: p.metadata!.creationTimestamp
          ? Math.floor(Date.parse(p.metadata!.creationTimestamp) / 1000)
          : nowSeconds(),
      }));
  }
}
