// Upstream secrets at rest: AES-256-GCM under the master key in DATA_DIR/master.key (created once,
// mode 0600), plus the SHA-256 used to refuse duplicates and the masked form shown on reads.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16

export type Vault = {
  encrypt(secret: string): string
  decrypt(sealed: string): string
}

/** Reads DATA_DIR/master.key, creating it (32 random bytes, base64, 0600) when absent. */
export function loadMasterKey(dataDir: string): Buffer {
  const path = join(dataDir, 'master.key')
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
    chmodSync(path, 0o600)
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64')
  if (key.length !== 32) throw new Error(`${path}: master key must be 32 bytes in base64`)
  return key
}

/**
 * `v1:` + base64(iv ‖ tag ‖ ciphertext); a fresh random IV per secret. A function for the key
 * defers reading (or creating) master.key until the first secret is sealed or opened.
 */
export function createVault(master: Buffer | (() => Buffer)): Vault {
  let key: Buffer | null = typeof master === 'function' ? null : master
  const masterKey = () => (key ??= (master as () => Buffer)())
  return {
    encrypt(secret) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', masterKey(), iv)
      const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()])
      return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`
    },
    decrypt(sealed) {
      const [version, data] = sealed.split(':')
      if (version !== VERSION || !data) throw new Error('unknown secret encoding')
      const raw = Buffer.from(data, 'base64')
      const decipher = createDecipheriv('aes-256-gcm', masterKey(), raw.subarray(0, IV_BYTES))
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
      return Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8')
    },
  }
}

export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/** The last 4 characters: enough to tell keys apart, never enough to use one (none if short). */
export function secretTail(secret: string): string {
  return secret.length >= 16 ? secret.slice(-4) : ''
}

/** What every read shows instead of a secret. */
export function maskSecret(tail: string): string {
  return `***${tail}`
}
