// In-process notifications between features, so accounts need not know who caches what:
// the auth cache, balances, limits and counters subscribe; admin writes publish.

/** `remote`: the change was made on another node and reached this one through the bus. */
export type AccountEvent = { id: number; name: string; dna: string; remote?: boolean }
export type SettingsEvent = { keys: string[]; remote?: boolean }

type Handler<E> = (e: E) => void

export type Events = {
  /** After any committed change to an account's fields, cards, key or status. */
  onAccountChanged(fn: Handler<AccountEvent>): void
  accountChanged(e: AccountEvent): void
  /** After an account (and, as separate events, each descendant) is deleted. */
  onAccountDeleted(fn: Handler<AccountEvent>): void
  accountDeleted(e: AccountEvent): void
  /** After a global setting (/x-config) is stored. */
  onSettingsChanged(fn: Handler<SettingsEvent>): void
  settingsChanged(e: SettingsEvent): void
}

export function createEvents(): Events {
  const changed: Handler<AccountEvent>[] = []
  const deleted: Handler<AccountEvent>[] = []
  const settings: Handler<SettingsEvent>[] = []
  return {
    onAccountChanged: (fn) => void changed.push(fn),
    accountChanged: (e) => changed.forEach((f) => f(e)),
    onAccountDeleted: (fn) => void deleted.push(fn),
    accountDeleted: (e) => deleted.forEach((f) => f(e)),
    onSettingsChanged: (fn) => void settings.push(fn),
    settingsChanged: (e) => settings.forEach((f) => f(e)),
  }
}
