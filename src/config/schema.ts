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
        host: z.string().min(1).default('0.0.0.0').describe('Address to listen on.'),
        port: z.coerce.number().int().min(0).max(65535).default(3001).describe('TCP port (0 picks a free one).'),
        publicUrl: z.url().optional().describe('Public base URL: the SIWS domain and URI, and links in emails. Default http://localhost:<port>.'),
        shutdownGraceMs: z.coerce.number().int().min(0).default(10_000).describe('Milliseconds in-flight requests get to finish on SIGTERM before connections are closed.'),
        trustProxy: z.boolean().default(false).describe('Trust X-Forwarded-* headers (set behind a reverse proxy).'),
        bodyLimitBytes: z.coerce.number().int().min(1024).default(1024 * 1024).describe('Largest request body on ordinary routes (413 above it).'),
        uploadLimitBytes: z.coerce.number().int().min(1024).default(64 * 1024 * 1024).describe('Largest body on the receipt and reference-data routes, which carry raw feature values.'),
      })
      .strict()
      .prefault({}),
    dataDir: z.string().min(1).default('./driftshield-data').describe('Data directory: the database, keys, backups.'),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level of the JSON log on stdout.'),
        systemLogRetentionDays: z.coerce.number().int().min(1).default(30).describe('Days warnings and errors are kept in system_logs.'),
      })
      .strict()
      .prefault({}),
    cors: z
      .object({
        origins: z.array(z.string()).default([]).describe('Origins allowed to call the API from a browser; empty means same-origin only, "*" any.'),
      })
      .strict()
      .prefault({}),
    rateLimit: z
      .object({
        enabled: z.boolean().default(true).describe('Turn rate limiting off (e.g. behind a gateway that limits).'),
        publicPerMinute: z.coerce.number().int().min(1).default(100).describe('Requests a minute per IP for anonymous clients.'),
        authenticatedPerMinute: z.coerce.number().int().min(1).default(300).describe('Requests a minute per signed-in user.'),
        sensitivePer15Minutes: z.coerce.number().int().min(1).default(5).describe('Sign-in, API-key creation, withdrawals and setup-link use per IP and per wallet in 15 minutes.'),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        enabled: z.boolean().default(true).describe('Serve /metrics.'),
        token: z.string().min(1).optional().describe('When set, /metrics needs `Authorization: Bearer <token>`.'),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        jwtSecret: z.string().min(32, 'must be at least 32 characters').optional().describe('HS256 key for access tokens (32+ chars); generated into <data>/secrets when unset.'),
        accessTokenTtlSeconds: z.coerce.number().int().min(60).default(15 * 60).describe('Access token lifetime.'),
        refreshTokenTtlDays: z.coerce.number().int().min(1).default(30).describe('Refresh token lifetime (rotated on every use).'),
        chainId: z.string().min(1).default('solana:mainnet').describe('Chain ID written into sign-in messages.'),
        challengeTtlSeconds: z.coerce.number().int().min(30).default(600).describe('How long a sign-in challenge is valid.'),
        clockSkewSeconds: z.coerce.number().int().min(0).default(60).describe('Tolerated clock difference when checking sign-in message times.'),
      })
      .strict()
      .prefault({}),
    db: z
      .object({
        busyTimeoutMs: z.coerce.number().int().min(0).default(5000).describe('Milliseconds a statement waits for a lock before the request fails with 503 + Retry-After.'),
      })
      .strict()
      .prefault({}),
    backup: z
      .object({
        keep: z.coerce.number().int().min(1).default(7).describe('Scheduled backups kept in <data>/backups.'),
      })
      .strict()
      .prefault({}),
    scheduler: z
      .object({
        enabled: z.boolean().default(true).describe('Run scheduled jobs (off: only run-now).'),
        timezone: z.string().min(1).default('UTC').describe("Time zone of the jobs' cron expressions."),
      })
      .strict()
      .prefault({}),
    smtp: z
      .object({
        host: z.string().min(1).optional().describe('SMTP server for outgoing mail; without it no email is sent.'),
        port: z.coerce.number().int().min(1).max(65535).default(587).describe('SMTP port (587 for STARTTLS, 465 for implicit TLS).'),
        secure: z.boolean().default(false).describe('Implicit TLS from the first byte (usually port 465).'),
        starttls: z.boolean().default(true).describe('Require STARTTLS on a plain connection; false allows plaintext (local relays only).'),
        user: z.string().min(1).optional().describe('SMTP user name (omit for relays without auth).'),
        pass: z.string().min(1).optional().describe('SMTP password.'),
        from: z.string().min(3).default('DriftShield <driftshield@localhost>').describe('From header of every email.'),
      })
      .strict()
      .prefault({}),
    sms: z
      .object({
        url: z.url().default('https://api.twilio.com/2010-04-01/Accounts/{accountSid}/Messages.json').describe('Twilio-compatible messages endpoint (form POST, basic auth); {accountSid} is replaced.'),
        accountSid: z.string().min(1).optional().describe('SMS provider account id (basic-auth user); without it no SMS is sent.'),
        authToken: z.string().min(1).optional().describe('SMS provider auth token (basic-auth password).'),
        from: z.string().min(1).optional().describe('Sender number or id of SMS messages.'),
      })
      .strict()
      .prefault({}),
    notifications: z
      .object({
        throttleMinutes: z.coerce.number().int().min(0).default(60).describe('At most one identical alert (same model and kind) per this many minutes; recovery is always announced.'),
        retryBaseSeconds: z.coerce.number().int().min(0).default(30).describe('First retry delay of a failed delivery; doubles per attempt, capped at one hour.'),
        maxRetryHours: z.coerce.number().min(0).default(24).describe('A delivery still failing this long after it was created is given up.'),
        webhookFailureLimit: z.coerce.number().int().min(1).default(10).describe('Consecutive failed attempts after which a webhook or chat integration is disabled (its owner is notified).'),
        deliveryTimeoutMs: z.coerce.number().int().min(100).default(10_000).describe('Timeout of one webhook, chat or SMS request.'),
      })
      .strict()
      .prefault({}),
    settlement: z
      .object({
        mode: z.enum(['ledger', 'solana']).default('ledger').describe('Where balances live: "ledger" (internal credits an admin adjusts; nothing touches a chain) or "solana" (USDC deposits and withdrawals on Solana; needs the solana.* keys).'),
      })
      .strict()
      .prefault({}),
    solana: z
      .object({
        rpcUrl: z.url({ protocol: /^https?$/ }).optional().describe('Solana JSON-RPC URL (required in solana mode), e.g. https://api.devnet.solana.com. Never logged: hosted URLs carry API keys.'),
        commitment: z.enum(['confirmed', 'finalized']).default('finalized').describe('Commitment a deposit must reach before it is credited.'),
        usdcMint: z.string().min(32).max(44).optional().describe('USDC mint address (required in solana mode); devnet USDC is 4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU.'),
        treasuryKeypairPath: z.string().min(1).optional().describe('Treasury keypair file in the Solana CLI format (JSON array of 64 bytes, mode 0600); create one with `driftshield keys generate --out FILE`.'),
        treasuryKeypair: z.string().min(1).optional().describe('The treasury keypair JSON itself, instead of a file (e.g. from DRIFTSHIELD_SOLANA__TREASURY_KEYPAIR_FILE).'),
      })
      .strict()
      .prefault({}),
    withdrawals: z
      .object({
        minMicros: z.coerce.number().int().min(1).default(1_000_000).describe('Smallest withdrawal, in micro-USDC (default 1 USDC).'),
        feeMicros: z.coerce.number().int().min(0).default(0).describe('Fee charged on top of each withdrawal, in micro-USDC, booked to platform:fees.'),
        dailyLimitMicros: z.coerce.number().int().min(1).default(10_000_000_000).describe('Most a user may withdraw in any 24 hours, in micro-USDC (default 10,000 USDC).'),
      })
      .strict()
      .prefault({}),
    receipts: z
      .object({
        referenceCapPerFeature: z.coerce.number().int().min(100).default(100_000).describe('Reference values kept per feature; larger uploads are reservoir-sampled down to this many.'),
        storeCurrentValues: z.boolean().default(false).describe("Keep each receipt's raw current feature values (off: only the computed results are stored)."),
        currentValuesRetentionDays: z.coerce.number().int().min(1).default(30).describe('Raw current values older than this are dropped by the retention job; receipts, results and the chain are never touched.'),
      })
      .strict()
      .prefault({}),
    oracle: z
      .object({
        keypairPath: z.string().min(1).optional().describe('Ed25519 key signing receipts and anchors, as a Solana CLI keypair file (JSON array of 64 bytes). Default: generated on first start and kept in the database.'),
        keypair: z.string().min(1).optional().describe('The oracle keypair JSON itself, instead of a file.'),
      })
      .strict()
      .prefault({}),
    monitoring: z
      .object({
        pullTimeoutMs: z.coerce.number().int().min(100).default(10_000).describe('Timeout of one pull-monitoring request.'),
        pullRetries: z.coerce.number().int().min(0).max(10).default(2).describe('Retries after a failed pull (exponential backoff).'),
        pullRetryBackoffMs: z.coerce.number().int().min(0).default(1000).describe('First retry delay of a failed pull; doubles per retry.'),
        unreachableAfterFailures: z.coerce.number().int().min(1).default(3).describe('Consecutive failed pulls (each after its retries) after which a model is "unreachable".'),
      })
      .strict()
      .prefault({}),
    /** `jobs.<name>.schedule` / `jobs.<name>.enabled` override a job's defaults. */
    jobs: z.record(z.string(), JobOverride).default({}).describe('Per-job overrides: `jobs.<name>.schedule` (cron) and `jobs.<name>.enabled`. See GET /api/v1/admin/jobs for the names.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    // Solana settlement cannot start half-configured: name every missing key at once.
    if (c.settlement.mode !== 'solana') return;
    const need = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (!c.solana.rpcUrl) need(['solana', 'rpcUrl'], 'required when settlement.mode is "solana"');
    if (!c.solana.usdcMint) need(['solana', 'usdcMint'], 'required when settlement.mode is "solana"');
    if (!c.solana.treasuryKeypairPath && !c.solana.treasuryKeypair) need(['solana', 'treasuryKeypairPath'], 'required when settlement.mode is "solana" (or give solana.treasuryKeypair)');
    if (c.solana.treasuryKeypairPath && c.solana.treasuryKeypair) need(['solana', 'treasuryKeypair'], 'give solana.treasuryKeypairPath or solana.treasuryKeypair, not both');
  });

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Keys whose values are secrets: never logged, never returned, accepted as `<ENV>_FILE` too. */
export const SECRET_KEYS = ['auth.jwtSecret', 'metrics.token', 'smtp.pass', 'sms.authToken', 'solana.treasuryKeypair', 'oracle.keypair'] as const;
