/**
 * A browser call is a LiveCall (src/media/live-call.ts) over a WebRTC transport, built from the
 * same parts as a phone call: transport audio in (RtpAudioInput, Opus 48 kHz decode) → the PSTN
 * STT front end (SpeechPipeline: 16 kHz, high-pass, VAD, endpointer, Whisper) → Conversation
 * (turns, barge-in, dead air) → StreamVoice → StreamPlayout (resample to 48 kHz, 20 ms Opus frames
 * on the shared paced clock) → transport audio out (RtpAudioOutput) → agent RTP. TTS at 24 or
 * 48 kHz stays wideband: nothing here goes through 8 kHz. What differs from a phone call is built
 * here: the page hears about lines and status over the transport's data channel, Call Control
 * commands are carried out as a browser call can, and nothing reconnects to an ended transport.
 */
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import type { Timers } from '../../lib/timers';
import type { AgentVoice } from '../conversation/agent-voice';
import type { SpeechControl } from '../conversation/conversation';
import { StreamVoice } from '../conversation/stream-voice';
import type { CallCommands } from '../conversation/url-voice';
import { LiveCall, type CallConversation, type LiveStream } from '../live-call';
import type { PlayoutClock } from '../playout/pacer';
import { StreamPlayout } from '../playout/playout';
import type { CallInputListener } from '../ports';
import { ObservedVoice } from './observed-voice';
import { OPUS_RTP_RATE } from './rtp-audio-output';
import type { WebrtcTransport } from './webrtc-transport';

/**
 * How far ahead of real time agent audio is sent: 3 packets. The browser's jitter buffer absorbs
 * that like network jitter, and a barge-in can leave at most this much already on its way.
 * (Telnyx gets 200 ms because it queues; a browser plays what arrives.)
 */
const MAX_AHEAD_MS = 60;

/** What a conversation is built from; the composition root supplies brain, TTS and settings. */
export interface ConversationPorts {
  sessionId: string;
  tenantId: string;
  tenant: TenantConfig;
  voice: AgentVoice;
  speech: SpeechControl;
  commands: CallCommands;
}

export interface BrowserCallParts {
  conversationFor(p: ConversationPorts): CallConversation;
  speechFor(sessionId: string, tenant: TenantConfig, listener: CallInputListener): LiveStream['pipeline'];
  /** Where segment audio lives when it is not handed over in memory. */
  audioStorageDir: string;
  /** Default: the process-wide playout scheduler (one 20 ms clock for every call). */
  clock?: PlayoutClock;
  logger: Logger;
}

/** The browser call on `transport`, its conversation greeting once the connection is up. */
export function browserCall(
  parts: BrowserCallParts,
  ids: { sessionId: string; tenantId: string; tenant: TenantConfig },
  transport: WebrtcTransport,
  /** The clock the transport's audio out models play-end on (the call's playout clock). */
  clock: PlayoutClock,
  timers?: Timers,
): LiveCall<WebrtcTransport> {
  const logger = parts.logger.child({ callControlId: ids.sessionId, transport: 'webrtc' });
  const line = (role: 'caller' | 'agent', text: string) => transport.notify({ type: 'transcript', role, text });
  const live: LiveCall<WebrtcTransport> = new LiveCall(
    ids.sessionId,
    {
      audioOutput: (output, events) => {
        const voice = new ObservedVoice({ line: (text) => line('agent', text), status: (status) => transport.notify({ type: 'status', status }) }, events);
        const stream = new StreamVoice(
          (ev) => new StreamPlayout({ output, encoding: 'OPUS', codecRate: OPUS_RTP_RATE, maxAheadMs: MAX_AHEAD_MS, clock, events: ev, logger }),
          parts.audioStorageDir,
          voice.events,
          logger,
        );
        voice.attach(stream);
        return { voice, playout: stream.playout };
      },
      conversation: (voice, speech) => parts.conversationFor({ ...ids, voice, speech, commands: { issue: async (_id, action, body) => command(live, action, body ?? {}) } }),
      // Caller finals are shown on the page as they reach the conversation.
      pipeline: (listener) =>
        parts.speechFor(ids.sessionId, ids.tenant, {
          ...listener,
          final: (text, timings) => {
            line('caller', text);
            listener.final(text, timings);
          },
        }),
      // No orphanGraceMs: nothing reconnects to an ended browser connection, the call ends with it.
      timers,
    },
    transport,
  );
  return live;
}

/** Call Control commands the conversation issues, as a browser call can carry them out. */
async function command(live: LiveCall<WebrtcTransport>, action: string, body: Record<string, unknown>): Promise<void> {
  switch (action) {
    case 'hangup':
      live.end({ code: 1000, reason: 'agent_hangup' });
      return;
    case 'speak':
      // TTS failed for a whole reply: no audio to send, so the page at least shows the apology.
      if (typeof body.payload === 'string') live.stream?.transport.notify({ type: 'transcript', role: 'agent', text: body.payload });
      return;
    case 'transfer':
      throw new AppError('transfer_unsupported', 'a browser call cannot be transferred to a phone number', { status: 409 });
    default:
      return;
  }
}
