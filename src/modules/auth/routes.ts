/** /auth: SIWS challenge and verify, token refresh, logout. */
import type { AppContext } from '../../context.js';
import { parseSiwsMessage } from './siws.js';
import { Challenge, ChallengeRequest, RefreshRequest, Tokens, VerifyRequest } from './schema.js';
import type { AuthService } from './service.js';

export function registerAuthRoutes({ api }: AppContext, auth: AuthService): void {
  api.route(
    {
      method: 'post',
      path: '/auth/challenge',
      summary: 'Get a Sign-In With Solana message to sign (single use, valid 10 minutes)',
      tag: 'Auth',
      access: 'public',
      rateLimit: 'sensitive',
      sensitiveKey: ({ body }) => body.address,
      body: ChallengeRequest,
      response: Challenge,
    },
    async ({ body }) => auth.challenge(body.address, body.setupToken),
  );

  api.route(
    {
      method: 'post',
      path: '/auth/verify',
      summary: 'Exchange a signed sign-in message for tokens (creates the user on first sign-in)',
      tag: 'Auth',
      access: 'public',
      rateLimit: 'sensitive',
      sensitiveKey: ({ body }) => parseSiwsMessage(body.message)?.address,
      body: VerifyRequest,
      response: Tokens,
    },
    async ({ body, ctx }) => {
      ctx.set('Cache-Control', 'no-store');
      return auth.verify(body, { ip: ctx.ip, userAgent: ctx.get('User-Agent') });
    },
  );

  api.route(
    {
      method: 'post',
      path: '/auth/refresh',
      summary: 'Rotate a refresh token for new tokens (reusing an old one revokes the session)',
      tag: 'Auth',
      access: 'public',
      body: RefreshRequest,
      response: Tokens,
    },
    async ({ body, ctx }) => {
      ctx.set('Cache-Control', 'no-store');
      return auth.refresh(body.refreshToken, ctx.ip);
    },
  );

  api.route(
    { method: 'post', path: '/auth/logout', summary: 'End the current session', tag: 'Auth', access: 'user', status: 204 },
    async ({ actor, ctx }) => {
      if (actor.sessionId) await auth.logout({ ...actor, sessionId: actor.sessionId }, ctx.ip);
      ctx.status = 204;
      return undefined;
    },
  );
}
