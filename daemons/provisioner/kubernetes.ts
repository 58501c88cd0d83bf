// Execute hosts as Kubernetes pods: one pod per host, running an image with dsched, whose command joins the
// pool with its one-time join token and then runs a startd. The token is put in a Secret of its own (never
// in the pod spec, which more people may read) and reaches `dsched join` on stdin. Deleting the pod sends
// its startd SIGTERM (within terminationGracePeriodSeconds): it evicts what still runs, which the schedd
// runs again. Spoken to through the official client (@kubernetes/client-node), with the credentials of a
// kubeconfig file or, in a pod, of its service account; the client is loaded only by this provider, so
// the other providers and every command start without it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type * as K8s from '@kubernetes/client-node';
import { nowSeconds } from '../../lib/time.js';
import { hostConfigLines, sq, type HostHandle, type JoinSpec, type Provider } from './provider.js';

export interface KubernetesOptions {
  /** A kubeconfig file (its current context); empty = in-cluster (the pod's service account and CA). */
  kubeconfig: string;
  namespace: string;
  /** Image with dsched on PATH; empty = the template's. */
  image: string;
  /** A file holding a Pod manifest (YAML or JSON) the execute-host pods are made from; empty = a bare pod. */
  podTemplate: string;
  /** Pod (and host) names start with it. */
  prefix: string;
  hostConfig: string;
  /** Where the pod's service-account files are found under (tests); empty = at their place. */
  inClusterRoot?: string;
}

const LABEL = 'dsched.io/execute-host';
const CONTAINER = 'startd';
const TOKEN_VOLUME = 'dsched-join-token';
const TOKEN_DIR = '/var/run/dsched';
const POD_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

type Client = { k8s: typeof K8s; core: K8s.CoreV1Api };

/** Status code and the API server's own message of a failed call, not the client's dump of headers. */
function apiError(what: string, e: unknown): Error {
  const x = e as { code?: unknown; body?: unknown; message?: string };
  if (typeof x.code !== 'number') return new Error(`${what}: ${x.message ?? String(e)}`);
  let body = x.body;
  if (typeof body === 'string')
    try {
      body = JSON.parse(body);
    } catch {
      /* not JSON: the code says enough */
    }
  // the client keeps no body for a 401
  const message = (body as { message?: unknown } | undefined)?.message ?? (x.code === 401 ? 'Unauthorized' : '');
  return new Error(`${what}: ${x.code}${typeof message === 'string' && message ? ` ${message}` : ''}`);
}

const statusOf = (e: unknown) => (e as { code?: unknown }).code;

export class KubernetesProvider implements Provider {
  readonly name = 'kubernetes';
  private client?: Promise<Client>;
  constructor(private o: KubernetesOptions) {}

  /** The client, loaded and configured at first use (a broken kubeconfig fails that call, not the daemon). */
  private api(): Promise<Client> {
    this.client ??= (async () => {
      const k8s = await import('@kubernetes/client-node');
      const kc = new k8s.KubeConfig();
      if (this.o.kubeconfig) kc.loadFromFile(this.o.kubeconfig);
      else if (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT)
        throw new Error(
          'PROVISIONER_K8S_KUBECONFIG is empty and this is not a pod (no KUBERNETES_SERVICE_HOST): name a kubeconfig file',
        );
      else kc.loadFromCluster(this.o.inClusterRoot);
      return { k8s, core: kc.makeApiClient(k8s.CoreV1Api) };
    })();
    // a failed load is tried again at the next call (the file may be fixed meanwhile)
    this.client.catch(() => (this.client = undefined));
    return this.client;
  }

  /** The configured Pod manifest, or a bare one. */
  private template(k8s: typeof K8s): K8s.V1Pod {
    if (!this.o.podTemplate) return {};
    const pod = k8s.loadYaml<K8s.V1Pod>(readFileSync(this.o.podTemplate, 'utf8'));
    if (!pod || typeof pod !== 'object' || (pod.kind !== undefined && pod.kind !== 'Pod'))
      throw new Error(`${this.o.podTemplate}: not a Pod manifest`);
    return pod;
  }

  /** The pod of one execute host: the template, with the startd container's command, the join-token
   *  volume and the settings the provisioner relies on put over it. */
  podSpec(k8s: typeof K8s, host: string, j: JoinSpec): K8s.V1Pod {
    const pod = structuredClone(this.template(k8s));
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
      `dsched join ${sq(j.collector)} - < ${TOKEN_DIR}/join-token`,
      'exec dsched startd',
    ].join('\n');
    const spec: K8s.V1PodSpec = pod.spec ?? { containers: [] };
    const containers = spec.containers ?? [];
    let c = containers.find((x) => x.name === CONTAINER) ?? containers[0];
    if (!c) containers.push((c = { name: CONTAINER }));
    const image = this.o.image || c.image;
    if (!image) throw new Error('no image for the execute-host pods: set PROVISIONER_K8S_IMAGE or the template');
    Object.assign(c, {
      image,
      command: ['/bin/sh', '-c', script],
      args: undefined,
      env: [
        ...(c.env ?? []).filter((e) => !['DSCHED_HOME', 'DSCHED_CONFIG', 'POD_IP'].includes(e.name)),
        { name: 'DSCHED_HOME', value: '/var/lib/dsched' },
        { name: 'DSCHED_CONFIG', value: '/dev/null' },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ],
      volumeMounts: [
        ...(c.volumeMounts ?? []).filter((m) => m.name !== TOKEN_VOLUME && m.mountPath !== TOKEN_DIR),
        { name: TOKEN_VOLUME, mountPath: TOKEN_DIR, readOnly: true },
      ],
    } satisfies Partial<K8s.V1Container>);
    Object.assign(spec, {
      containers,
      // a startd that ended is a host gone, never restarted in place with a spent join token
      restartPolicy: 'Never',
      // the startd runs users' jobs: they get no credential to the API server
      automountServiceAccountToken: false,
      // the startd's shutdown evicts its jobs before the kubelet's SIGKILL
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 60,
      volumes: [
        ...(spec.volumes ?? []).filter((v) => v.name !== TOKEN_VOLUME),
        { name: TOKEN_VOLUME, secret: { secretName: host, defaultMode: 0o400 } },
      ],
    } satisfies Partial<K8s.V1PodSpec>);
    return {
      ...pod,
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...pod.metadata,
        name: host,
        namespace: undefined,
        generateName: undefined,
        labels: { ...pod.metadata?.labels, [LABEL]: 'true' },
      },
      spec,
    };
  }

  async start(joins: JoinSpec[]): Promise<HostHandle[]> {
    const { k8s, core } = await this.api();
    const namespace = this.o.namespace;
    const handles: HostHandle[] = [];
    for (const j of joins) {
      const host = `${this.o.prefix}${randomBytes(3).toString('hex')}`;
      const body = this.podSpec(k8s, host, j);
      const pod = await core.createNamespacedPod({ namespace, body }).catch((e: unknown) => {
        throw apiError(`create pod ${host}`, e);
      });
      // The secret is owned by its pod, so the cluster deletes the token with the pod, also when someone
      // else deletes the pod; the kubelet waits for the secret before it starts the container.
      try {
        await core.createNamespacedSecret({
          namespace,
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: {
              name: host,
              labels: { [LABEL]: 'true' },
              ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: host, uid: pod.metadata!.uid! }],
            },
            type: 'Opaque',
            stringData: { 'join-token': j.token },
          },
        });
      } catch (e) {
        await core.deleteNamespacedPod({ namespace, name: host }).catch(() => undefined);
        throw apiError(`create secret ${host}`, e);
      }
      handles.push({ id: host, host, provider: this.name, started: nowSeconds() });
    }
    return handles;
  }

  async stop(handle: HostHandle): Promise<void> {
    if (!POD_NAME.test(handle.id)) throw new Error(`not a pod name: ${handle.id}`);
    const { core } = await this.api();
    const ref = { namespace: this.o.namespace, name: handle.id };
    for (const [kind, del] of [
      ['pod', () => core.deleteNamespacedPod(ref)],
      ['secret', () => core.deleteNamespacedSecret(ref)],
    ] as const) {
      try {
        await del();
      } catch (e) {
        // already gone is what was asked
        if (statusOf(e) !== 404) throw apiError(`delete ${kind} ${handle.id}`, e);
      }
    }
  }

  async list(): Promise<HostHandle[]> {
    const { core } = await this.api();
    const pods = await core
      .listNamespacedPod({ namespace: this.o.namespace, labelSelector: `${LABEL}=true` })
      .catch((e: unknown) => {
        throw apiError('list pods', e);
      });
    // another pool's execute hosts in the same namespace carry the label too: only this prefix is ours
    const items = pods.items.filter((p) => p.metadata?.name?.startsWith(this.o.prefix));
    const ended = (p: K8s.V1Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    // a pod that ended by itself (its startd stopped, a join refused) is gone: remove it and its secret
    for (const p of items)
      if (ended(p))
        await this.stop({ id: p.metadata!.name!, host: p.metadata!.name!, provider: this.name, started: 0 }).catch(
          () => undefined,
        );
    return items
      .filter((p) => !ended(p))
      .map((p) => ({
        id: p.metadata!.name!,
        host: p.metadata!.name!,
        provider: this.name,
        // the client gives creationTimestamp as a Date
        started: p.metadata?.creationTimestamp
          ? Math.floor(new Date(p.metadata.creationTimestamp).getTime() / 1000)
          : nowSeconds(),
      }));
  }
}
