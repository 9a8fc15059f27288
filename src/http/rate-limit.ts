/**
 * Request rate limits with rate-limiter-flexible's in-memory store (one process owns the data dir;
 * a multi-instance deployment swaps in its PostgreSQL store). Anonymous requests count per IP,
 * authenticated ones per user, API keys with their own limit per key, and sensitive routes
 * (sign-in, key creation, withdrawals, setup link) per IP and per wallet address over 15 minutes.
 */
import type { Context } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config/schema.js';
import type { Actor } from './actor.js';
import { tooManyRequests } from './errors.js';

export type RateClass = 'default' | 'sensitive' | 'none';

export class RateLimits {
  private readonly publicLimiter: RateLimiterMemory;
  private readonly userLimiter: RateLimiterMemory;
  private readonly sensitiveLimiter: RateLimiterMemory;
  private readonly keyLimiters = new Map<number, RateLimiterMemory>();

  constructor(private readonly config: Config['rateLimit']) {
    this.publicLimiter = new RateLimiterMemory({ keyPrefix: 'pub', points: config.publicPerMinute, duration: 60 });
    this.userLimiter = new RateLimiterMemory({ keyPrefix: 'usr', points: config.authenticatedPerMinute, duration: 60 });
    this.sensitiveLimiter = new RateLimiterMemory({ keyPrefix: 'sen', points: config.sensitivePer15Minutes, duration: 900 });
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  /** Counts one request against the limiter that fits the actor, setting RateLimit-* headers. */
  async consume(ctx: Context, actor: Actor): Promise<void> {
    if (!this.config.enabled) return;
    if (actor.kind === 'user' && actor.apiKeyId && actor.apiKeyRateLimitPerMinute) {
      const perMinute = actor.apiKeyRateLimitPerMinute;
      let limiter = this.keyLimiters.get(perMinute);
      if (!limiter) {
        limiter = new RateLimiterMemory({ keyPrefix: `key${perMinute}`, points: perMinute, duration: 60 });
        this.keyLimiters.set(perMinute, limiter);
      }
      await this.take(ctx, limiter, actor.apiKeyId, perMinute);
    }
    if (actor.kind === 'user') await this.take(ctx, this.userLimiter, actor.userId, this.config.authenticatedPerMinute);
    else await this.take(ctx, this.publicLimiter, ctx.ip, this.config.publicPerMinute);
  }

  /** Counts a sensitive operation against `key` (an IP or a wallet address). */
  async consumeSensitive(ctx: Context, key: string): Promise<void> {
    if (!this.config.enabled) return;
    await this.take(ctx, this.sensitiveLimiter, key, this.config.sensitivePer15Minutes);
  }

  private async take(ctx: Context, limiter: RateLimiterMemory, key: string, limit: number): Promise<void> {
    try {
      const res = await limiter.consume(key);
      setHeaders(ctx, limit, res);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      setHeaders(ctx, limit, rejection);
      throw tooManyRequests(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
    }
  }
}

function setHeaders(ctx: Context, limit: number, res: RateLimiterRes): void {
  // When several limiters apply, the most constrained one wins the headers.
  const remaining = Math.max(0, res.remainingPoints);
  const current = Number(ctx.response.get('RateLimit-Remaining'));
  if (ctx.response.get('RateLimit-Remaining') !== '' && current <= remaining) return;
  ctx.set('RateLimit-Limit', String(limit));
  ctx.set('RateLimit-Remaining', String(remaining));
  ctx.set('RateLimit-Reset', String(Math.ceil(res.msBeforeNext / 1000)));
}
