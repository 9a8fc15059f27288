/** Settlement configuration (solana mode cannot start half-configured, keys never leak) and the
 * `driftshield keys generate --out FILE` command. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { runCli, tempDir } from '../foundation/support.js';
import { startMoneyServer } from '../helpers/money.js';

describe('settlement configuration', () => {
  it('defaults to ledger mode with the documented withdrawal limits', () => {
    const config = ConfigSchema.parse({});
    expect(config.settlement.mode).toBe('ledger');
    expect(config.solana.commitment).toBe('finalized');
    expect(config.withdrawals).toEqual({ minMicros: 1_000_000, feeMicros: 0, dailyLimitMicros: 10_000_000_000 });
  });

  it('solana mode names every missing key at once', () => {
    let error: unknown;
    try {
      loadConfig({ env: { DRIFTSHIELD_SETTLEMENT__MODE: 'solana' }, cwd: tempDir() });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('solana.rpcUrl');
    expect(problems).toContain('solana.usdcMint');
    expect(problems).toContain('solana.treasuryKeypairPath');
  });

  it('accepts the keypair from an env file, and the problem report never shows it', () => {
    const dir = tempDir();
    const secret = path.join(dir, 'kp.json');
    fs.writeFileSync(secret, `[${Array.from({ length: 64 }, () => 7).join(',')}]`);
    const env = {
      DRIFTSHIELD_SETTLEMENT__MODE: 'solana',
      DRIFTSHIELD_SOLANA__RPC_URL: 'https://api.devnet.solana.com',
      DRIFTSHIELD_SOLANA__USDC_MINT: '4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU',
      DRIFTSHIELD_SOLANA__TREASURY_KEYPAIR_FILE: secret,
    };
    expect(loadConfig({ env, cwd: dir }).solana.treasuryKeypair).toContain('7,7,7');
    try {
      loadConfig({ env: { ...env, DRIFTSHIELD_SOLANA__TREASURY_KEYPAIR_PATH: secret }, cwd: dir });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems.join('\n')).toContain('not both');
      expect((err as Error).message).not.toContain('7,7,7');
    }
  });

  it('a server with a broken treasury key file refuses to start, naming the file but not its content', async () => {
    const file = path.join(tempDir(), 'treasury.json');
    fs.writeFileSync(file, '[1,2,3,"s3cr3t"]');
    const start = startMoneyServer({ settlement: { mode: 'solana' }, solana: { rpcUrl: 'http://127.0.0.1:9', usdcMint: '4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU', treasuryKeypairPath: file } });
    await expect(start).rejects.toThrow(file);
    await start.catch((err: Error) => expect(err.message).not.toContain('s3cr3t'));
  });
});

describe('driftshield keys generate', () => {
  it('writes a Solana CLI keypair file with mode 0600, prints only the address, and never overwrites', async () => {
    const cwd = tempDir();
    const file = path.join(cwd, 'treasury.json');
    const res = await runCli(['keys', 'generate', '--out', file, '--data-dir', path.join(cwd, 'data')], { cwd });
    expect(res.code, res.stderr).toBe(0);
    const bytes = JSON.parse(fs.readFileSync(file, 'utf8')) as number[];
    expect(bytes).toHaveLength(64);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const address = /address: (\w+)/.exec(res.stdout)![1]!;
    const bs58 = (await import('bs58')).default;
    expect(address).toBe(bs58.encode(Uint8Array.from(bytes.slice(32))));
    expect(res.stdout + res.stderr).not.toContain(bytes.slice(0, 8).join(','));

    const again = await runCli(['keys', 'generate', '--out', file, '--data-dir', path.join(cwd, 'data')], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(bytes);

    const usage = await runCli(['keys', 'generate', '--data-dir', path.join(cwd, 'data')], { cwd });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: driftshield keys generate --out FILE');
  });
});
