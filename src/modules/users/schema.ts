/** Request and response schemas for users: profiles, settings and the admin user list. */
import { z } from 'zod';

const validTimezone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/**
 * Which notification groups reach the user's own channels. Defaults are the original
 * prototype's: email on for drift warnings, expiring markets, winnings and insurance claims; off
 * for new markets; SMS critical alerts off; webhook off. In-app notifications are always on.
 * Each notification kind names its email and SMS group in src/modules/notifications/kinds.ts;
 * SMS and webhook settings apply to integrations that do not list their own `events`.
 */
export const NotificationPreferences = z
  .object({
    email: z
      .object({
        driftWarnings: z.boolean().default(true),
        marketExpiring: z.boolean().default(true),
        winningsAvailable: z.boolean().default(true),
        insuranceClaims: z.boolean().default(true),
        newMarkets: z.boolean().default(false),
        wallet: z.boolean().default(true),
        /** Model stale or unreachable. */
        modelHealth: z.boolean().default(true),
        /** Ledger mismatches (admins only receive them). */
        adminAlerts: z.boolean().default(true),
        /** One of your integrations was disabled after repeated failures. */
        integrationProblems: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    sms: z.object({ criticalAlerts: z.boolean().default(false) }).strict().prefault({}),
    /** When enabled, your webhook and chat integrations without their own `events` list receive every kind. */
    webhook: z.object({ enabled: z.boolean().default(false) }).strict().prefault({}),
  })
  .strict();

export const UserSettings = z
  .object({
    notifications: NotificationPreferences.prefault({}),
    theme: z.enum(['system', 'light', 'dark']).default('system'),
    timezone: z.string().max(64).refine(validTimezone, 'must be an IANA time zone such as "Europe/Berlin"').default('UTC'),
    leaderboardVisible: z.boolean().default(true),
    publicProfile: z.boolean().default(true),
  })
  .strict();
export type UserSettings = z.infer<typeof UserSettings>;

export const Me = z.object({
  id: z.string(),
  address: z.string(),
  role: z.enum(['user', 'admin']),
  active: z.boolean(),
  username: z.string().nullable(),
  displayName: z.string().nullable(),
  avatarUrl: z.string().nullable(),
  bio: z.string().nullable(),
  email: z.string().nullable(),
  emailVerified: z.boolean(),
  createdAt: z.string(),
  lastSignInAt: z.string().nullable(),
});

export const UpdateMe = z
  .object({
    username: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{3,32}$/, 'must be 3-32 letters, digits, _ or -')
      .nullable(),
    displayName: z.string().trim().min(1).max(80).nullable(),
    avatarUrl: z.url({ protocol: /^https?$/ }).max(500).nullable(),
    bio: z.string().max(1000).nullable(),
    email: z.email().max(254).nullable(),
  })
  .partial()
  .strict();

export const AdminUpdateUser = z
  .object({ role: z.enum(['user', 'admin']), active: z.boolean() })
  .partial()
  .strict()
  .refine((v) => v.role !== undefined || v.active !== undefined, 'give role or active');

export const UserIdParams = z.object({ id: z.string().min(1).max(64) });

