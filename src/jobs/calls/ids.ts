import { createHash } from 'node:crypto';

/** Telnyx call ids contain ':' ("v3:…"), which BullMQ job ids may not: hash them. */
export function callJobId(kind: string, callControlId: string): string {
  return `${kind}-${createHash('sha256').update(callControlId).digest('hex').slice(0, 32)}`;
}

/** client_state round-trips through Telnyx as base64; we keep the tenant id in it. */
export function encodeClientState(state: { tenantId?: string }): string {
  return Buffer.from(JSON.stringify(state)).toString('base64');
}

export function decodeClientState(raw: string | null | undefined): { tenantId?: string } {
  if (!raw) return {};
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as { tenantId?: string }) : {};
  } catch {
    return {};
  }
}
