// provisioner kubernetes provider – against a stand-in API server at the HTTP edge: a pod and a secret per
// execute host (the join token only in the secret), listed by label, removed when stopped or ended.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubernetesProvider } from '../../../daemons/provisioner/kubernetes.js';

type Obj = { metadata: { name: string; labels?: Record<string, string> }; status?: { phase: string } } & Record<
  string,
  unknown
>;

/** The few API-server routes the provider uses, for one namespace, with a bearer token. */
function standIn(token: string) {
  const store = { pods: new Map<string, Obj>(), secrets: new Map<string, Obj>() };
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      calls.push(`${req.method} ${req.url}`);
      if (req.headers.authorization !== `Bearer ${token}`)
        return reply(401, { kind: 'Status', message: 'Unauthorized' });
      const url = new URL(req.url!, 'http://x');
      const m = /^\/api\/v1\/namespaces\/batch\/(pods|secrets)(?:\/([^/]+))?$/.exec(url.pathname);
      if (!m) return reply(404, { message: 'not found' });
      const kind = m[1] as 'pods' | 'secrets';
      const name = m[2];
      if (req.method === 'POST' && !name) {
        const obj = JSON.parse(body) as Obj;
        if (store[kind].has(obj.metadata.name)) return reply(409, { message: 'AlreadyExists' });
        if (kind === 'pods') obj.status = { phase: 'Running' };
        store[kind].set(obj.metadata.name, obj);
        return reply(201, obj);
      }
      if (req.method === 'GET' && !name) {
        const [k, v] = (url.searchParams.get('labelSelector') ?? '').split('=');
        return reply(200, { items: [...store[kind].values()].filter((o) => !k || o.metadata.labels?.[k] === v) });
      }
      if (req.method === 'DELETE' && name) {
        if (!store[kind].delete(name)) return reply(404, { message: 'NotFound' });
        return reply(200, {});
      }
      return reply(405, { message: 'method not allowed' });
    });
  });
  return { server, store, calls };
}

describe('provisioner kubernetes provider', () => {
  let api: ReturnType<typeof standIn>;
  let dir = '';
  let provider: (token?: string) => KubernetesProvider;
  before(async () => {
    api = standIn('sa-token');
    await new Promise<void>((r) => api.server.listen(0, '127.0.0.1', r));
    dir = mkdtempSync(join(tmpdir(), 'dsched-k8s-'));
    provider = (token = 'sa-token') => {
      const tokenFile = join(dir, `token-${token}`);
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      const port = (api.server.address() as AddressInfo).port;
      return new KubernetesProvider({
        api: `http://127.0.0.1:${port}`,
        namespace: 'batch',
        tokenFile,
        caFile: '',
        image: 'registry.example/dsched:1',
        prefix: 'dsched-exec-',
        hostConfig: 'NUM_CPUS = 2',
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
    const handles = await p.start(tokens.map((token) => ({ collector: '10.0.0.1:9618', token })));
    assert.equal(handles.length, 2);
    for (const [i, h] of handles.entries()) {
      assert.match(h.host, /^dsched-exec-[0-9a-f]{6}$/);
      assert.equal(h.id, h.host);
      const secret = api.store.secrets.get(h.id)!;
      assert.deepEqual(secret.stringData, { 'join-token': tokens[i] });
      const pod = api.store.pods.get(h.id)!;
      const text = JSON.stringify(pod);
      assert.ok(!text.includes('secret-one') && !text.includes('secret-two'), 'no join token in the pod spec');
      const spec = pod.spec as {
        containers: Array<{ image: string; command: string[] }>;
        volumes: Array<{ secret: { secretName: string } }>;
        terminationGracePeriodSeconds: number;
      };
      assert.equal(spec.containers[0]!.image, 'registry.example/dsched:1');
      assert.equal(spec.volumes[0]!.secret.secretName, h.id);
      assert.ok(spec.terminationGracePeriodSeconds >= 30, 'time for the startd to evict its jobs');
      const script = spec.containers[0]!.command[2]!;
      assert.match(script, /dsched join '10\.0\.0\.1:9618' - < \/var\/run\/dsched\/join-token/);
      assert.match(script, /exec dsched startd/);
      assert.match(script, new RegExp(`'HOSTNAME = ${h.host}'.*'NUM_CPUS = 2'`));
    }
    assert.deepEqual((await p.list()).map((h) => h.id).sort(), handles.map((h) => h.id).sort());
  });

  test('provisioner kubernetes provider – a pod that ended is gone from the list and removed with its secret', async () => {
    const p = provider();
    const [ended, running] = [...api.store.pods.keys()];
    api.store.pods.get(ended!)!.status = { phase: 'Failed' };
    assert.deepEqual(
      (await p.list()).map((h) => h.id),
      [running],
    );
    assert.equal(api.store.pods.has(ended!), false);
    assert.equal(api.store.secrets.has(ended!), false);
    await p.stop({ id: running!, host: running!, provider: 'kubernetes', started: 0 });
    assert.equal(api.store.pods.size + api.store.secrets.size, 0, 'stop deletes the pod and its secret');
    assert.deepEqual(await p.list(), []);
  });

  test('provisioner kubernetes provider – a refused credential is an error; a handle that is no pod name deletes nothing', async () => {
    await assert.rejects(provider('wrong').list(), /401/);
    const p = provider();
    await p.start([{ collector: 'c:1', token: 't' }]);
    const before = api.calls.length;
    await assert.rejects(
      p.stop({ id: '../secrets/other', host: 'x', provider: 'kubernetes', started: 0 }),
      /not a pod name/,
    );
    assert.equal(api.calls.length, before, 'no call was made');
    for (const h of await p.list()) await p.stop(h);
  });
});
