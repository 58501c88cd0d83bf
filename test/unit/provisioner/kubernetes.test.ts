// provisioner kubernetes provider – through @kubernetes/client-node against a stand-in API server at the HTTP
// edge (https, its CA and a bearer token from a kubeconfig file): a pod and a secret per execute host (the
// join token only in the secret), listed by label, removed when stopped or ended; the pod made from the
// configured template, with what the provisioner relies on put over it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubernetesProvider, type KubernetesOptions } from '../../../daemons/provisioner/kubernetes.js';

type Obj = { metadata: { name: string; labels?: Record<string, string> }; status?: { phase: string } } & Record<
  string,
  unknown
>;
interface Call {
  method: string;
  path: string;
  query: Record<string, string>;
  auth: string | undefined;
  body: Obj | undefined;
}

/** The few API-server routes the provider uses, for one namespace, with a bearer token. */
function standIn(token: string, key: Buffer, cert: Buffer) {
  const store = { pods: new Map<string, Obj>(), secrets: new Map<string, Obj>() };
  const calls: Call[] = [];
  // a role that may make pods but not secrets
  const refuse = { secrets: false };
  const server = createServer({ key, cert }, (req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      const url = new URL(req.url!, 'https://x');
      const body = text ? (JSON.parse(text) as Obj) : undefined;
      calls.push({
        method: req.method!,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        auth: req.headers.authorization,
        body,
      });
      if (req.headers.authorization !== `Bearer ${token}`)
        return reply(401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Unauthorized', code: 401 });
      const m = /^\/api\/v1\/namespaces\/batch\/(pods|secrets)(?:\/([^/]+))?$/.exec(url.pathname);
      if (!m) return reply(404, { kind: 'Status', message: 'not found', code: 404 });
      const kind = m[1] as 'pods' | 'secrets';
      const name = m[2];
      if (kind === 'secrets' && refuse.secrets)
        return reply(403, { kind: 'Status', message: 'secrets is forbidden: User "provisioner" cannot create' });
      if (req.method === 'POST' && !name && body) {
        if (req.headers['content-type'] !== 'application/json') return reply(415, { message: 'not JSON' });
        if (store[kind].has(body.metadata.name)) return reply(409, { kind: 'Status', message: 'AlreadyExists' });
        const metadata = {
          ...body.metadata,
          uid: `uid-${body.metadata.name}`,
          creationTimestamp: '2026-01-02T03:04:05Z',
        };
        const obj = { ...body, metadata };
        if (kind === 'pods') obj.status = { phase: 'Pending' };
        store[kind].set(obj.metadata.name, obj);
        return reply(201, obj);
      }
      if (req.method === 'GET' && !name && kind === 'pods') {
        const [k, v] = (url.searchParams.get('labelSelector') ?? '').split('=');
        const items = [...store.pods.values()].filter((o) => !k || o.metadata.labels?.[k] === v);
        return reply(200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
      }
      if (req.method === 'DELETE' && name) {
        const obj = store[kind].get(name);
        if (!obj || !store[kind].delete(name))
          return reply(404, { kind: 'Status', message: `${kind} "${name}" not found`, code: 404 });
        return reply(200, kind === 'pods' ? obj : { kind: 'Status', apiVersion: 'v1', status: 'Success' });
      }
      return reply(405, { kind: 'Status', message: 'method not allowed' });
    });
  });
  return { server, store, calls, refuse };
}

describe('provisioner kubernetes provider', () => {
  let api: ReturnType<typeof standIn>;
  let dir = '';
  let provider: (o?: Partial<KubernetesOptions> & { token?: string }) => KubernetesProvider;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsched-k8s-'));
    // the API server's certificate, which the kubeconfig names as its cluster's CA
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
        ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
        ...['-keyout', join(dir, 'api.key'), '-out', join(dir, 'api.crt')],
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'api.crt'));
    api = standIn('sa-token', readFileSync(join(dir, 'api.key')), cert);
    await new Promise<void>((r) => api.server.listen(0, '127.0.0.1', r));
    const port = (api.server.address() as AddressInfo).port;
    provider = ({ token = 'sa-token', ...o } = {}) => {
      const kubeconfig = join(dir, `kubeconfig-${token}`);
      const kc = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'stand-in',
            cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': cert.toString('base64') },
          },
        ],
        users: [{ name: 'provisioner', user: { token } }],
        contexts: [{ name: 'pool', context: { cluster: 'stand-in', user: 'provisioner', namespace: 'other' } }],
        'current-context': 'pool',
      };
      writeFileSync(kubeconfig, JSON.stringify(kc), { mode: 0o600 });
      return new KubernetesProvider({
        kubeconfig,
        namespace: 'batch',
        image: 'registry.example/dsched:1',
        podTemplate: '',
        prefix: 'dsched-exec-',
        hostConfig: 'NUM_CPUS = 2',
        ...o,
      });
    };
  });
  after(async () => {
    await new Promise((r) => (api.server as Server).close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('provisioner kubernetes provider – start makes a secret and a pod per host; the token is only in the secret', async () => {
    const p = provider();
    const tokens = ['aaaa.secret-one.' + '0'.repeat(64), 'bbbb.secret-two.' + '1'.repeat(64)];
    api.calls.length = 0;
    const handles = await p.start(tokens.map((token) => ({ collector: '10.0.0.1:9618', token })));
    assert.equal(handles.length, 2);
    // what the client sent: the kubeconfig's token, the configured namespace (not the context's), secret first
    assert.deepEqual(
      api.calls.map((c) => `${c.method} ${c.path} ${c.auth}`),
      handles.flatMap(() => [
        'POST /api/v1/namespaces/batch/pods Bearer sa-token',
        'POST /api/v1/namespaces/batch/secrets Bearer sa-token',
      ]),
    );
    for (const [i, h] of handles.entries()) {
      assert.match(h.host, /^dsched-exec-[0-9a-f]{6}$/);
      assert.equal(h.id, h.host);
      const sent = api.calls.filter((c) => c.body?.metadata.name === h.id);
      assert.deepEqual(
        sent.map((c) => c.body!.kind),
        ['Pod', 'Secret'],
      );
      const secret = sent[1]!.body!;
      assert.deepEqual(secret.stringData, { 'join-token': tokens[i] });
      assert.deepEqual(secret.metadata, {
        name: h.id,
        labels: { 'dsched.io/execute-host': 'true' },
        // deleted with its pod by the cluster, whoever deletes the pod
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: h.id, uid: `uid-${h.id}` }],
      });
      const pod = sent[0]!.body!;
      const text = JSON.stringify(pod);
      assert.ok(!text.includes('secret-one') && !text.includes('secret-two'), 'no join token in the pod spec');
      assert.deepEqual(pod.metadata.labels, { 'dsched.io/execute-host': 'true' });
      const spec = pod.spec as {
        containers: Array<{ name: string; image: string; command: string[]; env: Array<{ name: string }> }>;
        volumes: Array<{ name: string; secret: { secretName: string; defaultMode: number } }>;
        terminationGracePeriodSeconds: number;
        restartPolicy: string;
        automountServiceAccountToken: boolean;
      };
      assert.equal(spec.containers[0]!.image, 'registry.example/dsched:1');
      assert.deepEqual(spec.volumes, [{ name: 'dsched-join-token', secret: { secretName: h.id, defaultMode: 0o400 } }]);
      assert.equal(spec.restartPolicy, 'Never');
      assert.equal(spec.automountServiceAccountToken, false, 'no API credential for the jobs in the pod');
      assert.ok(spec.terminationGracePeriodSeconds >= 30, 'time for the startd to evict its jobs');
      const script = spec.containers[0]!.command[2]!;
      assert.match(script, /dsched join '10\.0\.0\.1:9618' - < \/var\/run\/dsched\/join-token/);
      assert.match(script, /exec dsched startd/);
      assert.match(script, new RegExp(`'HOSTNAME = ${h.host}'.*'NUM_CPUS = 2'`));
    }
    api.calls.length = 0;
    const listed = await p.list();
    assert.deepEqual(listed.map((h) => h.id).sort(), handles.map((h) => h.id).sort());
    assert.equal(listed[0]!.started, Date.parse('2026-01-02T03:04:05Z') / 1000);
    assert.deepEqual(
      api.calls.map((c) => [c.method, c.path, c.query.labelSelector, c.auth]),
      [['GET', '/api/v1/namespaces/batch/pods', 'dsched.io/execute-host=true', 'Bearer sa-token']],
    );
  });

  test('provisioner kubernetes provider – a pod that ended is gone from the list and removed with its secret', async () => {
    const p = provider();
    const [ended, running] = [...api.store.pods.keys()];
    api.store.pods.get(ended!)!.status = { phase: 'Failed' };
    // another pool's execute host in the same namespace is not this provisioner's
    api.store.pods.set('other-pool-1', {
      metadata: { name: 'other-pool-1', labels: { 'dsched.io/execute-host': 'true' } },
      status: { phase: 'Failed' },
    });
    assert.deepEqual(
      (await p.list()).map((h) => h.id),
      [running],
    );
    assert.equal(api.store.pods.has(ended!), false);
    assert.equal(api.store.secrets.has(ended!), false);
    assert.equal(api.store.pods.has('other-pool-1'), true, "another pool's pod is left alone");
    api.store.pods.delete('other-pool-1');
    api.calls.length = 0;
    await p.stop({ id: running!, host: running!, provider: 'kubernetes', started: 0 });
    assert.deepEqual(
      api.calls.map((c) => `${c.method} ${c.path}`),
      [`DELETE /api/v1/namespaces/batch/pods/${running}`, `DELETE /api/v1/namespaces/batch/secrets/${running}`],
    );
    assert.equal(api.store.pods.size + api.store.secrets.size, 0, 'stop deletes the pod and its secret');
    // stopping what is already gone is no error
    await p.stop({ id: running!, host: running!, provider: 'kubernetes', started: 0 });
    assert.deepEqual(await p.list(), []);
  });

  test('provisioner kubernetes provider – the pod is made from the template, with the startd settings put over it', async () => {
    const template = join(dir, 'pod.yaml');
    writeFileSync(
      template,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata:',
        '  name: ignored',
        '  namespace: elsewhere',
        '  labels: { team: physics, dsched.io/execute-host: "false" }',
        'spec:',
        '  nodeSelector: { pool: batch }',
        '  automountServiceAccountToken: true',
        '  restartPolicy: Always',
        '  terminationGracePeriodSeconds: 300',
        '  volumes: [{ name: scratch, emptyDir: {} }, { name: dsched-join-token, hostPath: { path: /etc } }]',
        '  containers:',
        '  - name: sidecar',
        '    image: registry.example/sidecar:1',
        '  - name: startd',
        '    image: registry.example/dsched:template',
        '    args: [--smuggled]',
        '    resources: { limits: { cpu: "2", memory: 4Gi } }',
        '    env: [{ name: DSCHED_HOME, value: /tmp/evil }, { name: SITE, value: cern }]',
        '    volumeMounts: [{ name: scratch, mountPath: /scratch }]',
      ].join('\n'),
    );
    const p = provider({ podTemplate: template, image: '' });
    api.calls.length = 0;
    const [h] = await p.start([{ collector: 'c:1', token: 'the-token' }]);
    const pod = api.calls.find((c) => c.path.endsWith('/pods'))!.body! as unknown as {
      metadata: { name: string; namespace?: string; labels: Record<string, string> };
      spec: {
        nodeSelector: Record<string, string>;
        automountServiceAccountToken: boolean;
        restartPolicy: string;
        terminationGracePeriodSeconds: number;
        volumes: Array<Record<string, unknown>>;
        containers: Array<{
          name: string;
          image: string;
          args?: string[];
          command?: string[];
          resources?: unknown;
          env?: Array<{ name: string; value?: string }>;
          volumeMounts?: Array<{ name: string; mountPath: string }>;
        }>;
      };
    };
    assert.equal(pod.metadata.name, h!.id);
    assert.equal(pod.metadata.namespace, undefined, 'the configured namespace, not the template’s');
    assert.deepEqual(pod.metadata.labels, { team: 'physics', 'dsched.io/execute-host': 'true' });
    assert.deepEqual(pod.spec.nodeSelector, { pool: 'batch' });
    assert.equal(pod.spec.automountServiceAccountToken, false);
    assert.equal(pod.spec.restartPolicy, 'Never');
    assert.equal(pod.spec.terminationGracePeriodSeconds, 300);
    assert.deepEqual(pod.spec.volumes, [
      { name: 'scratch', emptyDir: {} },
      { name: 'dsched-join-token', secret: { secretName: h!.id, defaultMode: 0o400 } },
    ]);
    const [sidecar, startd] = pod.spec.containers;
    assert.deepEqual(sidecar, { name: 'sidecar', image: 'registry.example/sidecar:1' });
    assert.equal(startd!.image, 'registry.example/dsched:template');
    assert.equal(startd!.args, undefined);
    assert.match(startd!.command![2]!, /exec dsched startd/);
    assert.deepEqual(startd!.resources, { limits: { cpu: '2', memory: '4Gi' } });
    assert.deepEqual(
      startd!.env!.map((e) => `${e.name}=${e.value ?? ''}`),
      ['SITE=cern', 'DSCHED_HOME=/var/lib/dsched', 'DSCHED_CONFIG=/dev/null', 'POD_IP='],
    );
    assert.deepEqual(startd!.volumeMounts, [
      { name: 'scratch', mountPath: '/scratch' },
      { name: 'dsched-join-token', mountPath: '/var/run/dsched', readOnly: true },
    ]);
    await p.stop(h!);

    // a template that is no Pod makes nothing, not even the secret
    writeFileSync(template, 'kind: Deployment\n');
    api.calls.length = 0;
    await assert.rejects(provider({ podTemplate: template }).start([{ collector: 'c:1', token: 't' }]), /not a Pod/);
    assert.equal(api.calls.length, 0);
  });

  test('provisioner kubernetes provider – with no kubeconfig, in a pod, it uses the service account', async () => {
    const sa = join(dir, 'root', 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'ca.crt'), readFileSync(join(dir, 'api.crt')));
    // as the kubelet writes it, with no newline (the client sends the file as it is)
    writeFileSync(join(sa, 'token'), 'sa-token');
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    try {
      delete process.env.KUBERNETES_SERVICE_HOST;
      await assert.rejects(provider({ kubeconfig: '' }).list(), /not a pod .*name a kubeconfig file/);
      process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
      process.env.KUBERNETES_SERVICE_PORT = String((api.server.address() as AddressInfo).port);
      api.calls.length = 0;
      assert.deepEqual(await provider({ kubeconfig: '', inClusterRoot: join(dir, 'root') }).list(), []);
      assert.deepEqual(
        api.calls.map((c) => `${c.method} ${c.path} ${c.auth}`),
        ['GET /api/v1/namespaces/batch/pods Bearer sa-token'],
      );
    } finally {
      for (const [k, v] of [
        ['KUBERNETES_SERVICE_HOST', saved.host],
        ['KUBERNETES_SERVICE_PORT', saved.port],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });

  test('provisioner kubernetes provider – a refused credential is an error; a handle that is no pod name deletes nothing', async () => {
    api.calls.length = 0;
    await assert.rejects(provider({ token: 'wrong' }).list(), /^Error: list pods: 401 Unauthorized$/);
    assert.deepEqual(
      api.calls.map((c) => c.auth),
      ['Bearer wrong'],
    );
    await assert.rejects(provider({ kubeconfig: join(dir, 'missing') }).list());
    const p = provider();
    // a pod whose secret could not be made is deleted: it would wait for its token forever
    api.refuse.secrets = true;
    await assert.rejects(p.start([{ collector: 'c:1', token: 't' }]), /create secret .*: 403 secrets is forbidden/);
    api.refuse.secrets = false;
    assert.equal(api.store.pods.size + api.store.secrets.size, 0);
    await p.start([{ collector: 'c:1', token: 't' }]);
    const before = api.calls.length;
    await assert.rejects(
      p.stop({ id: '../secrets/other', host: 'x', provider: 'kubernetes', started: 0 }),
      /not a pod name/,
    );
    assert.equal(api.calls.length, before, 'no call was made');
    for (const h of await p.list()) await p.stop(h);
    assert.equal(api.store.pods.size + api.store.secrets.size, 0);
  });
});
