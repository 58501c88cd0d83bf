// The authorization table: every rpc of proto/ has a row, docs/security.md shows the same table, and the
// levels admit exactly who they say (users, admins, daemons by role; anonymous only where marked).
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ANONYMOUS, userIdentity, type DaemonRole, type Identity } from '../../../lib/rpc/auth.js';
import { AUTHORIZATION, authorize, hasLevel, hostOfName, methodName, qualifiedName } from '../../../lib/rpc/authz.js';
import { DschedError } from '../../../lib/errors.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
// dsched's own services and the standard health service every daemon serves
const PROTOS = [join(ROOT, 'proto', 'dsched', 'v1'), join(ROOT, 'proto', 'grpc', 'health', 'v1')];

/** `Service.Method` for every rpc declared in proto/. */
function protoRpcs(): string[] {
  const out: string[] = [];
  for (const f of PROTOS.flatMap((dir) =>
    readdirSync(dir)
      .filter((n) => n.endsWith('.proto'))
      .map((n) => join(dir, n)),
  )) {
    const text = readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '');
    for (const svc of text.matchAll(/\bservice\s+(\w+)\s*\{([\s\S]*?)\n\}/g))
      for (const m of svc[2]!.matchAll(/\brpc\s+(\w+)\s*\(/g)) out.push(`${svc[1]}.${m[1]}`);
  }
  return out;
}

// rpcs the certificate work adds to the collector; their rows are in the table ahead of them
const ADDED_WITH_CERTIFICATES = new Set(['Collector.Join', 'Collector.Revoke', 'Collector.CreateJoinToken']);

const daemon = (role: DaemonRole, host = 'exec1'): Identity => ({
  kind: 'daemon',
  host,
  roles: new Set([role]),
  name: `${role}@${host}`,
  admin: false,
});
const user: Identity = { kind: 'user', name: 'alice', admin: false };
const admin: Identity = { kind: 'user', name: 'root', admin: true };

function refusal(method: string, who: Identity): string | undefined {
  try {
    authorize(method, who);
    return undefined;
  } catch (e) {
    assert.ok(e instanceof DschedError);
    return e.code;
  }
}

describe('authorization – the table', () => {
  test('authorization – every rpc of proto/ has a row, and every row names an rpc', () => {
    const rpcs = protoRpcs();
    assert.ok(rpcs.length > 20, `found the rpcs of proto/ (${rpcs.length})`);
    const missing = rpcs.filter((r) => !(r in AUTHORIZATION));
    assert.deepEqual(missing, [], 'rpcs without a row in lib/rpc/authz.ts');
    const extra = Object.keys(AUTHORIZATION).filter((m) => !rpcs.includes(m) && !ADDED_WITH_CERTIFICATES.has(m));
    assert.deepEqual(extra, [], 'rows for rpcs that do not exist');
  });

  test('authorization – docs/security.md shows the same table', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8');
    const section = doc.split(/^## Who may call what$/m)[1]!.split(/^## /m)[0]!;
    const rows: Record<string, string[]> = {};
    for (const m of section.matchAll(/^\| `(\w+\.\w+)` \| ([A-Za-z_ ]+?) \|/gm))
      rows[m[1]!] = m[2]!.split(' or ').map((l) => l.trim());
    const table = Object.fromEntries(Object.entries(AUTHORIZATION).map(([k, v]) => [k, [...v]]));
    assert.deepEqual(rows, table);
  });

  test('authorization – a method not in the table is refused, whoever calls', () => {
    for (const who of [user, admin, daemon('schedd'), ANONYMOUS])
      assert.ok(refusal('Schedd.Unlisted', who), `refused for ${who.kind}`);
    assert.equal(methodName('/dsched.v1.Collector/Advertise'), 'Collector.Advertise');
  });

  test('authorization – levels: users, admins and daemons by role', () => {
    assert.equal(refusal('Collector.Advertise', user), 'PERMISSION_DENIED');
    assert.equal(refusal('Collector.Advertise', admin), 'PERMISSION_DENIED');
    assert.equal(refusal('Collector.Advertise', daemon('startd')), undefined);
    assert.equal(refusal('Master.Shutdown', user), 'PERMISSION_DENIED');
    assert.equal(refusal('Master.Shutdown', daemon('master')), 'PERMISSION_DENIED');
    assert.equal(refusal('Master.Shutdown', admin), undefined);
    assert.equal(refusal('Master.Status', user), undefined);
    assert.equal(refusal('Master.Status', ANONYMOUS), 'UNAUTHENTICATED');
    assert.equal(refusal('Schedd.Submit', daemon('schedd')), 'PERMISSION_DENIED');
    assert.equal(refusal('Schedd.Submit', user), undefined);
    assert.equal(
      refusal('Schedd.JobEvents', daemon('schedd')),
      'PERMISSION_DENIED',
      'a stolen schedd credential sends no job events',
    );
    assert.equal(refusal('Schedd.JobEvents', daemon('startd')), undefined);
    assert.equal(refusal('Schedd.Matched', daemon('startd')), 'PERMISSION_DENIED');
    assert.equal(refusal('Schedd.Matched', daemon('negotiator')), undefined);
    assert.equal(refusal('Startd.RequestClaim', daemon('negotiator')), 'PERMISSION_DENIED');
    assert.equal(refusal('Startd.RequestClaim', daemon('schedd')), undefined);
    assert.equal(refusal('Startd.Drain', daemon('schedd')), 'PERMISSION_DENIED');
    assert.equal(refusal('Startd.Vacate', daemon('negotiator')), undefined);
    assert.equal(refusal('Startd.Vacate', admin), undefined);
    assert.equal(refusal('Startd.Vacate', user), 'PERMISSION_DENIED');
    assert.equal(refusal('Negotiator.SetFactor', daemon('schedd')), 'PERMISSION_DENIED');
    assert.equal(refusal('Startd.Chirp', ANONYMOUS), undefined);
    assert.equal(refusal('Health.Check', ANONYMOUS), undefined, 'probes carry no credential');
    assert.equal(refusal('Health.Watch', ANONYMOUS), 'UNAUTHENTICATED', 'a held stream needs a pool credential');
    assert.equal(refusal('Health.Watch', user), undefined);
    assert.equal(hasLevel(ANONYMOUS, 'READ'), false);
  });

  test('authorization – an admin refusal says who may do it', () => {
    try {
      authorize('Master.Shutdown', user);
      assert.fail('refused');
    } catch (e) {
      assert.match((e as DschedError).message, /only by a pool admin, not by user alice/);
      assert.match((e as DschedError).hint ?? '', /QUEUE_SUPER_USERS/);
    }
  });
});

describe('authorization – identities and names', () => {
  test("identity – a user token gives its name and admin flag, never a daemon's rights", () => {
    const u = userIdentity({ sub: 'user:alice', iat: 0, exp: 0, jti: '', iss: '', admin: true });
    assert.deepEqual(u, { kind: 'user', name: 'alice', admin: true });
    assert.throws(() => authorize('Schedd.JobEvents', u), /PERMISSION_DENIED|only/);
  });

  test('names – the host part of a name, and a configured name qualified with its host', () => {
    assert.equal(hostOfName('slot1_3@exec1'), 'exec1');
    assert.equal(hostOfName('alice@big@exec1'), 'exec1');
    assert.equal(hostOfName('central'), 'central');
    assert.equal(qualifiedName('', 'exec1'), 'exec1');
    assert.equal(qualifiedName('EXEC1', 'exec1'), 'EXEC1');
    assert.equal(qualifiedName('gpu', 'exec1'), 'gpu@exec1');
    assert.equal(qualifiedName('gpu@exec1', 'exec1'), 'gpu@exec1');
  });
});
