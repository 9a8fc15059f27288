/** Request and response schemas for notifications and email verification. */
import { z } from 'zod';
import { PageQuery, pageOf } from '../../http/pagination.js';
import { NOTIFICATION_KINDS } from './kinds.js';

export const NotificationKindSchema = z.enum(NOTIFICATION_KINDS);

export const Notification = z.object({
  id: z.string(),
  kind: z.string(),
  severity: z.enum(['info', 'warning', 'critical']),
  title: z.string(),
  body: z.string(),
  data: z.record(z.string(), z.unknown()),
  read: z.boolean(),
  readAt: z.string().nullable(),
  createdAt: z.string(),
});

export const NotificationPage = pageOf(Notification).extend({ unreadCount: z.number().int() });

export const NotificationQuery = PageQuery.extend({
  unread: z.enum(['true', 'false', '1', '0', '']).transform((v) => v === 'true' || v === '1' || v === '').optional(),
});

export const NotificationParams = z.object({ id: z.string().min(1).max(64) });

export const StartEmailVerification = z.object({ email: z.email().max(254).transform((e) => e.toLowerCase()) }).strict();
export const ConfirmEmail = z.object({ code: z.string().regex(/^\d{6}$/, 'must be the 6-digit code from the email') }).strict();
