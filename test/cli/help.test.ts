// `xgate --help`, `-h`, `help` print the usage; `serve --help` the settings; the root key's place is said.
import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../helpers/gateway'
import { runCli, startServe } from '../helpers/process'

describe('xgate help and first run', () => {
  test('--help, -h and help print the usage and exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = await runCli(args, { DATA_DIR: tempDir() })
      expect(r.code, args.join(' ')).toBe(0)
      expect(r.stdout, args.join(' ')).toStartWith('usage: xgate')
    }
  })

  test('serve --help lists the settings with defaults and does not start', async () => {
    const dir = tempDir()
    const r = await runCli(['serve', '--help'], { DATA_DIR: dir })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/PORT\s+3443\s+HTTP port/)
    expect(existsSync(join(dir, 'xgate.db'))).toBe(false)
  })

  test('a start after the first one says where root.key is', async () => {
    const dir = tempDir()
    const first = await startServe({ DATA_DIR: dir })
    first.proc.kill('SIGTERM')
    expect(await first.proc.exited).toBe(0)
    const key = readFileSync(join(dir, 'root.key'), 'utf8').trim()
    const second = await startServe({ DATA_DIR: dir })
    expect(second.stdout()).toContain(`the root key is in ${join(dir, 'root.key')}`)
    expect(second.stdout()).not.toContain(key)
    second.proc.kill('SIGTERM')
    expect(await second.proc.exited).toBe(0)
  })
})
