/**
 * Just enough MIME for the tests to read what nodemailer sent: headers (unfolded, RFC 2047 words
 * decoded), multipart/alternative bodies, quoted-printable and base64 parts.
 */

export interface ParsedMail {
  headers: Map<string, string>;
  subject: string;
  to: string;
  from: string;
  text: string;
  html: string;
}

function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, data: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQp(data.replace(/_/g, ' ')),
  );
}

function decodeQp(s: string): string {
  const bytes: number[] = [];
  const soft = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(soft[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function splitEntity(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), decodeWords(line.slice(i + 1).trim()));
  }
  return { headers, body };
}

function decodeBody(headers: Map<string, string>, body: string): string {
  const enc = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (enc === 'quoted-printable') return decodeQp(body);
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

function collect(entity: { headers: Map<string, string>; body: string }, out: { text: string; html: string }): void {
  const type = entity.headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.toLowerCase().startsWith('multipart/') && boundary) {
    const parts = entity.body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      collect(splitEntity(part.replace(/^\r?\n/, '')), out);
    }
    return;
  }
  const decoded = decodeBody(entity.headers, entity.body).replace(/\r\n/g, '\n');
  if (type.toLowerCase().startsWith('text/html')) out.html += decoded;
  else out.text += decoded;
}

export function simpleParser(raw: string): ParsedMail {
  const top = splitEntity(raw);
  const out = { text: '', html: '' };
  collect(top, out);
  return { headers: top.headers, subject: top.headers.get('subject') ?? '', to: top.headers.get('to') ?? '', from: top.headers.get('from') ?? '', ...out };
}
