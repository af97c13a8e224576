/**
 * The brain's wire format (docs/design.md §Contracts, the brain), shared by the HTTP client and the SSE
 * parser: the body of both `POST /reply` and the SSE stream endpoint is exactly
 * `{tenantId, callControlId, transcript, history, assistantContext?, transferProfiles?}`.
 */
import { BrainError, type BrainReply, type BrainRequest, type BrainTransfer } from './port';

/** `{to, audioUrl?, timeoutSecs?}` with a non-empty `to`; unknown keys kept; anything else → undefined. */
export function parseTransfer(value: unknown): BrainTransfer | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  if (typeof o.to !== 'string' || o.to.trim() === '') return undefined;
  const out: BrainTransfer & Record<string, unknown> = { ...o, to: o.to.trim() };
  if (typeof o.audioUrl !== 'string' || o.audioUrl.trim() === '') delete out.audioUrl;
  const secs = typeof o.timeoutSecs === 'string' ? Number(o.timeoutSecs) : o.timeoutSecs;
  if (typeof secs === 'number' && Number.isFinite(secs) && secs > 0) out.timeoutSecs = secs;
  else delete out.timeoutSecs;
  return out;
}

/** The exact JSON body of the brain contract (no runtime-only fields). */
export function brainWireBody(req: BrainRequest): Record<string, unknown> {
  return {
    tenantId: req.tenantId,
    callControlId: req.callControlId,
    transcript: req.transcript,
    history: req.history.map((h) => ({ role: h.role, content: h.content, timestamp: h.timestamp })),
    ...(req.assistantContext !== undefined ? { assistantContext: req.assistantContext } : {}),
    ...(req.transferProfiles !== undefined ? { transferProfiles: req.transferProfiles } : {}),
  };
}

/** A `/reply` body → `{text, transfer?}`; JSON without text or transfer is a non-retryable brain_failed. */
export function parseReplyBody(raw: string, host: string): BrainReply {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new BrainError('brain_failed', `brain ${host} answered non-JSON`, { details: { body: raw.slice(0, 300) } });
  }
  const o = json && typeof json === 'object' ? (json as Record<string, unknown>) : {};
  const transfer = parseTransfer(o.transfer);
  if (typeof o.text !== 'string' && !transfer) {
    throw new BrainError('brain_failed', `brain ${host} answered JSON without text`, { details: { body: raw.slice(0, 300) } });
  }
  return { text: typeof o.text === 'string' ? o.text : '', ...(transfer ? { transfer } : {}) };
}
