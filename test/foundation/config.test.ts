/** Configuration: defaults < file < env < flags, short env names, *_FILE secrets, strictness, all problems at once, exit 2. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, envNameFor, loadConfig } from '../../src/config/load.js';
import { runCli, tempDir, writeJson } from './support.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config precedence', () => {
  it('uses the built-in defaults with no file, env or flags', () => {
    const cwd = tempDir();
    const config = loadConfig({ env: {}, cwd });
    expect(config.server.port).toBe(3001);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.dataDir).toBe(path.join(cwd, 'driftshield-data'));
    expect(config.rateLimit).toEqual({ enabled: true, publicPerMinute: 100, authenticatedPerMinute: 300, sensitivePer15Minutes: 5 });
    expect(config.backup.keep).toBe(7);
    expect(config.db.busyTimeoutMs).toBe(5000);
  });

  it('layers defaults < driftshield.config.json < DRIFTSHIELD_* env < flags', () => {
    const cwd = tempDir();
    writeJson(path.join(cwd, 'driftshield.config.json'), { server: { port: 4000, host: '127.0.0.2' }, log: { level: 'debug' }, backup: { keep: 3 } });
    const fromFile = loadConfig({ env: {}, cwd });
    expect(fromFile.server.port).toBe(4000);
    expect(fromFile.log.level).toBe('debug');
    expect(fromFile.server.shutdownGraceMs).toBe(10_000); // untouched default survives the merge

    const env = { DRIFTSHIELD_SERVER__PORT: '5000', DRIFTSHIELD_BACKUP__KEEP: '9' };
    const fromEnv = loadConfig({ env, cwd });
    expect(fromEnv.server.port).toBe(5000);
    expect(fromEnv.backup.keep).toBe(9);
    expect(fromEnv.server.host).toBe('127.0.0.2'); // the file still wins over the default
    expect(fromEnv.log.level).toBe('debug');

    const fromFlags = loadConfig({ env, cwd, overrides: { 'server.port': '6000' } });
    expect(fromFlags.server.port).toBe(6000);
    expect(fromFlags.backup.keep).toBe(9);
  });

  it('maps nested camelCase keys to upper snake env names with __ between levels', () => {
    expect(envNameFor('server.port')).toBe('DRIFTSHIELD_SERVER__PORT');
    expect(envNameFor('rateLimit.publicPerMinute')).toBe('DRIFTSHIELD_RATE_LIMIT__PUBLIC_PER_MINUTE');
    const config = loadConfig({
      cwd: tempDir(),
      env: {
        DRIFTSHIELD_RATE_LIMIT__PUBLIC_PER_MINUTE: '42',
        DRIFTSHIELD_RATE_LIMIT__ENABLED: 'false',
        DRIFTSHIELD_CORS__ORIGINS: 'https://a.example, https://b.example',
        DRIFTSHIELD_JOBS__BACKUP__SCHEDULE: '15 4 * * *',
      },
    });
    expect(config.rateLimit.publicPerMinute).toBe(42);
    expect(config.rateLimit.enabled).toBe(false);
    expect(config.cors.origins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.jobs.backup?.schedule).toBe('15 4 * * *');
  });

  it('accepts the short forms DRIFTSHIELD_PORT, DRIFTSHIELD_HOST and DRIFTSHIELD_DATA_DIR', () => {
    const cwd = tempDir();
    const config = loadConfig({ cwd, env: { DRIFTSHIELD_PORT: '7123', DRIFTSHIELD_HOST: '127.0.0.1', DRIFTSHIELD_DATA_DIR: 'state' } });
    expect(config.server.port).toBe(7123);
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.dataDir).toBe(path.join(cwd, 'state'));
  });

  it('reads the config file named by DRIFTSHIELD_CONFIG or --config, and requires it to exist', () => {
    const cwd = tempDir();
    writeJson(path.join(cwd, 'driftshield.config.json'), { server: { port: 1111 } });
    const other = writeJson(path.join(cwd, 'elsewhere', 'ds.json'), { server: { port: 2222 } });
    expect(loadConfig({ cwd, env: { DRIFTSHIELD_CONFIG: other } }).server.port).toBe(2222);
    expect(loadConfig({ cwd, env: {}, configPath: 'elsewhere/ds.json' }).server.port).toBe(2222);
    const problems = problemsOf(() => loadConfig({ cwd, env: {}, configPath: 'missing.json' }));
    expect(problems).toEqual([expect.stringMatching(/missing\.json: cannot read \(ENOENT\)/)]);
  });
});

describe('secrets from files', () => {
  it('reads any setting X from the file named by X_FILE, without the trailing newline', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'metrics-token'), 'scrape-me-please\n');
    fs.writeFileSync(path.join(dir, 'jwt'), `${'s'.repeat(40)}\n`);
    const config = loadConfig({
      cwd: dir,
      env: { DRIFTSHIELD_METRICS__TOKEN_FILE: path.join(dir, 'metrics-token'), DRIFTSHIELD_AUTH__JWT_SECRET_FILE: path.join(dir, 'jwt') },
    });
    expect(config.metrics.token).toBe('scrape-me-please');
    expect(config.auth.jwtSecret).toBe('s'.repeat(40));
  });

  it('reports an unreadable secret file as a problem and never shows a secret value', () => {
    const cwd = tempDir();
    const problems = problemsOf(() =>
      loadConfig({ cwd, env: { DRIFTSHIELD_METRICS__TOKEN_FILE: path.join(cwd, 'nope'), DRIFTSHIELD_AUTH__JWT_SECRET: 'too-short-secret' } }),
    );
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/DRIFTSHIELD_METRICS__TOKEN_FILE: cannot read .*nope \(ENOENT\)/);
    expect(problems.join('\n')).toMatch(/auth\.jwtSecret = \(hidden\): must be at least 32 characters/);
    expect(problems.join('\n')).not.toContain('too-short-secret');
  });
});

describe('validation', () => {
  it('reports every problem at once, from the file, the env and the flags, with key, value and reason', () => {
    const cwd = tempDir();
    writeJson(path.join(cwd, 'driftshield.config.json'), { server: { port: 'eighty' }, log: { level: 'loud' }, bogus: true });
    const problems = problemsOf(() =>
      loadConfig({ cwd, env: { DRIFTSHIELD_RATE_LIMIT__ENABLED: 'maybe', DRIFTSHIELD_NOPE: '1' }, overrides: { 'server.nope': 'x' } }),
    );
    const text = problems.join('\n');
    expect(problems.length).toBeGreaterThanOrEqual(6);
    expect(text).toMatch(/server\.port = "eighty": /);
    expect(text).toMatch(/log\.level = "loud": /);
    expect(text).toMatch(/bogus/);
    expect(text).toMatch(/DRIFTSHIELD_RATE_LIMIT__ENABLED: "maybe" is not a boolean/);
    expect(text).toMatch(/DRIFTSHIELD_NOPE: no such setting/);
    expect(text).toMatch(/--server\.nope: no such setting/);
  });

  it('rejects unknown keys at every level of the file (the schema is strict)', () => {
    for (const [file, key] of [
      [{ colour: 'blue' }, /colour/],
      [{ server: { prot: 3000 } }, /server.*prot/],
      [{ rateLimit: { perMinute: 3 } }, /rateLimit.*perMinute/],
      [{ jobs: { backup: { cron: '* * * * *' } } }, /jobs\.backup.*cron/],
    ] as const) {
      const cwd = tempDir();
      writeJson(path.join(cwd, 'driftshield.config.json'), file);
      const problems = problemsOf(() => loadConfig({ cwd, env: {} }));
      expect(problems.join('\n')).toMatch(key);
    }
  });
});

describe('the CLI and configuration', () => {
  it('exits 2 with every problem listed and no stack trace', async () => {
    const cwd = tempDir();
    writeJson(path.join(cwd, 'driftshield.config.json'), { server: { port: 70000 }, extra: 1 });
    const res = await runCli(['serve'], { cwd, env: { DRIFTSHIELD_LOG__LEVEL: 'chatty' } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^driftshield: invalid configuration:/);
    expect(res.stderr).toMatch(/server\.port = 70000/);
    expect(res.stderr).toMatch(/extra/);
    expect(res.stderr).toMatch(/log\.level = "chatty"/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(cwd, 'driftshield-data'))).toBe(false);
  });

  it('applies env over the file and flags over env (observed through where migrate puts the database)', async () => {
    const cwd = tempDir();
    writeJson(path.join(cwd, 'driftshield.config.json'), { dataDir: 'from-file' });
    const viaFile = await runCli(['migrate', 'status'], { cwd });
    expect(viaFile.code).toBe(0);
    expect(fs.existsSync(path.join(cwd, 'from-file', 'driftshield.db'))).toBe(true);

    const viaEnv = await runCli(['migrate', 'status'], { cwd, env: { DRIFTSHIELD_DATA_DIR: 'from-env' } });
    expect(viaEnv.code).toBe(0);
    expect(fs.existsSync(path.join(cwd, 'from-env', 'driftshield.db'))).toBe(true);

    const viaFlag = await runCli(['migrate', 'status', '--data-dir', 'from-flag'], { cwd, env: { DRIFTSHIELD_DATA_DIR: 'from-env-2' } });
    expect(viaFlag.code).toBe(0);
    expect(fs.existsSync(path.join(cwd, 'from-flag', 'driftshield.db'))).toBe(true);
    expect(fs.existsSync(path.join(cwd, 'from-env-2'))).toBe(false);
  });

  it('prints the version and the usage', async () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const cmd of ['serve', 'migrate status|up|down', 'backup [--out FILE]', 'restore FILE', '--no-migrate']) expect(help.stdout).toContain(cmd);
  });

  it('exits 2 with usage advice for an unknown command', async () => {
    const res = await runCli(['frobnicate', '--data-dir', path.join(tempDir(), 'd')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('unknown command "frobnicate"');
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for a mistyped flag instead of ignoring it', async () => {
    const res = await runCli(['serve', '--prot', '4000', '--data-dir', path.join(tempDir(), 'd')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("Unknown option '--prot'");
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
