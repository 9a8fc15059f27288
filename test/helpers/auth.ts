/**
 * Signs in like a wallet would: a tweetnacl keypair signs the server's SIWS message. Tests use
 * this to get real access tokens; `makeAdmin` promotes through the same service the CLI uses.
 */
import bs58 from 'bs58';
import nacl from 'tweetnacl';
import { promoteAddress } from '../../src/modules/users/service.js';
import type { TestServer } from './server.js';

export interface Wallet {
  address: string;
  secretKey: Uint8Array;
  sign(message: string): string;
}

export function newWallet(): Wallet {
  const kp = nacl.sign.keyPair();
  return {
    address: bs58.encode(kp.publicKey),
    secretKey: kp.secretKey,
    sign: (message) => bs58.encode(nacl.sign.detached(new TextEncoder().encode(message), kp.secretKey)),
  };
}

export interface SignedIn {
  wallet: Wallet;
  accessToken: string;
  refreshToken: string;
  user: { id: string; address: string; role: 'user' | 'admin' };
}

export async function signIn(server: TestServer, wallet: Wallet = newWallet(), setupToken?: string): Promise<SignedIn> {
  const challenge = await server.api('POST', '/api/v1/auth/challenge', { body: { address: wallet.address, ...(setupToken ? { setupToken } : {}) } });
  if (challenge.status !== 200) throw new Error(`challenge failed: ${challenge.status} ${JSON.stringify(challenge.body)}`);
  const verify = await server.api('POST', '/api/v1/auth/verify', { body: { message: challenge.body.message, signature: wallet.sign(challenge.body.message) } });
  if (verify.status !== 200) throw new Error(`verify failed: ${verify.status} ${JSON.stringify(verify.body)}`);
  return { wallet, accessToken: verify.body.accessToken, refreshToken: verify.body.refreshToken, user: verify.body.user };
}

/** Signs in a new wallet and makes it an admin. */
export async function signInAdmin(server: TestServer): Promise<SignedIn> {
  const wallet = newWallet();
  await promoteAddress(server.handle.context.db, wallet.address);
  return signIn(server, wallet);
}

/** Creates an API key for a signed-in user and returns its secret. */
export async function createApiKey(server: TestServer, who: SignedIn, scopes: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const res = await server.api('POST', '/api/v1/api-keys', { token: who.accessToken, body: { name: 'test key', scopes, ...extra } });
  if (res.status !== 201) throw new Error(`api key creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.secret;
}
