/**
 * The connect-time half of the URL policy (url-policy.ts checks the URL text): a DNS lookup for
 * the HTTP clients that fetch tenant URLs (Whisper, Kokoro) which refuses a name resolving to a
 * loopback, link-local, metadata, private … address — "stt.tenant.example → 169.254.169.254" or a
 * rebinding name. Checked on the addresses actually connected to, so a second answer cannot differ.
 *
 * Names the operator trusts resolve unchecked: the hosts of the runtime's own WHISPER_URL /
 * KOKORO_URL (e.g. a Docker service name on a private network) and the TENANT_URL_ALLOWED_HOSTS
 * entries. IP literals never reach a lookup (Node connects to them directly); url-policy.ts checks those.
 *
 * Shape: axios' `lookup` config option (async form: resolves to `[addresses]`).
 */
import dns from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { blockedAddressReason } from './url-policy';

export type Resolve = (hostname: string) => Promise<LookupAddress[]>;
export type GuardedLookup = (hostname: string, options: object) => Promise<[LookupAddress[]]>;

const systemResolve: Resolve = (hostname) => dns.promises.lookup(hostname, { all: true });

const canonical = (host: string) => host.toLowerCase().replace(/\.+$/, '');

export function guardedLookup(opts: { trustedHosts: Iterable<string>; resolve?: Resolve }): GuardedLookup {
  const trusted = new Set([...opts.trustedHosts].map(canonical));
  const resolve = opts.resolve ?? systemResolve;
  return async (hostname) => {
    const addresses = await resolve(hostname);
    if (!trusted.has(canonical(hostname))) {
      for (const a of addresses) {
        const reason = blockedAddressReason(a.address);
        if (reason) {
          throw Object.assign(new Error(`${hostname} resolves to ${a.address}, which is ${reason}: not allowed for a tenant URL`), { code: 'ENOTALLOWED' });
        }
      }
    }
    return [addresses];
  };
}

/** The hostnames of the operator's own service URLs (unparseable ones skipped). */
export function hostsOf(urls: readonly (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const u of urls) {
    if (!u) continue;
    try {
      out.push(new URL(u).hostname);
    } catch {
      // config validated it already
    }
  }
  return out;
}
