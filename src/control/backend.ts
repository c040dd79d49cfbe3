// ControlBackend: everything the control services need from the running gateway. The gateway
// implements it; the services validate and translate messages and never reach past it.
// Any method may throw a ControlError (or an AppError) to answer with that status.

import type { Counters } from './stats'
import type { OnlineTracker } from './online'

/** Process figures for GetSysStats; fields a runtime cannot tell are left out (sent as 0). */
export type SysStats = {
  uptimeS: number
  /** Resident set size, bytes (Xray's `Sys`). */
  rss: number
  /** JS heap in use, bytes (Xray's `Alloc`). */
  heapUsed: number
  /** Proxied calls in flight (Xray's `NumGoroutine`). */
  inFlight: number
  /** Bytes allocated since start (Xray's `TotalAlloc`), if known. */
  totalAlloc?: number
  gcCount?: number
  gcPauseTotalNs?: number
  liveObjects?: number
}

/** AddUserOperation, validated: a new child of root. */
export type NewUser = {
  email: string
  /** Key-pool level; undefined when the caller sent 0, proto3's "unset" (inherit root's). */
  level?: number
  /** sk-Xvs + 45 alphanumerics; undefined = the gateway generates one. */
  accountKey?: string
  /** Account Name; undefined = the gateway derives one from the email. */
  name?: string
  /** Opening credit, nano-USD; undefined = none. */
  creditNano?: number
}

/** A user as GetInboundUsers shows it: never a key. */
export type InboundUser = { email: string; level: number; name: string }

/** AddOutbound, validated: a new upstream provider key named `tag`. */
export type NewUpstreamKey = {
  tag: string
  /** Provider base URL (http or https). */
  provider: string
  secret: string
  /** 0-10; undefined = 1. */
  level?: number
  /** undefined = inferred from provider. */
  type?: 'openai' | 'anthropic'
  /** undefined = 1. */
  weight?: number
}

/** An upstream key as ListOutbounds shows it: the secret already masked by the gateway. */
export type UpstreamKeyView = {
  tag: string
  provider: string
  secretMasked: string
  level: number
  type: 'openai' | 'anthropic'
  weight: number
}

type MaybePromise<T> = T | Promise<T>

export interface HandlerBackend {
  /** The API surfaces: ['openai', 'anthropic']. */
  listInbounds(): string[]
  /** Creates the account; ALREADY_EXISTS for a taken email, name or key. */
  addUser(inbound: string, user: NewUser): MaybePromise<void>
  /** Deletes the account with refund (SPEC §2.3); NOT_FOUND if there is none. */
  removeUser(inbound: string, email: string): MaybePromise<void>
  /** All users of the inbound, or the one with that email (NOT_FOUND if none). */
  getInboundUsers(inbound: string, email?: string): MaybePromise<InboundUser[]>
  countInboundUsers(inbound: string): MaybePromise<number>
  /** ALREADY_EXISTS for a taken name or secret. */
  addOutbound(key: NewUpstreamKey): MaybePromise<void>
  /** NOT_FOUND if there is no key of that name. */
  removeOutbound(tag: string): MaybePromise<void>
  listOutbounds(): MaybePromise<UpstreamKeyView[]>
}

export interface ControlBackend {
  counters: Counters
  online: OnlineTracker
  sysStats(): SysStats
  /** Open the log file anew, swap, then close the old one (no line lost). */
  restartLogger(): MaybePromise<void>
  handler: HandlerBackend
}
