// clientIp and TRUST_PROXY: X-Forwarded-For read only from a trusted peer, from the right,
// skipping trusted hops; forged or odd entries never become the client address.
import { describe, expect, test } from 'bun:test'
import { ConfigError } from '../../src/config'
import { clientIp, trustedProxies } from '../../src/proxy/clientip'

const trusted = trustedProxies('127.0.0.1 10.0.0.0/8, fd00::/8')

describe('clientIp', () => {
  test('an untrusted peer: its X-Forwarded-For is ignored', () => {
    expect(clientIp('203.0.113.9', '10.1.2.3', trusted)).toBe('203.0.113.9')
    expect(clientIp('203.0.113.9', '1.1.1.1', trustedProxies(undefined))).toBe('203.0.113.9')
  })

  test('a trusted peer: the rightmost untrusted hop is the client', () => {
    expect(clientIp('127.0.0.1', '198.51.100.7', trusted)).toBe('198.51.100.7')
    // A client's own forged entry sits left of what the proxies added: never reached.
    expect(clientIp('127.0.0.1', '10.9.9.9, 198.51.100.7, 10.0.0.5', trusted)).toBe('198.51.100.7')
    expect(clientIp('::ffff:127.0.0.1', '2001:db8::5', trusted)).toBe('2001:db8::5')
    expect(clientIp('fd00::1', '2001:db8::5, fd00::2', trusted)).toBe('2001:db8::5')
  })

  test('ports and brackets are stripped; no header or all-trusted hops fall back sensibly', () => {
    expect(clientIp('127.0.0.1', '[2001:db8::7]:443', trusted)).toBe('2001:db8::7')
    expect(clientIp('127.0.0.1', '198.51.100.7:5555', trusted)).toBe('198.51.100.7')
    expect(clientIp('127.0.0.1', null, trusted)).toBe('127.0.0.1')
    expect(clientIp('127.0.0.1', '10.0.0.1, 10.0.0.2', trusted)).toBe('10.0.0.1')
    expect(clientIp('127.0.0.1', ' , ', trusted)).toBe('127.0.0.1')
  })

  test('a hop that is not an address stops the walk at the nearest trusted hop', () => {
    expect(clientIp('127.0.0.1', '198.51.100.7, evil', trusted)).toBe('127.0.0.1')
    expect(clientIp('127.0.0.1', 'evil, 10.0.0.3', trusted)).toBe('10.0.0.3')
  })

  test('a bad TRUST_PROXY entry is a ConfigError naming the setting', () => {
    expect(() => trustedProxies('10.0.0.1/8')).toThrow(ConfigError)
    expect(() => trustedProxies('proxy.example')).toThrow(/TRUST_PROXY/)
  })
})
