// The Solana room's front door: what business code may use. Nothing here exposes a kit type, so
// modules outside src/solana never import @solana/kit.

export * from './port.js';
export { createRpcPort, type RpcPortOptions } from './rpc-port.js';
export {
  KeypairError,
  addressFromPublicKey,
  generateKeypair,
  generateKeypairFile,
  isValidAddress,
  isValidSignature,
  keypairFromSecretKey,
  loadKeypairFile,
  parseKeypairJson,
  publicKeyFromAddress,
  type KeypairErrorCode,
  type SolanaKeypair,
} from './keys.js';
export {
  USDC_DECIMALS,
  buildUsdcTransfer,
  checkDeposit,
  deriveAssociatedTokenAddress,
  verifyDeposit,
  type DepositCheck,
  type DepositRejection,
  type DepositVerification,
  type ExpectedDeposit,
} from './usdc.js';
export {
  MEMO_PROGRAM_ADDRESS,
  anchorMemo,
  buildMemoTransaction,
  findMemosInLogs,
  findMemosInTransaction,
  hasMemo,
} from './memo.js';
export { WireDecodeError, transactionSignature, type SignedTransaction } from './wire.js';
