/** `driftshield admin create --wallet ADDRESS | promote ADDRESS | demote ADDRESS`: manage admins
 * from the shell, with or without a running server. */
import type { CliCommand } from '../../cli/commands.js';
import { CliError } from '../../cli/errors.js';
import { Migrator } from '../../db/migrator.js';
import { isSolanaAddress } from '../../lib/base58.js';
import { changeUserAccess, findUserByAddress, promoteAddress } from './service.js';

export const adminCommand: CliCommand = {
  name: 'admin',
  usage: 'admin create|promote|demote',
  summary: 'make a wallet an admin (create --wallet ADDR, promote ADDR) or remove the role (demote ADDR)',
  async run({ db, args, flags, out }) {
    const [sub, positional] = args;
    const address = typeof flags.wallet === 'string' ? flags.wallet : positional;
    if (!sub || !['create', 'promote', 'demote'].includes(sub)) throw new CliError('usage: driftshield admin create --wallet ADDRESS | promote ADDRESS | demote ADDRESS');
    if (!address || !isSolanaAddress(address)) throw new CliError(`"${address ?? ''}" is not a Solana wallet address (base58, 32 bytes)`);
    await new Migrator(db).up();
    if (sub === 'demote') {
      const user = await findUserByAddress(db.kysely, address);
      if (!user) throw new CliError(`no user with wallet ${address}`);
      await db.write((tx) => changeUserAccess(tx, 'cli', user.id, { role: 'user' }));
      out(`${address} is no longer an admin`);
      return 0;
    }
    const user = await promoteAddress(db, address);
    out(`${address} is an admin (user ${user.id})`);
    return 0;
  },
};
