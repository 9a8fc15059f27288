/** `driftshield keys generate --out FILE`: a new Solana keypair file (the treasury), mode 0600.
 * Prints only the public address; the secret never leaves the file. */
import type { CliCommand } from '../../cli/commands.js';
import { CliError } from '../../cli/errors.js';
import { KeypairError, generateKeypairFile } from '../../solana/keys.js';

export const keysCommand: CliCommand = {
  name: 'keys',
  usage: 'keys generate --out FILE',
  summary: 'write a new Solana keypair file (Solana CLI format, mode 0600) and print its address',
  async run({ args, flags, out }) {
    const [sub] = args;
    const file = typeof flags.out === 'string' ? flags.out : undefined;
    if (sub !== 'generate' || !file) throw new CliError('usage: driftshield keys generate --out FILE');
    try {
      const keypair = generateKeypairFile(file);
      out(`wrote ${file} (mode 0600)`);
      out(`address: ${keypair.address}`);
      out('Fund it with SOL for fees and point solana.treasuryKeypairPath at it. Back it up: it holds the treasury.');
      return 0;
    } catch (err) {
      if (err instanceof KeypairError) throw new CliError(err.message);
      throw err;
    }
  },
};
