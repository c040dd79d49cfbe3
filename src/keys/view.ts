// How every read shows an upstream key: the secret masked, its live state, and its counters (the
// stored totals of every node plus what this node has not written yet).
import type { LiveState, PoolKey } from './pool'
import type { KeyRow, KeyType } from './repo'
import { maskSecret } from './vault'

/** A key as every read shows it: the secret masked, live state and counters included. */
export type KeyView = {
  ID: number
  Name: string
  SecretKey: string
  PartialKey: string
  Level: number
  Provider: string
  Type: KeyType
  Status: boolean
  Weight: number
  Concurrency: number
  InFlight: number
  State: LiveState['state']
  SleepUntil: string | null
  DisabledReason: string | null
  Requests: number
  Errors: number
  CreatedAt: string
  UpdatedAt: string
}

export function keyView(
  k: PoolKey,
  row: KeyRow,
  live: LiveState,
  unsaved: { requests: number; errors: number },
): KeyView {
  return {
    ID: k.id,
    Name: k.name,
    SecretKey: maskSecret(k.tail),
    PartialKey: k.tail,
    Level: k.level,
    Provider: k.provider,
    Type: k.type,
    Status: k.status,
    Weight: k.weight,
    Concurrency: k.concurrency,
    InFlight: k.inFlight,
    State: live.state,
    SleepUntil: live.state === 'sleeping' ? new Date(live.untilMs).toISOString() : null,
    DisabledReason: live.state === 'disabled' ? live.reason : null,
    Requests: row.requests + unsaved.requests,
    Errors: row.errors + unsaved.errors,
    CreatedAt: new Date(row.createdAt).toISOString(),
    UpdatedAt: new Date(row.updatedAt).toISOString(),
  }
}

/** The /x-keys `status` filter: 1/true/on, 0/false/off (the operator's switch) or a live state. */
export function matchesStatus(v: KeyView, status: string | undefined): boolean {
  if (status === undefined || status === '') return true
  if (/^(1|true|on)$/i.test(status)) return v.Status
  if (/^(0|false|off)$/i.test(status)) return !v.Status
  return v.State === status
}

