import { ConfigError, loadConfig } from '../../src/lib/config';
import { blockedAddressReason, checkUrl, createUrlPolicy, STRICT_URL_POLICY } from '../../src/lib/net/url-policy';
import { testEnv } from '../support/test-config';

const reasonOf = (url: string, policy = STRICT_URL_POLICY) => {
  const v = checkUrl(url, policy);
  return v.ok ? 'ok' : v.reason;
};

describe('URL policy for tenant-config and brain URLs', () => {
  it.each([
    // Only http/https.
    ['file:///etc/passwd', /scheme "file:" is not allowed \(http\/https only\)/],
    ['gopher://example.com:70/_x', /scheme "gopher:" is not allowed/],
    ['ftp://example.com/a', /scheme "ftp:" is not allowed/],
    ['javascript:alert(1)', /scheme "javascript:" is not allowed/],
    ['data:text/plain,hi', /scheme "data:" is not allowed/],
    ['not a url', /not a valid URL/],
    ['', /not a valid URL/],
    // Cloud metadata.
    ['http://169.254.169.254/latest/meta-data', /host 169\.254\.169\.254 is link-local \(cloud metadata\)/],
    ['http://metadata.google.internal/computeMetadata/v1/', /host metadata\.google\.internal is a cloud metadata host/],
    ['http://metadata.google.internal./computeMetadata/v1/', /is a cloud metadata host/],
    ['http://[fd00:ec2::254]/latest/meta-data', /host \[fd00:ec2::254\] is private \(cloud metadata\)/],
    ['http://100.100.100.200/latest/meta-data', /cloud metadata/],
    // Loopback in every spelling.
    ['http://127.0.0.1:9000/inference', /host 127\.0\.0\.1 is loopback/],
    ['http://127.8.9.10/', /is loopback/],
    ['http://localhost/', /host localhost is loopback/],
    ['http://localhost./', /host localhost is loopback/],
    ['http://LOCALHOST:8080/', /is loopback/],
    ['http://api.localhost/', /is loopback/],
    ['http://[::1]/', /host \[::1\] is loopback/],
    ['http://[::ffff:127.0.0.1]/', /host \[::ffff:7f00:1\] is loopback \(IPv4-mapped 127\.0\.0\.1\)/],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', /is loopback \(IPv4-mapped/],
    ['http://[::127.0.0.1]/', /is loopback/],
    ['http://2130706433/', /host 127\.0\.0\.1 is loopback/],
    ['http://0x7f.1/', /host 127\.0\.0\.1 is loopback/],
    ['http://0177.0.0.1/', /host 127\.0\.0\.1 is loopback/],
    ['http://017700000001/', /host 127\.0\.0\.1 is loopback/],
    ['http://127.1/', /host 127\.0\.0\.1 is loopback/],
    ['http://127.0.0.1./', /is loopback/],
    ['http://%31%32%37.0.0.1/', /is loopback/],
    // Unspecified.
    ['http://0.0.0.0/', /host 0\.0\.0\.0 is unspecified/],
    ['http://0/', /host 0\.0\.0\.0 is unspecified/],
    ['http://[::]/', /host \[::\] is unspecified/],
    // Link-local.
    ['http://169.254.1.2/', /is link-local/],
    ['http://[fe80::1]/', /is link-local/],
    ['http://[febf::1]/', /is link-local/],
    ['http://[::ffff:169.254.169.254]/', /link-local \(cloud metadata\).*IPv4-mapped/],
    // Private ranges.
    ['http://10.0.0.5/', /host 10\.0\.0\.5 is private/],
    ['http://172.16.0.1/', /is private/],
    ['http://172.31.255.255/', /is private/],
    ['http://192.168.1.1/', /is private/],
    ['http://100.64.0.1/', /is private/],
    ['http://100.127.255.254/', /is private/],
    ['http://[fc00::1]/', /is private/],
    ['http://[fdff:ffff::1]/', /is private/],
    ['http://[::ffff:10.1.2.3]/', /is private \(IPv4-mapped 10\.1\.2\.3\)/],
    ['http://[::ffff:192.168.0.1]/', /is private/],
    ['http://[64:ff9b::a00:1]/', /is private \(NAT64 10\.0\.0\.1\)/],
    ['http://[2002:7f00:1::]/', /is loopback \(6to4 127\.0\.0\.1\)/],
    // Others no service of ours lives at.
    ['http://224.0.0.1/', /is multicast/],
    ['http://[ff02::1]/', /is multicast/],
    ['http://255.255.255.255/', /is reserved/],
  ])('%s is refused', (url, reason) => expect(reasonOf(url)).toMatch(reason));

  it.each([
    'https://whisper.example.com/v1/audio/transcriptions',
    'http://kokoro.example.com:8880/v1/audio/speech',
    'https://8.8.8.8/x',
    'http://172.32.0.1/', // just outside 172.16/12
    'http://100.128.0.1/', // just outside 100.64/10
    'http://169.253.255.255/',
    'http://[2606:4700:4700::1111]/',
    'http://[64:ff9b::808:808]/', // NAT64 of a public address
    'http://whisper:9000/inference', // a name: resolved at request time (see the module header)
    'https://user:pw@api.example.com/hook',
  ])('%s is accepted', (url) => expect(reasonOf(url)).toBe('ok'));

  it('accepts a host the operator allowlisted, on any port or only on the port named', () => {
    const policy = createUrlPolicy(['whisper.internal', '10.0.0.5', 'localhost:9000', '[::1]:8880', '127.0.0.1']);
    expect(reasonOf('http://10.0.0.5:9000/inference', policy)).toBe('ok');
    expect(reasonOf('http://whisper.internal/x', policy)).toBe('ok');
    expect(reasonOf('http://localhost:9000/x', policy)).toBe('ok');
    expect(reasonOf('http://LOCALHOST.:9000/x', policy)).toBe('ok');
    expect(reasonOf('http://localhost:9001/x', policy)).toMatch(/is loopback/);
    expect(reasonOf('http://[::1]:8880/x', policy)).toBe('ok');
    expect(reasonOf('http://[::1]:8881/x', policy)).toMatch(/is loopback/);
    // Another spelling of an allowlisted address is the same host.
    expect(reasonOf('http://2130706433:1234/x', policy)).toBe('ok');
    // The allowlist never lifts the scheme rule, nor covers other private hosts.
    expect(reasonOf('file://10.0.0.5/etc/passwd', policy)).toMatch(/scheme "file:"/);
    expect(reasonOf('http://10.0.0.6/', policy)).toMatch(/is private/);
    expect(reasonOf('http://169.254.169.254/', policy)).toMatch(/cloud metadata/);
  });

  it('an entry with :80 allows only port 80, the http default port included', () => {
    const only80 = createUrlPolicy(['10.0.0.5:80']);
    expect(reasonOf('http://10.0.0.5/', only80)).toBe('ok');
    expect(reasonOf('http://10.0.0.5:80/', only80)).toBe('ok');
    expect(reasonOf('https://10.0.0.5/', only80)).toMatch(/is private/);
    expect(reasonOf('http://10.0.0.5:8080/', only80)).toMatch(/is private/);
  });

  it('refuses an allowlist entry it cannot read', () => {
    expect(() => createUrlPolicy(['http://x/'])).toThrow(/TENANT_URL_ALLOWED_HOSTS/);
    expect(() => createUrlPolicy(['a b'])).toThrow(/"a b"/);
  });

  it('classifies resolved addresses the same way (for the request-time DNS check)', () => {
    expect(blockedAddressReason('127.0.0.1')).toBe('loopback');
    expect(blockedAddressReason('::ffff:10.0.0.1')).toBe('private (IPv4-mapped 10.0.0.1)');
    expect(blockedAddressReason('fe80::1%eth0')).toBe('link-local');
    expect(blockedAddressReason('93.184.216.34')).toBeUndefined();
    expect(blockedAddressReason('2606:4700::1111')).toBeUndefined();
  });
});

describe('TENANT_URL_ALLOWED_HOSTS', () => {
  const load = (value: string | undefined) => {
    try {
      return loadConfig(testEnv({ TENANT_URL_ALLOWED_HOSTS: value })).TENANT_URL_ALLOWED_HOSTS;
    } catch (err) {
      if (err instanceof ConfigError) return [...err.problems];
      throw err;
    }
  };

  it('defaults to no host, and reads a comma list of hosts, host:port and IPs', () => {
    expect(load(undefined)).toEqual([]);
    expect(load('')).toEqual([]);
    expect(load(' whisper.internal, 10.0.0.5 ,localhost:9000,[::1]:8880,::1 ')).toEqual(['whisper.internal', '10.0.0.5', 'localhost:9000', '[::1]:8880', '::1']);
    expect(() => createUrlPolicy(load('whisper.internal,10.0.0.5,localhost:9000,[::1]:8880,::1') as string[])).not.toThrow();
  });

  it('names every entry that is not a host', () => {
    expect(load('http://whisper/,ok.example,a b,host:99999')).toEqual([
      'TENANT_URL_ALLOWED_HOSTS: "a b" is not a host, host:port or IP address',
      'TENANT_URL_ALLOWED_HOSTS: "host:99999" is not a host, host:port or IP address',
      'TENANT_URL_ALLOWED_HOSTS: "http://whisper/" is not a host, host:port or IP address',
    ]);
  });
});
