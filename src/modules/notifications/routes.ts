/** /notifications (list, read, read-all) and /me/email (verification). */
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { serviceUnavailable } from '../../http/errors.js';
import { decodeCursor, page } from '../../http/pagination.js';
import { presentMe } from '../users/present.js';
import { Me } from '../users/schema.js';
import type { Channels } from './channels.js';
import { CODE_TTL_MS, confirmEmail, invalidCode, startEmailVerification } from './email-verification.js';
import { presentNotification } from './present.js';
import { ConfirmEmail, Notification, NotificationPage, NotificationParams, NotificationQuery, StartEmailVerification } from './schema.js';
import { countUnread, listNotifications, markAllRead, markRead } from './service.js';

export function registerNotificationRoutes({ api, db }: AppContext, channels: Channels): void {
  api.route(
    { method: 'get', path: '/notifications', summary: 'Your notifications, newest first (unread=true for unread only)', tag: 'Notifications', access: 'user', query: NotificationQuery, response: NotificationPage },
    async ({ actor, query }) => {
      const rows = await listNotifications(db.kysely, actor.userId, { unread: query.unread, after: decodeCursor(query.cursor), limit: query.limit });
      return { ...page(rows, query.limit, presentNotification), unreadCount: await countUnread(db.kysely, actor.userId) };
    },
  );

  api.route(
    { method: 'post', path: '/notifications/read-all', summary: 'Mark all your notifications read', tag: 'Notifications', access: 'user', response: z.object({ updated: z.number().int() }) },
    async ({ actor }) => ({ updated: await db.write((tx) => markAllRead(tx, actor.userId)) }),
  );

  api.route(
    { method: 'post', path: '/notifications/:id/read', summary: 'Mark one notification read', tag: 'Notifications', access: 'user', params: NotificationParams, response: Notification },
    async ({ actor, params }) => presentNotification(await db.write((tx) => markRead(tx, actor.userId, params.id))),
  );

  api.route(
    {
      method: 'post',
      path: '/me/email',
      summary: 'Send a verification code to an email address; it becomes yours once verified',
      tag: 'Users',
      access: 'user',
      rateLimit: 'sensitive',
      body: StartEmailVerification,
      status: 202,
      response: z.object({ email: z.string(), expiresAt: z.string() }),
    },
    async ({ actor, body }) => {
      if (!channels.emailConfigured) throw serviceUnavailable('email_not_configured', 'This server has no SMTP server configured.', 3600);
      const code = await db.write((tx) => startEmailVerification(tx, actor.userId, body.email));
      const minutes = CODE_TTL_MS / 60_000;
      const sent = await channels.sendMail(
        body.email,
        `[DriftShield] Your verification code: ${code}`,
        `Your DriftShield verification code is ${code}.\n\nIt expires in ${minutes} minutes. If you did not ask for it, ignore this email.\n`,
        `<p>Your DriftShield verification code is <strong style="font-size:20px;letter-spacing:2px">${code}</strong>.</p><p>It expires in ${minutes} minutes. If you did not ask for it, ignore this email.</p>`,
      );
      if (!sent.ok) throw serviceUnavailable('email_send_failed', 'The verification email could not be sent; try again later.', 60);
      return { email: body.email, expiresAt: new Date(Date.now() + CODE_TTL_MS).toISOString() };
    },
  );

  api.route(
    { method: 'post', path: '/me/email/verify', summary: 'Confirm your email address with the code sent to it', tag: 'Users', access: 'user', rateLimit: 'sensitive', body: ConfirmEmail, response: Me },
    async ({ actor, body }) => {
      const result = await db.write((tx) => confirmEmail(tx, actor.userId, body.code));
      if ('triesLeft' in result) throw invalidCode(result.triesLeft);
      return presentMe(result);
    },
  );
}
