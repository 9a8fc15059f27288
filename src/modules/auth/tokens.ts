/**
 * Access and refresh tokens. Access tokens are short-lived HS256 JWTs (jose) naming the user and
 * the session; refresh tokens are opaque random strings stored only as sha256 hashes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { Database } from '../../db/connection.js';
import { storedSecret } from '../../db/secrets.js';

export interface AccessClaims {
  sub: string;
  sid: string;
}

export class TokenSigner {
  private readonly key: Uint8Array;

  constructor(
    secret: string | undefined,
    db: Database,
    private readonly ttlSeconds: number,
  ) {
    this.key = secret ? new TextEncoder().encode(secret) : new Uint8Array(storedSecret(db, 'jwt-signing-key', () => randomBytes(64)));
  }

  get accessTtlSeconds(): number {
    return this.ttlSeconds;
  }

  async issue(claims: AccessClaims): Promise<string> {
    return new SignJWT({ sid: claims.sid })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.sub)
      .setIssuedAt()
      .setIssuer('driftshield')
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  /** The claims of a valid token, or a reason it is not valid. */
  async verify(token: string): Promise<AccessClaims | 'expired' | 'invalid'> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: 'driftshield', algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') return 'invalid';
      return { sub: payload.sub, sid: payload.sid };
    } catch (err) {
      return err instanceof joseErrors.JWTExpired ? 'expired' : 'invalid';
    }
  }
}

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/** A new opaque refresh token. */
export const newRefreshToken = (): string => `rt_${randomBytes(32).toString('base64url')}`;
