// User tokens (lib/rpc/auth.ts): a token verified once is not verified again on every call, and that changes
// nothing of what is accepted.
import { strict as assert } from 'node:assert';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, mock, test } from 'node:test';
import { signToken, verifyToken } from '../../../lib/rpc/auth.js';

const pool = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');

describe('rpc – user tokens', () => {
  test('rpc – a token is accepted again, and refused once it has expired', () => {
    const token = signToken(pool.privateKey, { user: 'alice', ttl: 60 });
    assert.equal(verifyToken(pool.publicKey, token).sub, 'user:alice');
    assert.equal(verifyToken(pool.publicKey, token).sub, 'user:alice');
    const now = Date.now();
    mock.method(Date, 'now', () => now + 120_000);
    try {
      assert.throws(() => verifyToken(pool.publicKey, token), /token expired/);
    } finally {
      mock.restoreAll();
    }
  });

  test("rpc – a token accepted by one pool's key is still refused by another's", () => {
    const token = signToken(pool.privateKey, { user: 'bob' });
    verifyToken(pool.publicKey, token);
    assert.throws(() => verifyToken(other.publicKey, token), /signature does not match/);
    // the same key read again is another key object: the token is checked again, and passes
    const again = createPublicKey(pool.publicKey.export({ type: 'spki', format: 'pem' }));
    assert.equal(verifyToken(again, token).sub, 'user:bob');
  });

  test('rpc – a token changed after it was accepted is refused', () => {
    const token = signToken(pool.privateKey, { user: 'carol' });
    verifyToken(pool.publicKey, token);
    const [head, , sig] = token.split('.');
    const forged = `${head}.${Buffer.from(JSON.stringify({ sub: 'user:root', exp: 9e9, admin: true })).toString('base64url')}.${sig}`;
    assert.throws(() => verifyToken(pool.publicKey, forged), /signature does not match/);
  });
});
