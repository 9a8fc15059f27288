/**
 * The one error module: typed factories with stable snake_case codes. The error middleware turns
 * an HttpError into application/problem+json (RFC 9457); anything else becomes a 500 that carries
 * only the request id.
 */

export interface FieldError {
  /** Where the field is: body, query, params or header. */
  in?: 'body' | 'query' | 'params' | 'header';
  path: string;
  message: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; [k: string]: unknown } = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpError';
  }
}

export const badRequest = (code: string, detail: string, errors?: FieldError[]) =>
  new HttpError(400, code, 'Bad request', detail, errors ? { errors } : {});
export const validationFailed = (errors: FieldError[]) =>
  new HttpError(400, 'validation_failed', 'Validation failed', errors.map((e) => `${e.path || '(body)'}: ${e.message}`).join('; '), { errors });
export const unauthorized = (code = 'unauthorized', detail = 'Authentication is required.') =>
  new HttpError(401, code, 'Unauthorized', detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
export const forbidden = (code = 'forbidden', detail = 'You may not do this.', extra: Record<string, unknown> = {}) =>
  new HttpError(403, code, 'Forbidden', detail, extra);
export const missingScope = (scope: string) =>
  new HttpError(403, 'missing_scope', 'Forbidden', `This API key lacks the scope "${scope}".`, { scope });
export const notFound = (what = 'Resource', detail?: string) =>
  new HttpError(404, 'not_found', 'Not found', detail ?? `${what} not found.`);
export const methodNotAllowed = (allowed: string[]) =>
  new HttpError(405, 'method_not_allowed', 'Method not allowed', `Allowed: ${allowed.join(', ')}.`, { headers: { Allow: allowed.join(', ') } });
export const conflict = (code: string, detail: string, extra: Record<string, unknown> = {}) =>
  new HttpError(409, code, 'Conflict', detail, extra);
export const insufficientFunds = (detail = 'The balance is too low for this operation.') =>
  new HttpError(409, 'insufficient_funds', 'Insufficient funds', detail);
export const payloadTooLarge = (limitBytes: number) =>
  new HttpError(413, 'payload_too_large', 'Payload too large', `The body exceeds the ${limitBytes}-byte limit of this route.`);
export const unsupportedMediaType = (allowed: string[]) =>
  new HttpError(415, 'unsupported_media_type', 'Unsupported media type', `Send one of: ${allowed.join(', ')}.`);
export const unprocessable = (code: string, detail: string, errors?: FieldError[]) =>
  new HttpError(422, code, 'Unprocessable content', detail, errors ? { errors } : {});
export const tooManyRequests = (retryAfterSeconds: number) =>
  new HttpError(429, 'rate_limited', 'Too many requests', `Try again in ${retryAfterSeconds} s.`, {
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
export const serviceUnavailable = (code: string, detail: string, retryAfterSeconds = 1) =>
  new HttpError(503, code, 'Service unavailable', detail, { headers: { 'Retry-After': String(retryAfterSeconds) } });
