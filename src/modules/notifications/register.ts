/**
 * Wires notifications, integrations, analytics and the admin log reader into the app: the
 * notifications and analytics durable outbox subscribers, the delivery worker and its
 * `deliver-notifications` job, and their routes.
 */
import { randomBytes } from 'node:crypto';
import type { AppContext } from '../../context.js';
import { storedSecret } from '../../db/secrets.js';
import { SecretBox } from '../../lib/secret-box.js';
import { registerLogRoutes } from '../analytics/logs.js';
import { registerAnalyticsRoutes } from '../analytics/routes.js';
import { recordServerEvents } from '../analytics/service.js';
import { registerIntegrationRoutes } from '../integrations/routes.js';
import { Channels } from './channels.js';
import { Deliverer, type MessagingKeys } from './deliverer.js';
import { registerNotificationRoutes } from './routes.js';
import { alertRulesFor, notifyFromEvents } from './service.js';

export function registerMessaging(context: AppContext): void {
  const { db, config } = context;

  const keys: MessagingKeys = {
    box: SecretBox.forDatabase(db),
    modelWebhookKey: storedSecret(db, 'model-webhook-key', () => randomBytes(32)),
  };
  const channels = new Channels(config);
  const deliverer = new Deliverer(context, channels, keys);

  // Both durable subscribers take a page of events per transaction: a 1,000-receipt batch must not
  // cost 1,000 commits here.
  context.outbox.subscribeBatch(
    'notifications',
    async (events) => {
      const relevant = events.filter((event) => alertRulesFor(event).length > 0);
      if (!relevant.length) return;
      const queued = await db.write((tx) => notifyFromEvents(tx, relevant, config, context.logger));
      if (queued) deliverer.kick();
    },
    { durable: true },
  );
  context.outbox.subscribeBatch('analytics', (events) => db.write((tx) => recordServerEvents(tx, events)), { durable: true });

  context.scheduler.register({
    name: 'deliver-notifications',
    description: `Sends due email, webhook, chat and SMS deliveries, retrying failures with backoff for up to ${config.notifications.maxRetryHours} h.`,
    schedule: '* * * * *',
    run: () => deliverer.runDue(),
  });
  context.onListening.push(() => deliverer.kick());
  context.onClose.push(() => deliverer.stop());

  registerNotificationRoutes(context, channels);
  registerIntegrationRoutes(context, channels, keys);
  registerAnalyticsRoutes(context);
  registerLogRoutes(context);
}
