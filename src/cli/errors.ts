/** A CLI failure to report as one line (exit status 2), not a crash. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}
