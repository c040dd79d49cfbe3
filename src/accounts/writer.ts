// The repositories one admin write works with, all made on its transaction: the account rows,
// the wallet's cards and ledger, the directory (subtrees, clamps) and the operation log.
import type { Sql } from '../db/sql'
import { createOpLogRepo, type OpLogRepo } from '../logs/repo'
import { createCardsRepo, type CardsRepo } from '../wallet/repo'
import { createDirectory, type Directory } from './directory-repo'
import { createAccountsRepo, type AccountsRepo } from './repo'

export type Writer = {
  accounts: AccountsRepo
  cards: CardsRepo
  directory: Directory
  oplog: OpLogRepo
}

/** `onMove`: each balance change the write makes (see createCardsRepo). */
export function writerOf(tx: Sql, onMove?: (accountId: number, deltaNano: number) => void): Writer {
  return {
    accounts: createAccountsRepo(tx),
    cards: createCardsRepo(tx, onMove),
    directory: createDirectory(tx),
    oplog: createOpLogRepo(tx),
  }
}
