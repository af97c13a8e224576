/**
 * Which URLs from tenant configs (Redis) and brain replies the runtime may use or hand to Telnyx.
 * Those are data, not operator settings: a tenant's `stt.whisperUrl` of `file:///etc/passwd` or
 * `http://169.254.169.254/…` must never be requested. (The runtime's own env URLs — WHISPER_URL,
 * KOKORO_URL, BRAIN_URL — are set by the operator and may well be loopback; this policy is not for them.)
 *
 * Rules: `http:`/`https:` only; the host must not be loopback, link-local, cloud metadata, private,
 * unspecified, multicast or reserved — as an IPv4 or IPv6 literal, IPv4 embedded in IPv6 (mapped,
 * compatible, NAT64, 6to4), or a well-known local name (localhost, *.localhost, metadata.google.internal
 * …) — unless the operator allowlisted the host (TENANT_URL_ALLOWED_HOSTS: `host` = any port,
 * `host:port` = that port only). Odd IPv4 spellings (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`)
 * are normalised by the WHATWG URL parser before the check — the same parser the HTTP clients use,
 * so what is checked is what is connected to.
 *
 * DNS: a name is NOT resolved here (config parsing happens at call setup, and an answer checked now
 * says nothing about the answer at connect time — DNS rebinding). A name that resolves to a private
 * address passes this check; `blockedAddressReason` classifies resolved addresses for a check at
 * connect time (see guarded-lookup.ts).
 *
 * Pure: no I/O, no environment.
 */

export interface AllowedHost {
  /** Canonical hostname as the WHATWG URL parser prints it (IPv6 in brackets), no trailing dot. */
  host: string;
  /** Only this port when set; any port otherwise. */
  port?: number;
}

export interface UrlPolicy {
  readonly allowedHosts: readonly AllowedHost[];
}

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

const ALLOWED_SCHEMES = new Set(['http:', 'https:']);
const DEFAULT_PORT: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** Names that resolve to this machine or to a cloud metadata service whatever DNS says. */
const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

/** [first address, prefix length, what it is]; the first match wins (specific before general). */
const V4_RANGES: readonly (readonly [string, number, string])[] = [
  ['169.254.169.254', 32, 'link-local (cloud metadata)'], // AWS, GCP, Azure, OpenStack …
  ['100.100.100.200', 32, 'private (cloud metadata)'], // Alibaba Cloud
  ['192.0.0.192', 32, 'reserved (cloud metadata)'], // Oracle Cloud
  ['168.63.129.16', 32, 'a cloud metadata address'], // Azure WireServer (public, reachable only inside Azure)
  ['0.0.0.0', 8, 'unspecified'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['100.64.0.0', 10, 'private'], // shared address space (carrier-grade NAT, cloud internal)
  ['192.0.0.0', 24, 'reserved'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // includes 255.255.255.255
];

const v4Number = (dotted: string): number | undefined => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(dotted);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
};

const V4_TABLE = V4_RANGES.map(([base, bits, label]) => {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { net: (v4Number(base)! & mask) >>> 0, mask, label };
});

function classifyV4(n: number): string | undefined {
  for (const r of V4_TABLE) if (((n & r.mask) >>> 0) === r.net) return r.label;
  return undefined;
}

const v4Dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** The 8 groups of a canonical (WHATWG-printed) IPv6 address without brackets, or undefined. */
function v6Groups(addr: string): number[] | undefined {
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;
  const split = (s: string) => (s === '' ? [] : s.split(':'));
  const head = split(halves[0]!);
  const tail = halves.length === 2 ? split(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0) return undefined;
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

function classifyV6(g: number[]): string | undefined {
  const v4 = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  const embedded = (n: number, how: string, otherwise?: string) => {
    const label = classifyV4(n);
    return label ? `${label} (${how} ${v4Dotted(n)})` : otherwise;
  };
  if (zeros(8)) return 'unspecified';
  if (zeros(7) && g[7] === 1) return 'loopback';
  if (zeros(5) && g[5] === 0xffff) return embedded(v4(g[6]!, g[7]!), 'IPv4-mapped');
  if (zeros(6)) return embedded(v4(g[6]!, g[7]!), 'IPv4-compatible', 'reserved (IPv4-compatible)');
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'private'; // local-use NAT64 64:ff9b:1::/48
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embedded(v4(g[6]!, g[7]!), 'NAT64');
  if (g[0] === 0x2002) return embedded(v4(g[1]!, g[2]!), '6to4');
  if (g[0] === 0x2001 && g[1] === 0) return 'reserved (Teredo)'; // the client's IPv4 is obfuscated: refuse the prefix
  if (g[0] === 0x100 && zeros(4)) return 'reserved'; // discard-only 100::/64
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'private'; // deprecated site-local
  if (g[0] === 0xfd00 && g[1] === 0xec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) {
    return 'private (cloud metadata)'; // AWS IMDS over IPv6, fd00:ec2::254
  }
  if ((g[0]! & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  return undefined;
}

/** Hostname as the URL parser prints it → trailing dots removed, re-normalised ("127.0.0.1." → "127.0.0.1"). */
function canonicalHost(hostname: string): string | undefined {
  const trimmed = hostname.replace(/\.+$/, '');
  if (trimmed === '') return undefined;
  if (trimmed === hostname) return hostname;
  try {
    return new URL(`http://${trimmed}/`).hostname;
  } catch {
    return undefined;
  }
}

/** Why the (canonical) host may not be requested, or undefined. */
function hostReason(host: string): string | undefined {
  if (host.startsWith('[')) {
    const g = v6Groups(host.slice(1, -1));
    return g ? classifyV6(g) : 'not a valid IPv6 address';
  }
  const n = v4Number(host);
  if (n !== undefined) return classifyV4(n);
  if (LOOPBACK_NAMES.has(host) || host.endsWith('.localhost')) return 'loopback';
  if (METADATA_NAMES.has(host)) return 'a cloud metadata host';
  return undefined;
}

/**
 * What kind of blocked address a resolved IP is ("loopback", "private (IPv4-mapped 10.0.0.1)" …),
 * or undefined when it may be connected to. Accepts Node's dns.lookup output (IPv6 zone ids too).
 */
export function blockedAddressReason(ip: string): string | undefined {
  const bare = ip.replace(/%.*$/, '');
  let host: string;
  try {
    host = new URL(`http://${bare.includes(':') ? `[${bare}]` : bare}/`).hostname;
  } catch {
    return 'not an IP address';
  }
  return hostReason(host);
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address → canonical form, or undefined. */
export function parseAllowedHost(entry: string): AllowedHost | undefined {
  const e = entry.trim();
  const bareV6 = /^[0-9a-f:.]+$/i.test(e) && (e.match(/:/g)?.length ?? 0) >= 2;
  const m = bareV6 ? ([e, `[${e}]`, undefined] as const) : /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/i.exec(e);
  if (!m) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  try {
    const host = canonicalHost(new URL(`http://${m[1]}/`).hostname);
    return host ? { host, ...(port !== undefined ? { port } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

/** A policy from the operator's allowlist entries; throws naming an entry it cannot read. */
export function createUrlPolicy(allowedHosts: readonly string[]): UrlPolicy {
  const parsed = allowedHosts.map((entry) => {
    const h = parseAllowedHost(entry);
    if (!h) throw new Error(`TENANT_URL_ALLOWED_HOSTS: "${entry}" is not a host, host:port or IP address`);
    return h;
  });
  return Object.freeze({ allowedHosts: Object.freeze(parsed) });
}

/** No host allowlisted: the default wherever no operator setting is at hand. */
export const STRICT_URL_POLICY: UrlPolicy = createUrlPolicy([]);

/** `raw` may be requested (or handed to Telnyx) under `policy`: the parsed URL, or why not. */
export function checkUrl(raw: unknown, policy: UrlPolicy): UrlVerdict {
  if (typeof raw !== 'string') return { ok: false, reason: 'not a valid URL' };
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (!ALLOWED_SCHEMES.has(url.protocol)) return { ok: false, reason: `scheme "${url.protocol}" is not allowed (http/https only)` };
  const host = canonicalHost(url.hostname);
  if (!host) return { ok: false, reason: 'has no host' };
  const port = url.port === '' ? DEFAULT_PORT[url.protocol]! : Number(url.port);
  if (policy.allowedHosts.some((a) => a.host === host && (a.port === undefined || a.port === port))) return { ok: true, url };
  const reason = hostReason(host);
  return reason ? { ok: false, reason: `host ${host} is ${reason}` } : { ok: true, url };
}
