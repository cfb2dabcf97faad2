/**
 * Webhook target safety, table by table: IPv4 and IPv6 ranges, IPv4-mapped / NAT64 / 6to4 addresses, URL forms the
 * WHATWG parser normalizes (decimal, hex, short IPv4), and hostnames resolving to private addresses through an
 * injected resolver.
 */
import { describe, expect, it } from 'vitest';
import { addressKind, checkWebhookTarget, checkWebhookUrl } from '../../collector/core/automation/urls';
import { InputError } from '../../collector/core/errors';

describe('addressKind', () => {
  const blocked: Array<[string, string]> = [
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.8', 'IETF'],
    ['192.0.2.1', 'documentation'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback'],
    ['::ffff:10.1.2.3', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped link-local'],
    ['0:0:0:0:0:ffff:c0a8:0101', 'IPv4-mapped private'],
    ['::127.0.0.1', 'IPv4-mapped loopback'],
    ['64:ff9b::10.0.0.1', 'NAT64 private'],
    ['64:ff9b:1::1', 'NAT64 local-use'],
    ['2002:7f00:0001::1', '6to4 loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'discard-only'],
  ];
  it.each(blocked)('%s is not public (%s)', (ip, kind) => {
    expect(addressKind(ip)).toContain(kind);
  });

  const open = [
    '1.1.1.1',
    '8.8.8.8',
    '93.184.215.14',
    '100.63.255.255',
    '100.128.0.1',
    '172.15.255.255',
    '172.32.0.1',
    '192.169.0.1',
    '198.20.0.1',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:0808:0808::1',
    'fe00::1',
  ];
  it.each(open)('%s is public', (ip) => {
    expect(addressKind(ip)).toBeUndefined();
  });

  it('refuses what is not an address', () => {
    expect(() => addressKind('example.com')).toThrow(InputError);
    expect(() => addressKind('1.2.3')).toThrow(InputError);
    expect(() => addressKind('1::2::3')).toThrow(InputError);
    expect(() => addressKind('12345::')).toThrow(InputError);
  });
});

describe('checkWebhookUrl (no network)', () => {
  const refused: Array<[string, RegExp]> = [
    ['ftp://example.com/x', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['javascript:alert(1)', /http or https/],
    ['not a url', /not a URL/],
    ['https://user:pw@example.com/', /credentials/],
    ['http://127.0.0.1:8080/hook', /127\.0\.0\.1 is not a public address \(loopback\).*allowPrivateWebhooks/],
    ['http://localhost/hook', /loopback/],
    ['http://api.localhost/hook', /loopback/],
    ['http://2130706433/', /127\.0\.0\.1.*loopback/], // decimal
    ['http://0x7f.1/', /127\.0\.0\.1.*loopback/], // hex, short form
    ['http://0177.0.0.1/', /127\.0\.0\.1.*loopback/], // octal
    ['http://[::1]/', /loopback/],
    ['http://[::ffff:127.0.0.1]/', /IPv4-mapped loopback/],
    ['http://[::ffff:a9fe:a9fe]/', /IPv4-mapped link-local/],
    ['http://169.254.169.254/latest/meta-data/', /link-local/],
    ['https://10.0.0.5/', /private/],
    ['https://[fd00::5]/', /unique-local/],
    ['http://0.0.0.0:80/', /unspecified/],
  ];
  it.each(refused)('%s is refused', (url, message) => {
    expect(() => checkWebhookUrl(url, false)).toThrow(message);
  });

  it('allows public targets, and private ones only with the development allowance', () => {
    expect(checkWebhookUrl('https://hooks.example.com/cjm?x=1', false).hostname).toBe('hooks.example.com');
    expect(checkWebhookUrl('http://8.8.8.8/', false).hostname).toBe('8.8.8.8');
    expect(checkWebhookUrl('http://127.0.0.1:9/', true).hostname).toBe('127.0.0.1');
    expect(() => checkWebhookUrl('ftp://127.0.0.1/', true)).toThrow(/http or https/);
  });
});

describe('checkWebhookTarget (after DNS resolution)', () => {
  const dns: Record<string, string[]> = {
    'public.test': ['93.184.215.14', '2606:2800:220:1:248:1893:25c8:1946'],
    'rebind.test': ['93.184.215.14', '127.0.0.1'],
    'internal.test': ['10.0.0.8'],
    'mapped.test': ['::ffff:192.168.0.1'],
    'meta.test': ['169.254.169.254'],
    'v6local.test': ['fe80::1'],
    'empty.test': [],
  };
  const resolve = async (host: string) => {
    const a = dns[host];
    if (!a) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
    return a;
  };

  it('passes a name whose every address is public', async () => {
    expect((await checkWebhookTarget('https://public.test/hook', false, resolve)).addresses).toHaveLength(2);
  });

  it.each([
    ['rebind.test', /rebind\.test \(127\.0\.0\.1\) is not a public address \(loopback\)/],
    ['internal.test', /private/],
    ['mapped.test', /IPv4-mapped private/],
    ['meta.test', /link-local/],
    ['v6local.test', /link-local/],
  ])('refuses %s (any private address among the resolved ones)', async (host, message) => {
    const err = await checkWebhookTarget(`https://${host}/hook`, false, resolve).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(message);
  });

  it('reports names that do not resolve as a retryable error, not as unsafe', async () => {
    for (const host of ['nowhere.test', 'empty.test']) {
      const err = await checkWebhookTarget(`https://${host}/`, false, resolve).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(/resolve/);
    }
  });

  it('does not resolve when private targets are allowed, nor for literal addresses', async () => {
    const never = async (): Promise<string[]> => {
      throw new Error('should not resolve');
    };
    await expect(checkWebhookTarget('http://internal.test/', true, never)).resolves.toMatchObject({ addresses: [] });
    await expect(checkWebhookTarget('http://8.8.8.8/', false, never)).resolves.toMatchObject({ addresses: [] });
  });
});
