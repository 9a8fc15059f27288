/** A one-line progress display for long CLI work (backups, restores, migrations) on stderr. */

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): (done: number, total: number) => void {
  let last = -1;
  let lastQuarter = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    if (pct === last) return;
    last = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}%`;
    if (stream.isTTY) stream.write(`\r${line}${pct === 100 ? '\n' : ''}`);
    // Not a terminal: one line per quarter crossed (steps rarely land exactly on 25, 50, 75).
    else if (pct === 100 || Math.floor(pct / 25) !== lastQuarter) {
      lastQuarter = Math.floor(pct / 25);
      stream.write(`${line}\n`);
    }
  };
}
