/**
 * The alert table: which domain event becomes which notification, for whom, worded how, through
 * which settings groups, at what severity and under which throttle key. Adding a kind is one entry
 * here (and its name in NOTIFICATION_KINDS). Each entry is typed by its event's payload as the
 * emitting module declares it in the event catalog (loosely while a kind is not declared yet).
 */
import type { EventKind, EventPayloads } from '../../events/catalog.js';
import type { UserSettings } from '../users/schema.js';

export const NOTIFICATION_KINDS = [
  'drift_warning',
  'drift_critical',
  'drift_recovered',
  'model_stale',
  'model_unreachable',
  'deposit_confirmed',
  'withdrawal_confirmed',
  'withdrawal_failed',
  'ledger_mismatch',
  'webhook_disabled',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export type Severity = 'info' | 'warning' | 'critical';
export type EmailGroup = keyof UserSettings['notifications']['email'];
export type SmsGroup = keyof UserSettings['notifications']['sms'];

/** The payload of event `K` as its module declares it; loose for a kind not (yet) declared. */
export type PayloadOf<K extends string> = K extends EventKind ? EventPayloads[K] : Record<string, any>;

/**
 * Who an alert is for, naming the payload field that holds the id. `model`: the model's owner plus
 * the model's extra alert emails and webhook URL; `user`: that user; `admins`: every active admin.
 */
export type RecipientRule<K extends string = string> = { model: keyof PayloadOf<K> & string } | { user: keyof PayloadOf<K> & string } | 'admins';

export interface AlertRule<K extends string = string> {
  /** The outbox event kind this rule reads. */
  event: K;
  kind: NotificationKind;
  /** Extra condition on the payload (one event may map to several kinds). */
  when?: (p: PayloadOf<K>) => boolean;
  recipients: RecipientRule<K>;
  severity: Severity;
  /** Settings group that lets this kind reach the user's email (and email integrations without `events`). */
  email: EmailGroup;
  /** Settings group for SMS integrations without `events`; absent: never by SMS unless an integration lists it. */
  sms?: SmsGroup;
  /** Identical alerts with the same key are sent at most once per notifications.throttleMinutes. */
  throttleKey?: (p: PayloadOf<K>) => string;
  /** Throttle keys this alert clears (recovery re-arms the drift alerts of its model). */
  clears?: (p: PayloadOf<K>) => string[];
  /** Templates see the payload plus `modelName` looked up for model alerts. */
  title: (p: PayloadOf<K> & { modelName?: string }) => string;
  body: (p: PayloadOf<K> & { modelName?: string }) => string;
  /** Path under the public URL the alert links to. */
  link?: (p: PayloadOf<K>) => string;
}

/** Declares one entry, checked against its event's payload type. */
const alert = <K extends string>(rule: AlertRule<K>): AlertRule => rule as unknown as AlertRule;

const model = (p: any) => String(p.modelName ?? p.modelId);
const pct = (v: unknown) => (typeof v === 'number' ? `${v.toFixed(2)}%` : 'n/a');
const usdc = (micros: unknown) => (typeof micros === 'number' ? `${(micros / 1e6).toFixed(2)} USDC` : 'an amount');
const features = (p: any) => (Array.isArray(p.driftedFeatures) && p.driftedFeatures.length ? ` Drifted features: ${p.driftedFeatures.slice(0, 10).map(String).join(', ')}.` : '');
const modelLink = (p: any) => `/models/${p.modelId}`;
const driftKey = (kind: NotificationKind) => (p: any) => `model:${p.modelId}:${kind}`;

export const ALERTS: readonly AlertRule[] = [
  alert({
    event: 'drift.detected',
    kind: 'drift_warning',
    when: (p) => p.severity !== 'critical',
    recipients: { model: 'modelId' },
    severity: 'warning',
    email: 'driftWarnings',
    throttleKey: driftKey('drift_warning'),
    title: (p) => `Drift warning: ${model(p)}`,
    body: (p) => `${model(p)} drifted ${pct(p.driftPercentage)} (threshold ${pct(p.thresholdPercent)}).${features(p)}`,
    link: modelLink,
  }),
  alert({
    event: 'drift.detected',
    kind: 'drift_critical',
    when: (p) => p.severity === 'critical',
    recipients: { model: 'modelId' },
    severity: 'critical',
    email: 'driftWarnings',
    sms: 'criticalAlerts',
    throttleKey: driftKey('drift_critical'),
    title: (p) => `Critical drift: ${model(p)}`,
    body: (p) => `${model(p)} drifted ${pct(p.driftPercentage)}, more than twice its ${pct(p.thresholdPercent)} threshold.${features(p)}`,
    link: modelLink,
  }),
  alert({
    event: 'model.health',
    kind: 'drift_recovered',
    when: (p) => p.health === 'healthy' && (p.previous === 'warning' || p.previous === 'critical'),
    recipients: { model: 'modelId' },
    severity: 'info',
    email: 'driftWarnings',
    clears: (p) => ['drift_warning', 'drift_critical'].map((k) => `model:${p.modelId}:${k}`),
    title: (p) => `Recovered: ${model(p)} is healthy again`,
    body: (p) => `${model(p)} is back to healthy (was ${p.previous}).`,
    link: modelLink,
  }),
  alert({
    event: 'model.health',
    kind: 'model_stale',
    when: (p) => p.health === 'stale' && p.previous !== 'stale',
    recipients: { model: 'modelId' },
    severity: 'warning',
    email: 'modelHealth',
    throttleKey: driftKey('model_stale'),
    title: (p) => `No recent receipts: ${model(p)}`,
    body: (p) => `${model(p)} has sent no monitoring receipt within twice its interval.${p.reason ? ` ${p.reason}` : ''}`,
    link: modelLink,
  }),
  alert({
    event: 'model.health',
    kind: 'model_unreachable',
    when: (p) => p.health === 'unreachable' && p.previous !== 'unreachable',
    recipients: { model: 'modelId' },
    severity: 'critical',
    email: 'modelHealth',
    sms: 'criticalAlerts',
    throttleKey: driftKey('model_unreachable'),
    title: (p) => `Monitoring endpoint unreachable: ${model(p)}`,
    body: (p) => `Pulling monitoring data for ${model(p)} failed repeatedly.${p.reason ? ` ${p.reason}` : ''}`,
    link: modelLink,
  }),
  alert({
    event: 'deposit.credited',
    kind: 'deposit_confirmed',
    recipients: { user: 'userId' },
    severity: 'info',
    email: 'wallet',
    title: (p) => `Deposit confirmed: ${usdc(p.amountMicros)}`,
    body: (p) => `${usdc(p.amountMicros)} was credited to your balance (transaction ${p.signature}).`,
    link: () => '/wallet',
  }),
  alert({
    event: 'withdrawal.updated',
    kind: 'withdrawal_confirmed',
    when: (p) => p.status === 'confirmed',
    recipients: { user: 'userId' },
    severity: 'info',
    email: 'wallet',
    title: (p) => `Withdrawal confirmed: ${usdc(p.amountMicros)}`,
    body: (p) => `Your withdrawal of ${usdc(p.amountMicros)} is confirmed on chain (transaction ${p.signature}).`,
    link: () => '/wallet',
  }),
  alert({
    event: 'withdrawal.updated',
    kind: 'withdrawal_failed',
    when: (p) => p.status === 'failed',
    recipients: { user: 'userId' },
    severity: 'warning',
    email: 'wallet',
    title: (p) => `Withdrawal failed: ${usdc(p.amountMicros)}`,
    body: (p) => `Your withdrawal of ${usdc(p.amountMicros)} failed; the amount is back in your available balance.`,
    link: () => '/wallet',
  }),
  alert({
    event: 'ledger.mismatch',
    kind: 'ledger_mismatch',
    recipients: 'admins',
    severity: 'critical',
    email: 'adminAlerts',
    sms: 'criticalAlerts',
    throttleKey: () => 'ledger:mismatch',
    title: (p) => `Ledger mismatch on ${Array.isArray(p.mismatches) ? p.mismatches.length : 'some'} account(s)`,
    body: (p) => `The ledger check found cached balances that disagree with the entries (total ${usdc(p.totalMicros)}). See /admin/ledger/check.`,
    link: () => '/admin/ledger',
  }),
];

/** Raised by the delivery worker itself, not by an event. */
export const WEBHOOK_DISABLED = {
  kind: 'webhook_disabled',
  severity: 'warning',
  email: 'integrationProblems',
  title: (p: { name: string }) => `Integration disabled: ${p.name}`,
  body: (p: { name: string; failures: number; lastError: string | null }) =>
    `"${p.name}" failed ${p.failures} times in a row${p.lastError ? ` (last error: ${p.lastError})` : ''} and was disabled. Fix it and re-enable it in your integrations.`,
  link: () => '/settings/integrations',
} as const satisfies Omit<AlertRule, 'event' | 'recipients' | 'title' | 'body' | 'link'> & Record<string, unknown>;
