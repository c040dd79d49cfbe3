// HandlerService on the running gateway: inbounds are the API surfaces, users are accounts (added
// as children of root, removed with refund), outbounds are upstream keys. Every change goes through
// the same services as the admin API, so it is validated, transactional and in the operation log.
import type { Account } from '../accounts/repo'
import type { Deps } from '../deps'
import type { HandlerBackend, InboundUser, NewUpstreamKey, UpstreamKeyView } from './backend'
import { ControlError, GrpcStatus } from './errors'

export const INBOUNDS = ['openai', 'anthropic']
/** GetInboundUsers without an email lists root's direct children, at most this many. */
const MAX_LISTED_USERS = 10_000

/** The upstream-key operations HandlerService needs; the keys feature implements them. */
export type OutboundOps = {
  add(root: Account, key: NewUpstreamKey): Promise<void> | void
  remove(root: Account, name: string): Promise<void> | void
  list(): Promise<UpstreamKeyView[]> | UpstreamKeyView[]
}

/** A name for an account created from an e-mail alone: its local part, made valid. */
export function nameFromEmail(email: string): string {
  let base = email.split('@')[0]!.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60)
  if (!/[A-Za-z]/.test(base)) base = `u_${base}`
  return base.padEnd(4, '_')
}

/** Upstream keys through the keys service: validated, encrypted, logged like POST /x-keys. */
export function keysOutbounds(deps: Deps): OutboundOps {
  const svc = deps.keys.service
  return {
    async add(root, k) {
      await svc.add(root, { Name: k.tag, SecretKey: k.secret, Provider: k.provider, Level: k.level, Type: k.type, Weight: k.weight })
    },
    async remove(root, name) {
      await svc.remove(root, name)
    },
    list: async () =>
      (await svc.list({})).map((v) => ({
        tag: v.Name,
        provider: v.Provider,
        secretMasked: v.SecretKey,
        level: v.Level,
        type: v.Type,
        weight: v.Weight,
      })),
  }
}

export function createHandlerBackend(deps: Deps, outbounds: OutboundOps = keysOutbounds(deps)): HandlerBackend {
  const svc = deps.accounts.service
  const root = async (): Promise<Account> => {
    const r = await deps.accounts.repo.findById(1)
    if (!r) throw new ControlError(GrpcStatus.FAILED_PRECONDITION, 'no root account')
    return r
  }
  const inbound = (tag: string) => {
    if (!INBOUNDS.includes(tag)) throw new ControlError(GrpcStatus.NOT_FOUND, `inbound "${tag}" not found (inbounds: ${INBOUNDS.join(', ')})`)
  }
  const view = (a: Account): InboundUser => ({ email: a.email, level: a.level, name: a.name })

  return {
    listInbounds: () => [...INBOUNDS],
    async addUser(tag, user) {
      inbound(tag)
      const body: Record<string, unknown> = {
        Name: user.name ?? nameFromEmail(user.email),
        Email: user.email,
        CreditGranted: (user.creditNano ?? 0) / 1e9,
      }
      if (user.level !== undefined) body.Level = user.level
      await svc.create(await root(), body, { key: user.accountKey, noMinimum: true })
    },
    async removeUser(tag, email) {
      inbound(tag)
      const target = await deps.accounts.repo.findByEmail(email.trim().toLowerCase())
      if (!target || target.id === 1) throw new ControlError(GrpcStatus.NOT_FOUND, `user ${email} not found`)
      await svc.remove(await root(), String(target.id))
    },
    async getInboundUsers(tag, email) {
      inbound(tag)
      if (email) {
        const a = await deps.accounts.repo.findByEmail(email.trim().toLowerCase())
        if (!a) throw new ControlError(GrpcStatus.NOT_FOUND, `user ${email} not found`)
        return [view(a)]
      }
      return (await deps.accounts.repo.childrenOf(1, MAX_LISTED_USERS)).map(view)
    },
    countInboundUsers(tag) {
      inbound(tag)
      return deps.accounts.repo.childCount(1)
    },
    addOutbound: async (key) => outbounds.add(await root(), key),
    removeOutbound: async (name) => outbounds.remove(await root(), name),
    listOutbounds: () => outbounds.list(),
  }
}
