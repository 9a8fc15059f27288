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
import { serverEventRecorder } from '../analytics/service.js';
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

  // Both are durable subscribers: a page of events in the dispatcher's transaction, so a
  // 1,000-receipt batch costs no commit of its own here.
  context.outbox.subscribeDurable('notifications', async (events, { tx, afterCommit }) => {
    const relevant = events.filter((event) => alertRulesFor(event).length > 0);
    if (relevant.length && (await notifyFromEvents(tx, relevant, config, context.logger))) afterCommit(() => deliverer.kick());
  });
  context.outbox.subscribeDurable('analytics', serverEventRecorder(db));

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
