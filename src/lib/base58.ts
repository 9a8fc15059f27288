/** Base58 helpers (bs58) with length checks for Solana keys and signatures. */
import bs58 from 'bs58';

/** Decodes base58, returning null for malformed input or the wrong byte length. */
export function decodeBase58(value: string, bytes: number): Uint8Array | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) return null;
  try {
    const decoded = bs58.decode(value);
    return decoded.length === bytes ? decoded : null;
  } catch {
    return null;
  }
}

/** True when `address` is a base58 ed25519 public key (32 bytes). */
export const isSolanaAddress = (address: string): boolean => decodeBase58(address, 32) !== null;
