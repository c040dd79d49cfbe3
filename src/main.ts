#!/usr/bin/env bun
// CLI entry: parse args → load config → run the sub-command. `serve` is the default.
import { existsSync } from 'node:fs'
import { totalmem } from 'node:os'
import { join } from 'node:path'
import { COMMIT, ConfigError, VERSION, configFromProcess, serveEnv, parseArgs, settingsHelp } from './config'
import { InstanceLockedError } from './db/open'
import { backupStore, checkStore, migrateStore } from './db/commands'
import { generateKey } from './shared/ids'
import { startGateway } from './server'

const USAGE = `usage: xgate [serve|version|gen-key|backup FILE|check|migrate|help] [--port N] [--host H] [--data-dir D] [--config FILE] [--NAME value]
  serve         run the gateway (the default); \`xgate serve --help\` lists every setting
  version       print the version and commit
  gen-key       print a new sk-Xvs… key
  backup FILE   write a consistent copy of the database to FILE while serving (PostgreSQL: pg_dump)
  check         verify the database: integrity, ledger, conservation
  migrate       apply the schema migrations and exit (SQLite in DATA_DIR, or DATABASE_URL)`

function fail(message: string, code = 1): never {
  process.stderr.write(`xgate: ${message}\n`)
  process.exit(code)
}

/**
 * Replaces this process (same PID, descriptors and parent: systemd, signals and kill -9 see no
 * difference) with itself under the environment of serveEnv(): Bun's limit of 256 fetches in
 * flight lifted (UPSTREAM_FETCH_LIMIT) and the JS heap sized for a 2 GiB host
 * (HEAP_SIZED_FOR_BYTES). Runs before anything is opened; without process.execve, or if it
 * fails, serving goes on with Bun's defaults.
 */
function restartTuned(): void {
  const env = serveEnv(totalmem())
  if (!env || typeof process.execve !== 'function') return
  // A compiled binary puts its embedded entry in argv[1] itself; `bun src/main.ts` needs it passed.
  const standalone = Bun.main.startsWith('/$bunfs/')
  const argv = standalone
    ? [process.execPath, ...process.argv.slice(2)]
    : [process.execPath, ...process.execArgv, ...process.argv.slice(1)]
  try {
    process.execve(process.execPath, argv, env)
  } catch (e) {
    const why = (e as Error).message
    const defaults = "Bun's defaults (at most 256 upstream calls in flight)"
    process.stderr.write(`xgate: serving with ${defaults}: ${why}\n`)
  }
}

/** Where the generated root key lives; said on every start without INIT_USERS so it is never lost. */
function rootKeyNote(config: { DATA_DIR: string; INIT_USERS?: string }): string | null {
  if (config.INIT_USERS) return null
  const file = join(config.DATA_DIR, 'root.key')
  return existsSync(file) ? `xgate: the root key is in ${file}\n` : `xgate: no ${file} (removed after the first start)\n`
}

async function serve(flags: Record<string, string>) {
  const config = configFromProcess(flags)
  let gw: Awaited<ReturnType<typeof startGateway>>
  try {
    gw = await startGateway(config)
  } catch (e) {
    const msg = (e as Error).message ?? ''
    if (/Failed to start server|EADDRINUSE|address already in use/i.test(msg)) {
      // A first start may have created the root key just before the bind failed: say where it is.
      const keyFile = join(config.DATA_DIR, 'root.key')
      const where = !config.INIT_USERS && existsSync(keyFile) ? ` (the root key is in ${keyFile})` : ''
      fail(`cannot listen on ${config.HOST}:${config.PORT}: the port is in use or not permitted${where}`)
    }
    throw e
  }
  // Signals are handled before the port is announced: whoever reads it may stop us at once.
  const shutdown = (signal: string) => {
    gw.deps.log.info('stopping', { signal })
    gw.stop().then(
      () => process.exit(0),
      (e) => fail(`stop failed: ${(e as Error).message}`),
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  const reopen = () => gw.deps.log.reopen()
  process.on('SIGHUP', reopen)
  process.on('SIGUSR1', reopen)
  if (gw.generatedRootKey) {
    process.stdout.write(
      `xgate: created root account; its key (shown once, also in ${join(config.DATA_DIR, 'root.key')}):\n${gw.generatedRootKey}\n`,
    )
  } else process.stdout.write(rootKeyNote(config) ?? '')
  process.stdout.write(`xgate: listening on http://${config.HOST}:${gw.port}\n`)
  gw.deps.log.info('listening', { url: `http://${config.HOST}:${gw.port}`, dataDir: config.DATA_DIR, version: VERSION })
  gw.deps.log.flush()
}

async function check(flags: Record<string, string>) {
  const config = configFromProcess(flags)
  let report
  try {
    report = await checkStore(config)
  } catch (e) {
    fail((e as Error).message)
  }
  process.stdout.write(report.lines.join('\n') + '\n')
  process.exit(report.ok ? 0 : 1)
}

async function main() {
  const argv = process.argv.slice(2)
  const { command, args, flags } = parseArgs(argv)
  // --help / -h anywhere: the usage, or the settings table when the command is serve.
  const wantsHelp = flags.HELP !== undefined || argv.includes('-h')
  if (wantsHelp || command === '-h') {
    const named = argv.find((a) => !a.startsWith('-'))
    process.stdout.write((named === 'serve' ? settingsHelp() : USAGE) + '\n')
    return
  }
  try {
    switch (command) {
      case 'serve':
        restartTuned()
        return await serve(flags)
      case 'version':
        process.stdout.write(`xgate ${VERSION} (commit ${COMMIT}, bun ${Bun.version})\n`)
        return
      case 'gen-key':
        process.stdout.write(generateKey() + '\n')
        return
      case 'backup': {
        if (!args[0]) fail('backup needs a FILE: xgate backup FILE')
        const config = configFromProcess(flags)
        try {
          process.stdout.write(`xgate: ${await backupStore(config, args[0])}\n`)
        } catch (e) {
          fail((e as Error).message)
        }
        return
      }
      case 'migrate': {
        const { applied, where } = await migrateStore(configFromProcess(flags))
        process.stdout.write(`xgate: schema up to date at ${where} (${applied} version${applied === 1 ? '' : 's'} applied)\n`)
        return
      }
      case 'check':
        return check(flags)
      case 'help':
        process.stdout.write(USAGE + '\n')
        return
      default:
        fail(`unknown command ${command}\n${USAGE}`, 2)
    }
  } catch (e) {
    if (e instanceof ConfigError || e instanceof InstanceLockedError) fail(e.message)
    if (e instanceof Error && /^control API/.test(e.message)) fail(e.message)
    if (e instanceof Error && /INIT_USERS|INIT_KEYS/.test(e.message)) fail(e.message)
    throw e
  }
}

await main()
