/**
 * Sign-In With Solana messages (Phantom's format, CAIP-122): built by the server, parsed back on
 * verify. Pure functions; the checks against stored challenges live in service.ts.
 */

export interface SiwsFields {
  domain: string;
  address: string;
  statement: string;
  uri: string;
  version: '1';
  chainId: string;
  nonce: string;
  issuedAt: string;
  expirationTime: string;
}

export function buildSiwsMessage(f: SiwsFields): string {
  return [
    `${f.domain} wants you to sign in with your Solana account:`,
    f.address,
    '',
    f.statement,
    '',
    `URI: ${f.uri}`,
    `Version: ${f.version}`,
    `Chain ID: ${f.chainId}`,
    `Nonce: ${f.nonce}`,
    `Issued At: ${f.issuedAt}`,
    `Expiration Time: ${f.expirationTime}`,
  ].join('\n');
}

const PATTERN =
  /^(?<domain>[^\s]+) wants you to sign in with your Solana account:\n(?<address>[1-9A-HJ-NP-Za-km-z]{32,44})\n\n(?<statement>[^\n]*)\n\nURI: (?<uri>[^\n]+)\nVersion: (?<version>1)\nChain ID: (?<chainId>[^\n]+)\nNonce: (?<nonce>[A-Za-z0-9]{8,64})\nIssued At: (?<issuedAt>[^\n]+)\nExpiration Time: (?<expirationTime>[^\n]+)$/;

/** Parses a SIWS message in exactly the server's layout; null when it does not match. */
export function parseSiwsMessage(message: string): SiwsFields | null {
  const m = PATTERN.exec(message);
  if (!m?.groups) return null;
  const g = m.groups as unknown as SiwsFields;
  if (Number.isNaN(Date.parse(g.issuedAt)) || Number.isNaN(Date.parse(g.expirationTime))) return null;
  return { ...g, version: '1' };
}
