// Who is online: per account, the client IPs with a proxied call in flight. Backs StatsService's
// GetStatsOnline / GetStatsOnlineIpList / GetAllOnlineUsers under Xray's map name
// `user>>>NAME>>>online` (three segments: it is a map, not a counter).

import type { Clock } from '../shared/clock'
import { sanitizeId } from './stats'

type IpState = { inFlight: number; lastSeenS: number }

export interface OnlineTracker {
  /** A call from ip for user started; call the returned function once when it ends. */
  enter(user: string, ip: string): () => void
  /** IPs online for that map name; undefined when the user was never seen (NOT_FOUND). */
  count(mapName: string): number | undefined
  /** ip -> unix seconds of its latest call start, as Xray reports "last seen". */
  ips(mapName: string): Record<string, number> | undefined
  /** Map names with at least one IP online, sorted. */
  users(): string[]
  /** Forget a deleted account. */
  dropUser(user: string): void
}

export function onlineMapName(user: string): string {
  return `user>>>${sanitizeId(user)}>>>online`
}

/**
 * Like Xray, a user's map stays (empty) after its last call ends, so GetStatsOnline answers 0
 * rather than NOT_FOUND; maps go with dropUser, so their number is bounded by the accounts, and
 * the IPs inside by the calls in flight.
 */
export function createOnlineTracker(clock: Clock): OnlineTracker {
  const maps = new Map<string, Map<string, IpState>>()
  /** Account name → its map name, built once per account rather than once per call. */
  const names = new Map<string, string>()
  const nameOf = (user: string) => {
    let name = names.get(user)
    if (name === undefined) {
      name = onlineMapName(user)
      names.set(user, name)
    }
    return name
  }

  return {
    enter(user, ip) {
      const name = nameOf(user)
      let map = maps.get(name)
      if (!map) {
        map = new Map()
        maps.set(name, map)
      }
      const nowS = Math.floor(clock.now() / 1000)
      let st = map.get(ip)
      if (st) {
        st.inFlight++
        st.lastSeenS = nowS
      } else {
        st = { inFlight: 1, lastSeenS: nowS }
        map.set(ip, st)
      }
      const entry = st
      const owner = map
      let left = false
      return () => {
        if (left) return
        left = true
        // `owner` may have been dropped with its account meanwhile: then this touches nothing live.
        entry.inFlight--
        if (entry.inFlight <= 0 && owner.get(ip) === entry) owner.delete(ip)
      }
    },
    count: (mapName) => maps.get(mapName)?.size,
    ips(mapName) {
      const map = maps.get(mapName)
      if (!map) return undefined
      const out: Record<string, number> = {}
      for (const [ip, st] of map) out[ip] = st.lastSeenS
      return out
    },
    users() {
      const out: string[] = []
      for (const [name, map] of maps) if (map.size > 0) out.push(name)
      return out.sort()
    },
    dropUser(user) {
      names.delete(user)
      maps.delete(onlineMapName(user))
    },
  }
}
