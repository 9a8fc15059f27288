/**
 * Vitest global setup: builds the CLI bundle (dist/driftshield.cjs) once per run, so tests that
 * spawn `node dist/driftshield.cjs ...` exercise the code as it is now, not a stale build.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
