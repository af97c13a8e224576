import type { BrainTransfer } from '../../lib/brain/port';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { UrlPolicy } from '../../lib/net/url-policy';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import { checkTransfer } from '../../lib/tenants/transfer-destinations';

export interface TransferGateContext {
  callControlId: string;
  tenantId: string;
  tenant?: TenantConfig;
  urlPolicy: UrlPolicy;
  logger: Logger;
  metrics: Metrics;
}

/** The history line the brain gets in its next request after a refused transfer. */
export const transferRefusedNote = (to: string) => `transfer to ${to} refused: not an allowed destination`;

/**
 * A brain's transfer, checked against the tenant config (src/lib/tenants/transfer-destinations.ts):
 * the transfer to send, or the refused destination (logged at warn and counted, never sent).
 */
export function gateTransfer(requested: BrainTransfer, c: TransferGateContext): { transfer: BrainTransfer } | { refusedTo: string } {
  const ids = { callControlId: c.callControlId, tenantId: c.tenantId };
  const check = checkTransfer(requested, c.tenant, c.urlPolicy);
  if (!check.ok) {
    c.logger.warn({ ...ids, to: check.to }, 'brain transfer refused: not an allowed destination');
    c.metrics.transfers.inc({ outcome: 'refused' });
    return { refusedTo: check.to };
  }
  if (check.droppedAudioUrl) {
    c.logger.warn({ ...ids, audioUrl: check.droppedAudioUrl.url, reason: check.droppedAudioUrl.reason }, 'brain transfer audioUrl dropped');
  }
  return { transfer: check.transfer };
}

/** The Telnyx `transfer` command body for an allowed transfer. */
export function transferCommandBody(t: BrainTransfer): Record<string, unknown> {
  return {
    to: t.to,
    ...(t.audioUrl ? { audio_url: t.audioUrl } : {}),
    ...(t.timeoutSecs ? { timeout_secs: t.timeoutSecs } : {}),
  };
}
