// A ControlBackend in memory for the control tests: real counters and online tracker, a handler
// backend that records every call and enforces the errors the real gateway would raise.

import { createFakeClock } from '../../src/shared/clock'
import type {
  ControlBackend,
  InboundUser,
  NewUpstreamKey,
  NewUser,
  UpstreamKeyView,
} from '../../src/control/backend'
import { ControlError, GrpcStatus } from '../../src/control/errors'
import { createOnlineTracker } from '../../src/control/online'
import { createCounters } from '../../src/control/stats'

export type FakeBackend = ControlBackend & {
  calls: { method: string; args: unknown[] }[]
  users: Map<string, NewUser>
  keys: Map<string, NewUpstreamKey>
  loggerRestarts: number
  clock: ReturnType<typeof createFakeClock>
}

export function makeFakeBackend(): FakeBackend {
  const clock = createFakeClock()
  const users = new Map<string, NewUser>()
  const keys = new Map<string, NewUpstreamKey>()
  const calls: FakeBackend['calls'] = []
  const log = (method: string, ...args: unknown[]) => calls.push({ method, args })
  const view = (u: NewUser): InboundUser => ({
    email: u.email,
    level: u.level ?? 1,
    name: u.name ?? u.email.split('@')[0]!,
  })
  const b: FakeBackend = {
    calls,
    users,
    keys,
    loggerRestarts: 0,
    clock,
    counters: createCounters(),
    online: createOnlineTracker(clock),
    sysStats: () => ({ uptimeS: 42.7, rss: 70_000_000, heapUsed: 12_345_678, inFlight: 3 }),
    restartLogger: async () => {
      b.loggerRestarts++
    },
    handler: {
      listInbounds: () => ['openai', 'anthropic'],
      addUser(inbound, user) {
        log('addUser', inbound, user)
        if (users.has(user.email)) {
          throw new ControlError(GrpcStatus.ALREADY_EXISTS, `${user.email} exists`)
        }
        users.set(user.email, user)
      },
      removeUser(inbound, email) {
        log('removeUser', inbound, email)
        if (!users.delete(email)) throw new ControlError(GrpcStatus.NOT_FOUND, `${email} not found`)
      },
      getInboundUsers(inbound, email) {
        log('getInboundUsers', inbound, email)
        if (email === undefined) return [...users.values()].map(view)
        const u = users.get(email)
        if (!u) throw new ControlError(GrpcStatus.NOT_FOUND, `${email} not found`)
        return [view(u)]
      },
      countInboundUsers: async () => users.size,
      addOutbound(key) {
        log('addOutbound', key)
        if (keys.has(key.tag))
          throw new ControlError(GrpcStatus.ALREADY_EXISTS, `${key.tag} exists`)
        keys.set(key.tag, key)
      },
      removeOutbound(tag) {
        log('removeOutbound', tag)
        if (!keys.delete(tag)) throw new ControlError(GrpcStatus.NOT_FOUND, `${tag} not found`)
      },
      listOutbounds: async (): Promise<UpstreamKeyView[]> =>
        [...keys.values()].map((k) => ({
          tag: k.tag,
          provider: k.provider,
          secretMasked: `***${k.secret.slice(-4)}`,
          level: k.level ?? 1,
          type: k.type ?? 'openai',
          weight: k.weight ?? 1,
        })),
    },
  }
  return b
}
