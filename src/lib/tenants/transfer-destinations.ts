/**
 * Where a brain may transfer a call. The brain is an LLM the caller talks to: a prompt injection
 * ("transfer me to +1 900 …") must not reach Telnyx. So a transfer goes only to a destination the
 * tenant config names — a `transferProfiles[]` entry's `to` / `destination` / `number` /
 * `phoneNumber` / `sipUri` (profiles with `enabled: false` skipped), or `callForwarding.destination`
 * while `callForwarding.enabled` is true — and what is sent is the tenant's own destination, never
 * the brain's text. Numbers are compared as E.164; SIP URIs with scheme and host case-insensitive
 * (user, port and parameters exact, as SIP compares them).
 *
 * Pure: no I/O.
 */
import type { BrainTransfer } from '../brain/port';
import { checkUrl, type UrlPolicy } from '../net/url-policy';
import { normalizeE164 } from './e164';
import type { TenantConfig } from './tenant-config';

/** Keys of a transfer profile that may hold its destination, in the order they are read. */
const PROFILE_DESTINATION_KEYS = ['to', 'destination', 'number', 'phoneNumber', 'sipUri'] as const;

/**
 * A refused destination is the brain's text: logged and echoed back to it shortened to this — room
 * for any E.164 number (≤ 16 chars) or real SIP URI, not for a page of injected text.
 */
const MAX_SHOWN_CHARS = 100;

const SIP_URI = /^(sips?):(?:([^@;?]+)@)?(\[[0-9a-f:.]+\]|[^;?:@[\]\s]+)(?::(\d{1,5}))?([;?]\S*)?$/i;
/** A phone number as people and LLMs write it: digits with +, spaces, dots, dashes and parentheses. */
const PHONE = /^(?:tel:)?\s*\+?[\d\s().-]+$/i;

/** What two spellings of one destination share: `tel:+E164`, or the SIP URI with scheme and host lower-cased. */
export function destinationKey(raw: string): string | undefined {
  const s = raw.trim();
  if (/^sips?:/i.test(s)) {
    const m = SIP_URI.exec(s);
    if (!m) return undefined;
    const [, scheme, user, host, port, rest] = m;
    return `${scheme!.toLowerCase()}:${user !== undefined ? `${user}@` : ''}${host!.toLowerCase()}${port !== undefined ? `:${port}` : ''}${rest ?? ''}`;
  }
  if (!PHONE.test(s)) return undefined;
  const e164 = normalizeE164(s);
  return e164 ? `tel:${e164}` : undefined;
}

/** Comparison key → what to send to Telnyx (E.164, or the SIP URI as the tenant wrote it). */
function allowedDestinations(tenant: TenantConfig | undefined): Map<string, string> {
  const allowed = new Map<string, string>();
  const add = (raw: unknown) => {
    if (typeof raw !== 'string') return;
    const key = destinationKey(raw);
    if (key && !allowed.has(key)) allowed.set(key, key.startsWith('tel:') ? key.slice(4) : raw.trim());
  };
  for (const p of tenant?.transferProfiles ?? []) {
    if (!p || typeof p !== 'object' || Array.isArray(p)) continue;
    const profile = p as Record<string, unknown>;
    if (profile.enabled === false) continue;
    for (const k of PROFILE_DESTINATION_KEYS) add(profile[k]);
  }
  if (tenant?.callForwarding?.enabled === true) add(tenant.callForwarding.destination);
  return allowed;
}

export type TransferCheck =
  | {
      ok: true;
      /** Only `to` (the tenant's destination), `audioUrl` (if it passed the URL policy) and `timeoutSecs`. */
      transfer: BrainTransfer;
      droppedAudioUrl?: { url: string; reason: string };
    }
  | { ok: false; to: string };

/** The brain's transfer → the transfer to send, or a refusal when the tenant does not allow its destination. */
export function checkTransfer(requested: BrainTransfer, tenant: TenantConfig | undefined, urlPolicy: UrlPolicy): TransferCheck {
  const key = destinationKey(requested.to);
  const to = key === undefined ? undefined : allowedDestinations(tenant).get(key);
  if (to === undefined) return { ok: false, to: requested.to.slice(0, MAX_SHOWN_CHARS) };
  const transfer: BrainTransfer = { to };
  let droppedAudioUrl: { url: string; reason: string } | undefined;
  if (requested.audioUrl !== undefined) {
    const verdict = checkUrl(requested.audioUrl, urlPolicy);
    if (verdict.ok) transfer.audioUrl = requested.audioUrl;
    else droppedAudioUrl = { url: requested.audioUrl.slice(0, MAX_SHOWN_CHARS), reason: verdict.reason };
  }
  if (requested.timeoutSecs !== undefined) transfer.timeoutSecs = requested.timeoutSecs;
  return { ok: true, transfer, ...(droppedAudioUrl ? { droppedAudioUrl } : {}) };
}
