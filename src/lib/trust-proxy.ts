/**
 * TRUST_PROXY: which peers' X-Forwarded-For the HTTP layer believes when it works out a client's
 * address (Express `trust proxy`). The default trusts proxies on loopback and private networks
 * only, so a client on the internet talking to us directly cannot choose its own address by
 * sending the header, while a reverse proxy on the same host or network is believed.
 *
 * Values: `true` (every hop: only behind a proxy that overwrites the header), `false` (the
 * socket address), a hop count (`1` = one proxy in front), or a comma-separated list of IP
 * addresses, CIDR subnets and the names `loopback`, `linklocal`, `uniquelocal`.
 */
import { isIP } from 'node:net';

export type TrustProxy = boolean | number | string;

export const TRUST_PROXY_DEFAULT = 'loopback, linklocal, uniquelocal';

const NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** The Express setting for a TRUST_PROXY value, or a message saying what is wrong with it. */
export function parseTrustProxy(raw: string): { ok: true; value: TrustProxy } | { ok: false; message: string } {
  const v = raw.trim().toLowerCase();
  if (v === 'true') return { ok: true, value: true };
  if (v === 'false') return { ok: true, value: false };
  if (/^\d{1,2}$/.test(v)) return { ok: true, value: Number(v) };
  const entries = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = entries.filter((e) => !NAMES.has(e) && !isAddressOrSubnet(e));
  if (entries.length === 0 || bad.length > 0) {
    return { ok: false, message: `must be true, false, a hop count, or a list of IPs, CIDR subnets and loopback/linklocal/uniquelocal; bad: ${bad.join(', ') || '(empty)'}` };
  }
  return { ok: true, value: entries.join(', ') };
}

function isAddressOrSubnet(e: string): boolean {
  const [addr, bits, extra] = e.split('/');
  if (extra !== undefined || !addr) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}
