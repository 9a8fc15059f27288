/**
 * The configuration schema: one zod object whose defaults are DriftShield's embedded defaults.
 * Every key here is documented in driftshield.config.example.json and the README's table.
 */
import { z } from 'zod';

/** Per-job overrides; each job's default schedule lives with the job (src/jobs). */
const JobOverride = z
  .object({
    schedule: z.string().min(9, 'must be a cron expression like "*/5 * * * *"').optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

export const ConfigSchema = z
  .object({
    server: z
      .object({
        host: z.string().min(1).default('0.0.0.0'),
        port: z.coerce.number().int().min(0).max(65535).default(3001),
        /** Public base URL used for SIWS domain/URI and links in emails. Default: http://localhost:<port>. */
        publicUrl: z.url().optional(),
        /** Milliseconds in-flight requests get to finish on SIGTERM before sockets are closed. */
        shutdownGraceMs: z.coerce.number().int().min(0).default(10_000),
        /** Trust X-Forwarded-* headers (set when behind a reverse proxy). */
        trustProxy: z.boolean().default(false),
        bodyLimitBytes: z.coerce.number().int().min(1024).default(1024 * 1024),
        /** Body limit for receipt and reference-data uploads, which carry raw feature values. */
        uploadLimitBytes: z.coerce.number().int().min(1024).default(64 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    dataDir: z.string().min(1).default('./driftshield-data'),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        systemLogRetentionDays: z.coerce.number().int().min(1).default(30),
      })
      .strict()
      .prefault({}),
    cors: z
      .object({
        /** Origins allowed to call the API from a browser. Empty: same-origin only. "*" allows any. */
        origins: z.array(z.string()).default([]),
      })
      .strict()
      .prefault({}),
    rateLimit: z
      .object({
        enabled: z.boolean().default(true),
        publicPerMinute: z.coerce.number().int().min(1).default(100),
        authenticatedPerMinute: z.coerce.number().int().min(1).default(300),
        sensitivePer15Minutes: z.coerce.number().int().min(1).default(5),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        enabled: z.boolean().default(true),
        /** When set, /metrics requires `Authorization: Bearer <token>`. */
        token: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /** HS256 secret for access tokens. Generated into <data>/secrets on first start when unset. */
        jwtSecret: z.string().min(32, 'must be at least 32 characters').optional(),
        accessTokenTtlSeconds: z.coerce.number().int().min(60).default(15 * 60),
        refreshTokenTtlDays: z.coerce.number().int().min(1).default(30),
        /** SIWS chain id put in sign-in messages. */
        chainId: z.string().min(1).default('solana:mainnet'),
        challengeTtlSeconds: z.coerce.number().int().min(30).default(600),
        clockSkewSeconds: z.coerce.number().int().min(0).default(60),
      })
      .strict()
      .prefault({}),
    db: z
      .object({
        /** Milliseconds a statement waits for a lock before the request fails with 503 + Retry-After. */
        busyTimeoutMs: z.coerce.number().int().min(0).default(5000),
      })
      .strict()
      .prefault({}),
    backup: z
      .object({
        keep: z.coerce.number().int().min(1).default(7),
      })
      .strict()
      .prefault({}),
    scheduler: z
      .object({
        enabled: z.boolean().default(true),
        timezone: z.string().min(1).default('UTC'),
      })
      .strict()
      .prefault({}),
    /** `jobs.<name>.schedule` / `jobs.<name>.enabled` override a job's defaults. */
    jobs: z.record(z.string(), JobOverride).default({}),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Keys whose values are secrets: never logged, never returned, accepted as `<ENV>_FILE` too. */
export const SECRET_KEYS = ['auth.jwtSecret', 'metrics.token'] as const;
