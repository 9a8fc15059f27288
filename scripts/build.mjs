#!/usr/bin/env node
// Bundles the server with esbuild into one CommonJS file. The web UI's files are inlined by
// replacing src/ui/assets.ts, so the same code serves them from the bundle and the binary.
//   node scripts/build.mjs                 -> dist/driftshield.cjs (better-sqlite3 stays in node_modules)
//   node scripts/build.mjs --standalone    -> .build/driftshield-sea.cjs (everything inlined, for the binary)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** Replaces src/ui/assets.ts with a module that carries every file of web/public inline. */
const inlineUiAssets = {
  name: 'inline-ui-assets',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]ui[\\/]assets\.ts$/ }, async () => {
      const dir = path.join(root, 'web', 'public');
      const files = [];
      const walk = (sub) => {
        for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
          const rel = path.posix.join(sub, entry.name);
          if (entry.isDirectory()) walk(rel);
          else files.push([`/${rel}`, fs.readFileSync(path.join(dir, rel)).toString('base64')]);
        }
      };
      walk('');
      const original = fs.readFileSync(path.join(root, 'src', 'ui', 'assets.ts'), 'utf8');
      const contentTypeFor = original.slice(original.indexOf('const TYPES'), original.indexOf('/** Every file under'));
      return {
        loader: 'ts',
        resolveDir: path.join(root, 'src', 'ui'),
        contents: `import path from 'node:path';
export interface Asset { contentType: string; body: Buffer }
${contentTypeFor}
const FILES: Array<[string, string]> = ${JSON.stringify(files)};
export function loadUiAssets(): Map<string, Asset> {
  return new Map(FILES.map(([p, b]) => [p, { contentType: contentTypeFor(p), body: Buffer.from(b, 'base64') }]));
}
`,
      };
    });
  },
};

/** Bundles and returns the output path and esbuild's metafile (what was bundled, what stays a run-time require). */
export async function bundleWithMeta({ standalone = false } = {}) {
  const outfile = standalone ? path.join(root, '.build', 'driftshield-sea.cjs') : path.join(root, 'dist', 'driftshield.cjs');
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'linked',
    minifySyntax: true,
    // In the binary, V8 holds the whole script as one string: without comments it is pure ASCII,
    // stored one byte per character, where a single non-Latin-1 character in a dependency's comment
    // made it two bytes per character (6 MB instead of 2.4 MB resident). Names stay readable.
    minifyWhitespace: standalone,
    legalComments: 'none',
    // Dependencies are bundled in both builds: resolving ESM-only packages (bs58, jose, @solana/*)
    // through esbuild keeps their default exports right in CommonJS output. The npm build leaves
    // better-sqlite3 to node_modules (its native addon sits there); the standalone one carries it.
    external: standalone ? [] : ['better-sqlite3'],
    define: { DRIFTSHIELD_VERSION: JSON.stringify(pkg.version), 'import.meta.url': '__import_meta_url' },
    banner: { js: `"use strict";const __import_meta_url=require('node:url').pathToFileURL(__filename).href;process.setSourceMapsEnabled(true);` },
    plugins: [inlineUiAssets],
    logLevel: 'warning',
    metafile: true,
    write: false,
  });
  // Each output is written to a temp name and renamed into place, so a process starting the bundle
  // while another build runs (parallel test runs) loads the old file or the new one, never half of one.
  for (const file of result.outputFiles) {
    fs.mkdirSync(path.dirname(file.path), { recursive: true });
    const tmp = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, file.contents);
    fs.renameSync(tmp, file.path);
  }
  return { outfile, metafile: result.metafile };
}

export async function bundle(options = {}) {
  return (await bundleWithMeta(options)).outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await bundle({ standalone: process.argv.includes('--standalone') });
  process.stdout.write(`built ${path.relative(root, out)}\n`);
}
