/** Subcommands that modules contribute to the CLI (admin, keys, verify). They run against the
 * data dir's database directly, whether or not a server is running (WAL allows both). */
import type { Config } from '../config/schema.js';
import type { Database } from '../db/connection.js';

export interface CliCommand {
  name: string;
  usage: string;
  summary: string;
  run(input: { config: Config; db: Database; args: string[]; flags: Record<string, unknown>; out: (line: string) => void }): Promise<number>;
}

import { adminCommand } from '../modules/users/cli.js';
import { verifyCommand } from '../modules/receipts/cli.js';
import { keysCommand } from '../modules/wallet/cli.js';

export const cliCommands: CliCommand[] = [adminCommand, keysCommand, verifyCommand];
