/**
 * Inside a Node single executable application, better-sqlite3's addon is a SEA asset. It is
 * written once to a cache directory (named by its sha256, written to a temp name then renamed, so
 * concurrent starts never load a half-written file) and loaded with process.dlopen. Directories
 * are tried in order because a noexec mount makes dlopen fail.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const ASSET = 'better_sqlite3.node';

interface SeaModule {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
}

function seaModule(): SeaModule | null {
  try {
    // node:sea exists from Node 20.12; createRequire keeps the bundler from resolving it.
    const req = createRequire(path.join(process.cwd(), 'noop.js'));
    const sea = req('node:sea') as SeaModule;
    return sea.isSea() ? sea : null;
  } catch {
    return null;
  }
}

export function extractSeaAddon(dataDir: string): object | undefined {
  const sea = seaModule();
  if (!sea) return undefined;
  const bytes = Buffer.from(sea.getAsset(ASSET));
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const candidates = [
    process.env.XDG_CACHE_HOME && path.join(process.env.XDG_CACHE_HOME, 'driftshield'),
    path.join(os.homedir(), '.cache', 'driftshield'),
    path.join(dataDir, '.native'),
    path.join(os.tmpdir(), 'driftshield'),
  ].filter((d): d is string => Boolean(d));
  const failures: string[] = [];
  for (const dir of candidates) {
    const file = path.join(dir, `better_sqlite3-${digest}.node`);
    try {
      if (!fs.existsSync(file)) {
        fs.mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, bytes, { mode: 0o755 });
        fs.renameSync(tmp, file);
      }
      const mod = { exports: {} as object };
      process.dlopen(mod, file);
      return mod.exports;
    } catch (err) {
      failures.push(`${dir}: ${(err as Error).message}`);
    }
  }
  throw new Error(`cannot load the SQLite addon from any cache directory:\n  ${failures.join('\n  ')}`);
}
