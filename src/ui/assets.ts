/**
 * The static files of the web UI (admin UI, API reference page). In development they are read
 * from web/public; the bundler replaces this module with one that inlines the same files, so
 * the single executable carries them (scripts/build.mjs).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  contentType: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

export function contentTypeFor(file: string): string {
  return TYPES[path.extname(file)] ?? 'application/octet-stream';
}

/** Every file under `dir`, keyed by its URL path (`/index.html`). */
export function readAssetDir(dir: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.posix.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else out.set(`/${rel}`, { contentType: contentTypeFor(entry.name), body: fs.readFileSync(path.join(dir, rel)) });
    }
  };
  walk('');
  return out;
}

export function loadUiAssets(): Map<string, Asset> {
  return readAssetDir(fileURLToPath(new URL('../../web/public', import.meta.url)));
}
