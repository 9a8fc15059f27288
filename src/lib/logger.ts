/**
 * Structured JSON logging with pino. Credentials are redacted wherever they appear in a log
 * object; warnings and errors are also handed to `onWarn` (the system_logs table).
 */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export type { Logger };

export interface WarnRecord {
  level: 'warn' | 'error' | 'fatal';
  service: string;
  message: string;
  context: Record<string, unknown>;
  requestId: string | null;
}

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.secret',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.privateKey',
  '*.jwtSecret',
];

const LEVELS: Record<number, WarnRecord['level']> = { 40: 'warn', 50: 'error', 60: 'fatal' };

export function createLogger(level: string, options: { destination?: NodeJS.WritableStream; onWarn?: (r: WarnRecord) => void } = {}): Logger {
  const out = options.destination ?? process.stdout;
  const streams: pino.StreamEntry[] = [{ level: level as pino.Level, stream: out }];
  if (options.onWarn && level !== 'silent') {
    const onWarn = options.onWarn;
    streams.push({
      level: 'warn',
      stream: new Writable({
        write(chunk: Buffer, _enc, done) {
          try {
            const { level: n, msg, service, requestId, time: _t, pid: _p, hostname: _h, ...context } = JSON.parse(chunk.toString()) as Record<string, unknown>;
            onWarn({
              level: LEVELS[n as number] ?? 'warn',
              service: typeof service === 'string' ? service : typeof context.job === 'string' ? 'jobs' : 'server',
              message: String(msg ?? ''),
              context,
              requestId: typeof requestId === 'string' ? requestId : null,
            });
          } catch {
            /* a log line we cannot parse is still on stdout */
          }
          done();
        },
      }),
    });
  }
  // The root level is the more verbose of the configured level and `warn`, so the sink sees warnings.
  const rootLevel = level === 'silent' ? 'silent' : pino.levels.values[level]! <= 40 ? level : 'warn';
  return pino({ level: rootLevel, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } }, pino.multistream(streams));
}
