// The words of xgate's alert e-mails: short plain text naming the account, the figure, the limit
// and the month. Nothing secret (no keys, no SMTP settings) ever goes into a mail.

/** The parts of an account an alert needs. */
export type AlertAccount = {
  id: number
  name: string
  email: string
  billingEmail: string | null
  softLimitNano: number
  /** Book units per USD (Rates): the EMAIL_BALANCE threshold is scaled by it, as balances are. */
  rates?: number
}

export type MailText = { subject: string; text: string }

const NANO_PER_CENT = 10_000_000

/**
 * nano-USD → `$12.34`. Rounds down to the cent so a balance just under a threshold never reads
 * as equal to it.
 */
export function formatUsd(nano: number): string {
  const cents = Math.floor(nano / NANO_PER_CENT)
  const abs = Math.abs(cents)
  const whole = Math.floor(abs / 100)
  const rest = abs % 100
  return `${cents < 0 ? '-' : ''}$${whole}.${rest < 10 ? '0' : ''}${rest}`
}

export function softLimitText(account: AlertAccount, spendNano: number, month: string): MailText {
  return {
    subject: `xgate: ${account.name} reached its monthly soft limit (${month})`,
    text: [
      `Account ${account.name} has spent ${formatUsd(spendNano)} in ${month},`,
      `reaching its monthly soft limit of ${formatUsd(account.softLimitNano)}.`,
      'Calls go on until the hard limit. This notice is sent once a month.',
      '',
    ].join('\n'),
  }
}

export function lowBalanceText(
  account: AlertAccount,
  balanceNano: number,
  thresholdNano: number,
  month: string,
): MailText {
  return {
    subject: `xgate: ${account.name} balance is low (${formatUsd(balanceNano)})`,
    text: [
      `The balance of account ${account.name} is ${formatUsd(balanceNano)} (${month}),`,
      `under the alert threshold of ${formatUsd(thresholdNano)}.`,
      'Add credit to keep calls going. You will be told again only after the balance has been',
      'topped up above the threshold and falls under it once more.',
      '',
    ].join('\n'),
  }
}
