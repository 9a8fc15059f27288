/**
 * Inside a Node single executable application, better-sqlite3's addon is a SEA asset. It is
 * written once to a cache directory (named by its sha256, written to a temp name then renamed, so
 * concurrent starts never load a half-written file) and loaded with process.dlopen. Directories
 * are tried in order because a noexec mount makes dlopen fail.
 *
 * The build also embeds the addon's sha256 as a small asset, so a start whose cache file already
 * exists never copies or hashes the 2 MB addon (that kept ~4 MB resident for nothing).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const ASSET = 'better_sqlite3.node';
/** Hex sha256 of ASSET, written by scripts/build-binary.mjs. */
const DIGEST_ASSET = 'better_sqlite3.node.sha256';

interface SeaModule {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
  getAsset(key: string, encoding: string): string;
}

/** The addon's digest from the build, or computed from the addon for binaries built without it. */
function addonDigest(sea: SeaModule, addon: () => Buffer): string {
  let digest: string | undefined;
  try {
    digest = sea.getAsset(DIGEST_ASSET, 'utf8').trim();
  } catch {
    /* built without the digest asset */
  }
  return (digest && /^[0-9a-f]{64}$/.test(digest) ? digest : createHash('sha256').update(addon()).digest('hex')).slice(0, 16);
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
  let bytes: Buffer | undefined;
  const addon = () => (bytes ??= Buffer.from(sea.getAsset(ASSET)));
  const digest = addonDigest(sea, addon);
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
        fs.writeFileSync(tmp, addon(), { mode: 0o755 });
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
