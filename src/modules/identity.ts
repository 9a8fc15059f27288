/** The identity module: wires sign-in, tokens, users, API keys and audit into the app, and
 * prints the first-run admin setup link. */
import type { AppContext } from '../context.js';
import { registerApiKeyRoutes } from './api-keys/routes.js';
import { KeyUsageRecorder } from './api-keys/service.js';
import { registerAuditRoutes } from './audit/routes.js';
import { IdentityAuthenticator } from './auth/authenticator.js';
import { registerAuthRoutes } from './auth/routes.js';
import { AuthService } from './auth/service.js';
import { issueSetupToken } from './auth/setup-link.js';
import { TokenSigner } from './auth/tokens.js';
import { registerUserRoutes } from './users/routes.js';

export function registerIdentity(context: AppContext): void {
  const { config, db } = context;
  const signer = new TokenSigner(config.auth.jwtSecret, db, config.auth.accessTokenTtlSeconds);
  const usage = new KeyUsageRecorder(db);
  context.authenticator = new IdentityAuthenticator(db, signer, usage);
  const auth = new AuthService(db, signer, () => {
    const base = new URL(context.publicUrl());
    return {
      domain: base.host,
      uri: base.origin,
      chainId: config.auth.chainId,
      challengeTtlMs: config.auth.challengeTtlSeconds * 1000,
      clockSkewMs: config.auth.clockSkewSeconds * 1000,
      refreshTtlMs: config.auth.refreshTokenTtlDays * 86_400_000,
    };
  });
  registerAuthRoutes(context, auth);
  registerUserRoutes(context);
  registerApiKeyRoutes(context);
  registerAuditRoutes(context);

  context.onListening.push(async () => {
    const token = await issueSetupToken(db);
    if (token) {
      context.announce(`No admin yet. Open ${context.publicUrl()}/setup#token=${token} within 30 minutes and sign in with the wallet that should administer this server.`);
    }
  });
  context.onClose.push(() => usage.flush());
}
