// Who is signed in: the key (api.ts keeps it in sessionStorage) and the account's record from
// /dashboard/x-user-info, refreshed after every change a screen makes.
import { computed, signal } from '@preact/signals'
import { apiKey, get, request, setKey } from './api'

export type Card = {
  amount: number
  balance: number
  granted_at: string
  expires_at: string
  reference?: string
}
export type Use = { limit: number; used: number }
export type UserInfo = {
  ID: number
  Name: string
  Email: string
  Alias: string
  DNA: string
  Rates: number
  Balance: number | null
  HardLimit: number
  SoftLimit: number
  Child: number
  CreditBalance: Card[]
  CreditUsed: number
  Requests: number
  Held: number
  InFlight: number
  PartialKey: string
  RPM: number
  RPH: number
  RPD: number
  TPM: number
  TPH: number
  TPD: number
  Concurrency: number
  AllowIPs: string
  AllowModels: string
  AllowLevels: string
  Resources: string
  ModelLimits: Record<string, { rpm?: number; tpm?: number }> | null
  Usage: {
    Today: { date: string; requests: number; cost: number }
    Month: { month: string; requests: number; cost: number }
  }
  LimitUse: Record<'RPM' | 'RPH' | 'RPD' | 'TPM' | 'TPH' | 'TPD' | 'Concurrency', Use> & {
    ModelLimits: Record<string, { rpm: Use; tpm: Use; source: string }>
  }
}

export const me = signal<UserInfo | null>(null)
export const isRoot = computed(() => me.value?.ID === 1)

export async function refreshMe(): Promise<UserInfo> {
  const info = await get<UserInfo>('/dashboard/x-user-info')
  me.value = info
  return info
}

/** Tries the key; keeps it only once xgate has accepted it. */
export async function signIn(key: string): Promise<void> {
  const k = key.trim()
  const info = await request<UserInfo>('GET', '/dashboard/x-user-info', undefined, k)
  me.value = info.body
  setKey(k)
}

export function signOut(): void {
  setKey(null)
  me.value = null
  location.hash = ''
}

export const signedIn = computed(() => apiKey.value !== null)
