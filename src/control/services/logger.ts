// LoggerService: RestartLogger reopens the log file (logrotate's postrotate calls it).

import type { ServiceImpl } from './types'

export const loggerService: ServiceImpl = {
  async RestartLogger(b) {
    await b.restartLogger()
    return {}
  },
}
