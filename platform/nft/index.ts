/** Source verification in nftables over nfnetlink (see verify.ts). */
export * from './constants';
export * from './message';
export * from './element';
export * from './names';
export * from './ruleset';
export { Nfnl, type NfnlError, type NfnlResult, type NfnlOptions, type NfnlStats, type Reply, type TransactionOutcome } from './nfnl';
export * from './verify';
