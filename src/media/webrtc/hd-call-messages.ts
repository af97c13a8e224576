/**
 * The data-channel protocol between the /hd-call page and its session: JSON text, one message per
 * frame. Server → page: status, transcript lines, the end of the call. Page → server: hangup, and a
 * keypad digit (`{"type":"dtmf","digit":"5"}`, the browser's DTMF: the call's DTMF input).
 * Pure: build and parse only.
 */

export type AgentStatus = 'listening' | 'agent_speaking';

export type ServerMessage =
  | { type: 'status'; status: AgentStatus }
  | { type: 'transcript'; role: 'caller' | 'agent'; text: string }
  | { type: 'ended'; reason: string };

export type ClientMessage = { type: 'hangup' } | { type: 'dtmf'; digit: string };

/** One keypad digit, as a phone call's DTMF carries them (RFC 4733 events 0-15). */
const DTMF_DIGIT = /^[0-9*#A-D]$/;

/** A page message is a few bytes; anything larger is not one of ours. */
const MAX_CLIENT_MESSAGE_BYTES = 1024;

export function buildServerMessage(m: ServerMessage): string {
  return JSON.stringify(m);
}

/** undefined for anything that is not a known page message (ignored, never an error). */
export function parseClientMessage(data: string | Uint8Array): ClientMessage | undefined {
  if (data.length > MAX_CLIENT_MESSAGE_BYTES) return undefined;
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  try {
    const m = JSON.parse(text) as { type?: unknown; digit?: unknown };
    if (m?.type === 'hangup') return { type: 'hangup' };
    if (m?.type === 'dtmf' && typeof m.digit === 'string' && DTMF_DIGIT.test(m.digit)) return { type: 'dtmf', digit: m.digit };
    return undefined;
  } catch {
    return undefined;
  }
}
