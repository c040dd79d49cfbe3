// StatsService: counters (GetStats, QueryStats), process figures (GetSysStats) and who is online.

import { ControlError, GrpcStatus } from '../errors'
import type { ServiceImpl } from './types'

type GetStatsRequest = { name: string; reset: boolean }
type QueryStatsRequest = { pattern: string; reset: boolean; patterns: string[]; regexp: boolean }

function notFound(name: string): ControlError {
  return new ControlError(GrpcStatus.NOT_FOUND, `${name} not found.`)
}

export const statsService: ServiceImpl = {
  GetStats(b, req) {
    const { name, reset } = req as GetStatsRequest
    const value = reset ? b.counters.reset(name) : b.counters.get(name)
    if (value === undefined) throw notFound(name)
    return { stat: { name, value } }
  },

  QueryStats(b, req) {
    const q = req as QueryStatsRequest
    try {
      return { stat: b.counters.query(q) }
    } catch (e) {
      if (e instanceof SyntaxError) {
        throw new ControlError(GrpcStatus.INVALID_ARGUMENT, `bad regexp: ${e.message}`)
      }
      throw e
    }
  },

  GetSysStats(b) {
    const s = b.sysStats()
    return {
      NumGoroutine: s.inFlight,
      NumGC: s.gcCount ?? 0,
      Alloc: s.heapUsed,
      TotalAlloc: s.totalAlloc ?? 0,
      Sys: s.rss,
      Mallocs: 0,
      Frees: 0,
      LiveObjects: s.liveObjects ?? 0,
      PauseTotalNs: s.gcPauseTotalNs ?? 0,
      Uptime: Math.floor(s.uptimeS),
    }
  },

  GetStatsOnline(b, req) {
    const { name } = req as GetStatsRequest
    const value = b.online.count(name)
    if (value === undefined) throw notFound(name)
    return { stat: { name, value } }
  },

  GetStatsOnlineIpList(b, req) {
    const { name } = req as GetStatsRequest
    const ips = b.online.ips(name)
    if (ips === undefined) throw notFound(name)
    return { name, ips }
  },

  GetAllOnlineUsers(b) {
    return { users: b.online.users() }
  },
}
