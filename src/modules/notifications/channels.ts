/**
 * The outgoing channels: email (nodemailer over SMTP, text and HTML), signed JSON webhooks,
 * Slack/Discord/Teams incoming webhooks and SMS through a Twilio-compatible form POST. Each send
 * returns an outcome instead of throwing, saying whether a retry could help. Nothing here logs a
 * URL, address book entry or secret.
 */
import { createHmac } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../config/schema.js';

export interface Message {
  id: string | null;
  kind: string;
  severity: string;
  title: string;
  body: string;
  /** Absolute URL of the page the message is about, if any. */
  link: string | null;
  data: Record<string, unknown>;
  createdAt: string;
}

export type Outcome = { ok: true; statusCode?: number } | { ok: false; statusCode?: number; error: string; retry: boolean };

export type ChatType = 'slack' | 'discord' | 'teams';

/** `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`: what a receiver recomputes to trust a webhook. */
export function signatureHeader(secret: string, body: string, unixSeconds = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

export class Channels {
  private readonly mailer: Transporter | null;

  constructor(private readonly config: Pick<Config, 'smtp' | 'sms' | 'notifications'>) {
    const smtp = config.smtp;
    this.mailer = smtp.host
      ? nodemailer.createTransport({
          host: smtp.host,
          port: smtp.port,
          secure: smtp.secure,
          requireTLS: !smtp.secure && smtp.starttls,
          ignoreTLS: !smtp.secure && !smtp.starttls,
          ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.pass ?? '' } } : {}),
          connectionTimeout: config.notifications.deliveryTimeoutMs,
          greetingTimeout: config.notifications.deliveryTimeoutMs,
          socketTimeout: config.notifications.deliveryTimeoutMs,
        })
      : null;
  }

  get emailConfigured(): boolean {
    return this.mailer !== null;
  }

  get smsConfigured(): boolean {
    return Boolean(this.config.sms.accountSid && this.config.sms.authToken && this.config.sms.from);
  }

  /** Sends one email; plain text and an HTML rendering of the same content. */
  async sendMail(to: string, subject: string, text: string, html: string): Promise<Outcome> {
    if (!this.mailer) return { ok: false, error: 'smtp_not_configured', retry: false };
    try {
      await this.mailer.sendMail({ from: this.config.smtp.from, to, subject, text, html });
      return { ok: true };
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      // 5xx is a permanent refusal of this message (unknown mailbox, policy); anything else may pass later.
      return { ok: false, ...(code ? { statusCode: code } : {}), error: `smtp: ${(err as Error).message}`.slice(0, 300), retry: !(code && code >= 500) };
    }
  }

  async email(to: string, m: Message): Promise<Outcome> {
    return this.sendMail(to, `[DriftShield] ${m.title}`, emailText(m), emailHtml(m));
  }

  async webhook(url: string, secret: string, m: Message, deliveryId: string): Promise<Outcome> {
    const body = JSON.stringify({ deliveryId, notification: m });
    return this.post(url, body, {
      'Content-Type': 'application/json',
      'X-DriftShield-Signature': signatureHeader(secret, body),
      'X-DriftShield-Event': m.kind,
      'X-DriftShield-Delivery': deliveryId,
    });
  }

  async chat(type: ChatType, url: string, m: Message): Promise<Outcome> {
    const line = `${m.title}\n${m.body}${m.link ? `\n${m.link}` : ''}`;
    const payload =
      type === 'slack'
        ? { text: line }
        : type === 'discord'
          ? { content: line.slice(0, 2000), allowed_mentions: { parse: [] } }
          : { '@type': 'MessageCard', '@context': 'https://schema.org/extensions', summary: m.title, title: m.title, text: `${m.body}${m.link ? `\n\n[Open](${m.link})` : ''}` };
    return this.post(url, JSON.stringify(payload), { 'Content-Type': 'application/json' });
  }

  async sms(to: string, m: Message): Promise<Outcome> {
    const { url, accountSid, authToken, from } = this.config.sms;
    if (!accountSid || !authToken || !from) return { ok: false, error: 'sms_not_configured', retry: false };
    const form = new URLSearchParams({ To: to, From: from, Body: `DriftShield: ${m.title}`.slice(0, 320) });
    return this.post(url.replace('{accountSid}', encodeURIComponent(accountSid)), form.toString(), {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
    });
  }

  private async post(url: string, body: string, headers: Record<string, string>): Promise<Outcome> {
    try {
      const res = await fetch(url, { method: 'POST', body, headers: { 'User-Agent': 'DriftShield-Notifier', ...headers }, redirect: 'manual', signal: AbortSignal.timeout(this.config.notifications.deliveryTimeoutMs) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true, statusCode: res.status };
      return { ok: false, statusCode: res.status, error: `HTTP ${res.status}`, retry: true };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { ok: false, error: e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.message).slice(0, 200), retry: true };
    }
  }

  close(): void {
    this.mailer?.close();
  }
}

function emailText(m: Message): string {
  return `${m.title}\n\n${m.body}\n${m.link ? `\n${m.link}\n` : ''}\n--\nDriftShield notification (${m.kind}). Choose what reaches your email under Settings > Notifications.\n`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function emailHtml(m: Message): string {
  const color = m.severity === 'critical' ? '#b91c1c' : m.severity === 'warning' ? '#b45309' : '#1d4ed8';
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#111">
<h2 style="color:${color}">${escapeHtml(m.title)}</h2>
<p>${escapeHtml(m.body)}</p>
${m.link ? `<p><a href="${escapeHtml(m.link)}">Open in DriftShield</a></p>` : ''}
<p style="color:#666;font-size:12px">DriftShield notification (${escapeHtml(m.kind)}). Choose what reaches your email under Settings &gt; Notifications.</p>
</body></html>`;
}
