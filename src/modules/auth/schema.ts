/** Sign-in, refresh and logout requests and responses. */
import { z } from 'zod';

export const ChallengeRequest = z
  .object({
    address: z.string().min(32).max(44).describe('Base58 Solana wallet address (ed25519 public key).'),
    setupToken: z.string().min(16).max(128).optional().describe('The one-time token from the first-run admin setup link.'),
  })
  .strict();

export const Challenge = z.object({ message: z.string(), nonce: z.string(), expiresAt: z.string() });

export const VerifyRequest = z
  .object({
    message: z.string().min(1).max(2000),
    signature: z.string().min(1).max(128).describe('Base58 ed25519 signature over the UTF-8 bytes of `message`.'),
    address: z.string().max(44).optional().describe('The signing wallet, when the client knows it; must equal the address in the message.'),
  })
  .strict();

export const UserRef = z.object({ id: z.string(), address: z.string(), role: z.enum(['user', 'admin']) });

export const Tokens = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number().describe('Access token lifetime in seconds.'),
  user: UserRef,
});

export const RefreshRequest = z.object({ refreshToken: z.string().min(1).max(200) }).strict();
