/**
 * The data-channel protocol between the /hd-call page and its session: JSON text, one message per
 * frame. Server → page: status, transcript lines, the end of the call. Page → server: hangup.
 * Pure: build and parse only.
 */

export type AgentStatus = 'listening' | 'agent_speaking';

export type ServerMessage =
  | { type: 'status'; status: AgentStatus }
  | { type: 'transcript'; role: 'caller' | 'agent'; text: string }
  | { type: 'ended'; reason: string };

export type ClientMessage = { type: 'hangup' };

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
    const m = JSON.parse(text) as { type?: unknown };
    return m?.type === 'hangup' ? { type: 'hangup' } : undefined;
  } catch {
    return undefined;
  }
}
