/** `driftshield verify [--model ID] [--json]`: walks receipt chains straight from the database,
 * server running or not; exit status 1 when a chain is broken. */
import type { CliCommand } from '../../cli/commands.js';
import { CliError } from '../../cli/errors.js';
import { publicKeyObject, Oracle } from './oracle.js';
import { verifyChain, type ChainReport } from './service.js';

export const verifyCommand: CliCommand = {
  name: 'verify',
  usage: 'verify [--model ID]',
  summary: "check receipt chains (hashes, links, oracle signatures) and report each model's first break",
  async run({ config, db, args, flags, out }) {
    const model = typeof flags.model === 'string' ? flags.model : undefined;
    if (args.length > 0) throw new CliError('usage: driftshield verify [--model ID] [--json]');
    const tables = db.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'receipts'").get();
    if (!tables) throw new CliError('this database has no receipts yet (run "driftshield migrate up")');
    const raw = Oracle.existingPublicKey(config, db);
    const publicKey = raw ? publicKeyObject(raw) : null;
    const ids = model
      ? [model]
      : (db.sqlite.prepare('SELECT DISTINCT model_id FROM receipts ORDER BY model_id').all() as Array<{ model_id: string }>).map((r) => r.model_id);
    if (model && !db.sqlite.prepare('SELECT 1 FROM models WHERE id = ?').get(model)) throw new CliError(`no model ${model}`);
    const reports: Array<ChainReport & { modelId: string }> = ids.map((id) => ({ modelId: id, ...verifyChain(db, id, publicKey) }));
    if (flags.json === true) {
      out(JSON.stringify(model ? reports[0] : { ok: reports.every((r) => r.ok), signaturesChecked: publicKey !== null, models: reports }));
    } else {
      if (!publicKey) out('warning: no oracle key found in the database or config; signatures were not checked');
      for (const r of reports) {
        out(
          r.ok
            ? `${r.modelId}: ok (${r.checked} receipts)`
            : `${r.modelId}: BROKEN at seq ${r.firstBreak!.seq}${r.firstBreak!.receiptId ? ` (${r.firstBreak!.receiptId})` : ''}: ${r.firstBreak!.reason}: ${r.firstBreak!.detail}`,
        );
      }
      if (!reports.length) out('no receipts to verify');
    }
    return reports.every((r) => r.ok) ? 0 : 1;
  },
};
