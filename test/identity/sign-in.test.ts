/** Sign-In With Solana through the real server: the happy path and every refusal of specs/solana.md. */
import bs58 from 'bs58';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWallet, signIn } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

async function challenge(address: string) {
  const res = await server.api('POST', '/api/v1/auth/challenge', { body: { address } });
  expect(res.status).toBe(200);
  return res.body as { message: string; nonce: string; expiresAt: string };
}

describe('sign-in', () => {
  it('issues a SIWS message for this server and signs the wallet in, creating its user', async () => {
    const wallet = newWallet();
    const c = await challenge(wallet.address);
    const host = new URL(server.url).host.replace('127.0.0.1', 'localhost');
    expect(c.message.split('\n')).toEqual([
      `${host} wants you to sign in with your Solana account:`,
      wallet.address,
      '',
      'Sign in to DriftShield.',
      '',
      `URI: http://${host}`,
      'Version: 1',
      'Chain ID: solana:mainnet',
      `Nonce: ${c.nonce}`,
      expect.stringMatching(/^Issued At: \d{4}-/),
      `Expiration Time: ${c.expiresAt}`,
    ]);
    expect(Date.parse(c.expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);
    const res = await server.api('POST', '/api/v1/auth/verify', { body: { message: c.message, signature: wallet.sign(c.message) } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ expiresIn: 900, user: { address: wallet.address, role: 'user' } });
    const me = await server.api('GET', '/api/v1/me', { token: res.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(res.body.user.id);
  });

  it('returns the same user on a second sign-in of the same wallet', async () => {
    const wallet = newWallet();
    const a = await signIn(server, wallet);
    const b = await signIn(server, wallet);
    expect(b.user.id).toBe(a.user.id);
  });

  const refusals: Array<[string, (w: ReturnType<typeof newWallet>, c: { message: string }) => Record<string, unknown>, number, string]> = [
    ['bad signature', (w, c) => ({ message: c.message, signature: w.sign(c.message + 'x') }), 401, 'invalid_signature'],
    ['altered message', (w, c) => { const m = c.message.replace('Sign in to DriftShield.', 'Sign in to DriftShield!'); return { message: m, signature: w.sign(m) }; }, 401, 'message_mismatch'],
    ['wrong domain', (w, c) => { const m = c.message.replace(/^[^ ]+/, 'evil.example'); return { message: m, signature: w.sign(m) }; }, 401, 'wrong_domain'],
    ['wrong URI', (w, c) => { const m = c.message.replace(/URI: .*/, 'URI: http://evil.example'); return { message: m, signature: w.sign(m) }; }, 401, 'wrong_uri'],
    ['wrong chain', (w, c) => { const m = c.message.replace(/Chain ID: .*/, 'Chain ID: solana:devnet'); return { message: m, signature: w.sign(m) }; }, 401, 'wrong_chain'],
    ['address not the signer', (_w, c) => ({ message: c.message, signature: newWallet().sign(c.message) }), 401, 'invalid_signature'],
    ['declared signer differs from the message address', (w, c) => ({ message: c.message, signature: w.sign(c.message), address: newWallet().address }), 401, 'address_mismatch'],
    ['unknown nonce', (w, c) => { const m = c.message.replace(/Nonce: .*/, 'Nonce: AAAAAAAAAAAAAAAAAAAAAAAA'); return { message: m, signature: w.sign(m) }; }, 401, 'unknown_nonce'],
    ['malformed base58 signature', (_w, c) => ({ message: c.message, signature: '0OIl' }), 400, 'invalid_signature_encoding'],
    ['signature of the wrong length', (_w, c) => ({ message: c.message, signature: bs58.encode(new Uint8Array(63)) }), 400, 'invalid_signature_encoding'],
  ];

  it.each(refusals)('refuses %s', async (_name, build, status, code) => {
    const wallet = newWallet();
    const c = await challenge(wallet.address);
    const res = await server.api('POST', '/api/v1/auth/verify', { body: build(wallet, c) });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.code).toBe(code);
    // The refused challenge still works for its real owner: a refusal consumed nothing.
    const ok = await server.api('POST', '/api/v1/auth/verify', { body: { message: c.message, signature: wallet.sign(c.message) } });
    expect(ok.status).toBe(200);
  });

  it('refuses a reused nonce, and of two concurrent verifies exactly one succeeds', async () => {
    const wallet = newWallet();
    const c = await challenge(wallet.address);
    const body = { message: c.message, signature: wallet.sign(c.message) };
    const results = await Promise.all([server.api('POST', '/api/v1/auth/verify', { body }), server.api('POST', '/api/v1/auth/verify', { body })]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(results.find((r) => r.status === 401)!.body.code).toBe('nonce_used');
    const again = await server.api('POST', '/api/v1/auth/verify', { body });
    expect(again.body.code).toBe('nonce_used');
  });

  it('refuses an expired challenge', async () => {
    const wallet = newWallet();
    const c = await challenge(wallet.address);
    await server.handle.context.db.write((tx) => tx.updateTable('auth_challenges').set({ expires_at: Date.now() - 10 * 60_000 }).where('nonce', '=', c.nonce).execute());
    const res = await server.api('POST', '/api/v1/auth/verify', { body: { message: c.message, signature: wallet.sign(c.message) } });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('expired_nonce');
  });

  it('rejects a malformed address with 400 naming the field', async () => {
    const res = await server.api('POST', '/api/v1/auth/challenge', { body: { address: 'not-base58-0OIl-but-long-enough-for-zod!!' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_address');
    expect(res.body.errors[0].path).toBe('address');
  });

  it('records sign-ins and failed sign-ins in the audit log', async () => {
    const wallet = newWallet();
    const c = await challenge(wallet.address);
    await server.api('POST', '/api/v1/auth/verify', { body: { message: c.message, signature: newWallet().sign(c.message) } });
    const rows = await server.handle.context.db.kysely.selectFrom('audit_log').select(['action', 'detail']).where('action', '=', 'auth.sign_in_failed').execute();
    expect(rows.some((r) => r.detail?.includes(wallet.address) && r.detail.includes('invalid_signature'))).toBe(true);
  });
});
