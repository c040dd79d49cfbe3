import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { generateKey, isKeyFormat } from '../../src/shared/ids'
import { tempDir } from '../helpers/gateway'
import { runCli, startServe } from '../helpers/process'
import { onEngine, openDataOf } from '../helpers/engine'

describe('xgate CLI', () => {
  test('version and gen-key', async () => {
    const v = await runCli(['version'])
    expect(v.code).toBe(0)
    expect(v.stdout).toMatch(/^xgate \S+ \(commit \S+, bun \d+\.\d+\.\d+\)/)
    const k = await runCli(['gen-key'])
    expect(k.code).toBe(0)
    expect(isKeyFormat(k.stdout.trim())).toBe(true)
  })

  test('an invalid setting stops start-up with one line naming it', async () => {
    const r = await runCli(['serve', '--port', 'x'], { DATA_DIR: tempDir() })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain('PORT')
  })

  test('without INIT_USERS a root key is generated, printed once and written 0600', async () => {
    const dir = tempDir()
    const first = await startServe({ DATA_DIR: dir })
    const keyFile = join(dir, 'root.key')
    expect(existsSync(keyFile)).toBe(true)
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    const key = readFileSync(keyFile, 'utf8').trim()
    expect(isKeyFormat(key)).toBe(true)
    expect(first.stdout()).toContain(key)
    first.proc.kill('SIGTERM')
    expect(await first.proc.exited).toBe(0)
    const second = await startServe({ DATA_DIR: dir })
    expect(second.stdout()).not.toContain(key)
    second.proc.kill('SIGTERM')
    expect(await second.proc.exited).toBe(0)
  })

  // The single-instance lock guards a SQLite file; on PostgreSQL several processes share one database.
  onEngine('sqlite', () => {
    test('a second process on the same DATA_DIR is refused with a clear message', async () => {
      const dir = tempDir()
      const a = await startServe({ DATA_DIR: dir })
      const b = await runCli(['serve', '--port', '0'], { DATA_DIR: dir })
      expect(b.code).toBe(1)
      expect(b.stderr).toContain('another xgate process is already serving')
      a.proc.kill('SIGTERM')
      expect(await a.proc.exited).toBe(0)
    })
  })

  test('INIT_USERS seeds root and funded children; a bad entry is refused by position', async () => {
    const dir = tempDir()
    const root = generateKey()
    const child = generateKey()
    const s = await startServe({ DATA_DIR: dir, INIT_USERS: `root::ops@example.com::${root},alice::alice@example.com::${child}::25` })
    s.proc.kill('SIGTERM')
    expect(await s.proc.exited).toBe(0)
    const db = await openDataOf(dir)
    const rows = await db.all('SELECT id, name, dna, parent_id FROM accounts ORDER BY id')
    expect(rows).toEqual([
      { id: 1, name: 'root', dna: '.1.', parent_id: null },
      { id: 2, name: 'alice', dna: '.1.2.', parent_id: 1 },
    ])
    expect(await db.get('SELECT CAST(SUM(balance_nano) AS BIGINT) AS s FROM cards WHERE account_id = 2')).toEqual({ s: 25_000_000_000 })
    expect(await db.get('SELECT CAST(SUM(delta_nano) AS BIGINT) AS s FROM ledger WHERE account_id = 2')).toEqual({ s: 25_000_000_000 })
    await db.close()
    const bad = await runCli(['serve', '--port', '0'], { DATA_DIR: tempDir(), INIT_USERS: `root::ops@example.com::${root},x::bad::nokey` })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('INIT_USERS entry 2')
  })

  onEngine('sqlite', () => {
    test('backup writes a consistent copy while the server runs; check verifies it', async () => {
      const dir = tempDir()
      const s = await startServe({ DATA_DIR: dir, INIT_USERS: `root::ops@example.com::${generateKey()},bob1::bob@example.com::${generateKey()}::5` })
      const file = join(tempDir(), 'copy.db')
      const b = await runCli(['backup', file], { DATA_DIR: dir })
      expect(b.code).toBe(0)
      const copy = new Database(file, { readonly: true })
      expect(copy.prepare('SELECT COUNT(*) AS n FROM accounts').get()).toEqual({ n: 2 })
      expect(copy.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
      copy.close()
      const again = await runCli(['backup', file], { DATA_DIR: dir })
      expect(again.code).toBe(1)
      expect(again.stderr).toContain('exists already')
      s.proc.kill('SIGTERM')
      expect(await s.proc.exited).toBe(0)
      const c = await runCli(['check'], { DATA_DIR: dir })
      expect(c.code).toBe(0)
      expect(c.stdout).toContain('integrity_check: ok')
      const db = new Database(join(dir, 'xgate.db'))
      db.prepare('UPDATE cards SET balance_nano = balance_nano + 1 WHERE account_id = 2').run()
      db.close()
      const broken = await runCli(['check'], { DATA_DIR: dir })
      expect(broken.code).toBe(1)
      expect(broken.stdout).toContain('ledger mismatch: account 2 (bob1)')
    })
  })

  onEngine('sqlite', () => {
    test('migrate creates the schema in a new DATA_DIR and exits; a second run applies nothing', async () => {
      const dir = tempDir()
      const first = await runCli(['migrate'], { DATA_DIR: dir })
      expect(first.code, first.stderr).toBe(0)
      expect(first.stdout).toMatch(/schema up to date at .*xgate\.db \([1-9]\d* versions applied\)/)
      expect(existsSync(join(dir, 'xgate.db'))).toBe(true)
      const again = await runCli(['migrate'], { DATA_DIR: dir })
      expect(again.stdout).toContain('(0 versions applied)')
    })
  })

  onEngine('postgres', () => {
    test('backup runs pg_dump while the server runs; check and migrate work on the database', async () => {
      const dir = tempDir()
      const s = await startServe({ DATA_DIR: dir, INIT_USERS: `root::ops@example.com::${generateKey()},bob1::bob@example.com::${generateKey()}::5` })
      const file = join(tempDir(), 'copy.dump')
      const b = await runCli(['backup', file], { DATA_DIR: dir })
      expect(b.code, b.stderr).toBe(0)
      expect(b.stdout).toContain('pg_dump')
      // A custom-format archive: its header names the format and the tables are in its table of contents.
      expect(readFileSync(file).subarray(0, 5).toString()).toBe('PGDMP')
      const again = await runCli(['backup', file], { DATA_DIR: dir })
      expect(again.code).toBe(1)
      expect(again.stderr).toContain('exists already')
      s.proc.kill('SIGTERM')
      expect(await s.proc.exited).toBe(0)
      const m = await runCli(['migrate'], { DATA_DIR: dir })
      expect(m.code, m.stderr).toBe(0)
      expect(m.stdout).toContain('(0 versions applied)')
      const c = await runCli(['check'], { DATA_DIR: dir })
      expect(c.code, c.stdout + c.stderr).toBe(0)
      expect(c.stdout).toContain('ledger: ok')
      expect(c.stdout).not.toContain('integrity_check')
      const db = await openDataOf(dir)
      await db.run('UPDATE cards SET balance_nano = balance_nano + 1 WHERE account_id = 2')
      await db.close()
      const broken = await runCli(['check'], { DATA_DIR: dir })
      expect(broken.code).toBe(1)
      expect(broken.stdout).toContain('ledger mismatch: account 2 (bob1)')
    })
  })

  test('SIGHUP reopens LOG_FILE after a rename and no request line is lost', async () => {
    const dir = tempDir()
    const logFile = join(dir, 'xgate.log')
    const s = await startServe({ DATA_DIR: dir, LOG_FILE: logFile })
    const hit = async (n: number) => {
      for (let i = 0; i < n; i++) expect((await fetch(`${s.url}/healthz`)).status).toBe(200)
    }
    await hit(20)
    renameSync(logFile, logFile + '.1')
    await hit(5) // still written to the renamed file until the signal
    s.proc.kill('SIGHUP')
    await Bun.sleep(100)
    await hit(15)
    s.proc.kill('SIGTERM')
    expect(await s.proc.exited).toBe(0)
    const lines = (f: string) =>
      readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.msg === 'request')
    const old = lines(logFile + '.1')
    const fresh = lines(logFile)
    expect(old.length + fresh.length).toBe(40)
    expect(fresh.length).toBeGreaterThanOrEqual(15)
    for (const l of [...old, ...fresh]) {
      expect(l.requestId).toMatch(/^req_/)
      expect(l.status).toBe(200)
      expect(typeof l.latencyMs).toBe('number')
    }
  })
})

describe('start-up failures', () => {
  test('a port in use is one clear line, not a stack trace', async () => {
    const blocker = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('x') })
    try {
      const dir = tempDir()
      const r = await runCli(['serve', '--host', '127.0.0.1', '--port', String(blocker.port)], { DATA_DIR: dir })
      expect(r.code).toBe(1)
      // The failed first start created the root key: the one line says where it is kept.
      const where = `(the root key is in ${join(dir, 'root.key')})`
      expect(r.stderr.trim()).toBe(`xgate: cannot listen on 127.0.0.1:${blocker.port}: the port is in use or not permitted ${where}`)
      expect(existsSync(join(dir, 'root.key'))).toBe(true)
    } finally {
      blocker.stop(true)
    }
  })
})
