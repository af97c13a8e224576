import { createHash } from 'node:crypto';

/**
 * Stable BullMQ job id for a per-call job (a delayed fallback hangup, the max-duration timer), so
 * the job can be found and cancelled later. Telnyx call ids contain ':' ("v3:…"), which BullMQ job
 * ids may not: hash them.
 */
export function callJobId(kind: string, callControlId: string): string {
  return `${kind}-${createHash('sha256').update(callControlId).digest('hex').slice(0, 32)}`;
}
