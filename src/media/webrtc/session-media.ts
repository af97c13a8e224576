/**
 * The media and conversation side of one browser call, built from the same parts as a phone call
 * and driving its WebRTC transport only through the CallTransport port (src/media/ports.ts):
 * transport audio in (RtpAudioInput, Opus 48 kHz decode) → the PSTN STT front end (SpeechPipeline:
 * 16 kHz, high-pass, VAD, endpointer, Whisper) → Conversation (turns, barge-in, dead air) →
 * StreamVoice → StreamPlayout (resample to 48 kHz, 20 ms Opus frames on the shared paced clock) →
 * transport audio out (RtpAudioOutput) → agent RTP. TTS at 24 or 48 kHz stays wideband: nothing
 * here goes through 8 kHz. The page hears about lines and status over the transport's data channel.
 */
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import type { AgentVoice } from '../conversation/agent-voice';
import type { SpeechControl } from '../conversation/conversation';
import { StreamVoice } from '../conversation/stream-voice';
import type { CallInputListener, CallTransport, InboundAudioSink } from '../ports';
import type { CallCommands } from '../conversation/url-voice';
import type { PlayoutClock } from '../playout/pacer';
import { StreamPlayout } from '../playout/playout';
import type { ServerMessage } from './hd-call-messages';
import { ObservedVoice } from './observed-voice';
import { OPUS_RTP_RATE } from './rtp-audio-output';

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

/** The conversation as a session drives it. */
export interface SessionConversation extends CallInputListener {
  start(): void;
  onMark(name: string): void;
  onWebhook(eventType: string, payload: Record<string, unknown>): void;
  segmentStarted(id: string): void;
  segmentDone(id: string): void;
  idle(): void;
  close(): void;
}

/** The STT front end as a session drives it. */
export interface SessionSpeech extends InboundAudioSink {
  readonly inSpeech: boolean;
}

export interface SessionMediaParts {
  conversationFor(p: ConversationPorts): SessionConversation;
  speechFor(sessionId: string, tenant: TenantConfig, listener: CallInputListener): SessionSpeech;
  /** Where segment audio lives when it is not handed over in memory. */
  audioStorageDir: string;
  /** Default: the process-wide playout scheduler (one 20 ms clock for every call). */
  clock?: PlayoutClock;
  logger: Logger;
}

/** A browser call's transport: the port, plus the page's data channel. */
export interface BrowserTransport extends CallTransport {
  notify(m: ServerMessage): void;
}

export class SessionMedia {
  private readonly speech: SessionSpeech;
  readonly conversation: SessionConversation;
  private closed = false;

  /** Built in order: audio output (the transport's), conversation, speech pipeline; then the transport is opened. */
  constructor(
    parts: SessionMediaParts,
    ids: { sessionId: string; tenantId: string; tenant: TenantConfig },
    private readonly transport: BrowserTransport,
    /** The clock the transport's audio out models play-end on (the call's playout clock). */
    clock: PlayoutClock,
    onEnded: (reason: string) => void,
  ) {
    const logger = parts.logger.child({ callControlId: ids.sessionId, transport: 'webrtc' });
    const line = (role: 'caller' | 'agent', text: string) => transport.notify({ type: 'transcript', role, text });
    // The voice reports to the conversation, built after it: a closure reads the field once it is set.
    const conv = () => this.conversation;
    const voice = new ObservedVoice(
      { line: (text) => line('agent', text), status: (status) => transport.notify({ type: 'status', status }) },
      { segmentStarted: (id) => conv().segmentStarted(id), segmentDone: (id) => conv().segmentDone(id), idle: () => conv().idle() },
    );
    const stream = new StreamVoice(
      (ev) => new StreamPlayout({ output: transport.audioOut, encoding: 'OPUS', codecRate: OPUS_RTP_RATE, maxAheadMs: MAX_AHEAD_MS, clock, events: ev, logger }),
      parts.audioStorageDir,
      voice.events,
      logger,
    );
    voice.attach(stream);
    const conversation = parts.conversationFor({
      ...ids,
      voice,
      speech: { inSpeech: () => this.speech.inSpeech },
      commands: { issue: async (_id, action, body) => this.command(action, body ?? {}) },
    });
    this.conversation = conversation;
    // Caller finals are shown on the page as they reach the conversation.
    this.speech = parts.speechFor(ids.sessionId, ids.tenant, {
      speechStarted: (at) => conversation.speechStarted(at),
      speechDiscarded: () => conversation.speechDiscarded?.(),
      partial: (text) => conversation.partial(text),
      final: (text, timings) => {
        line('caller', text);
        conversation.final(text, timings);
      },
      dtmf: (digit) => conversation.dtmf(digit),
      sttError: (err) => conversation.sttError(err),
    });
    try {
      transport.open(this.speech, {
        // The connection is up: greet.
        started: () => {
          if (!this.closed) conversation.start();
        },
        played: stream.playout.onMark.bind(stream.playout),
        dtmf: (digit) => conversation.dtmf(digit),
        ended: (reason) => {
          this.close();
          onEnded(reason);
        },
      });
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Call Control commands the conversation issues, as a browser call can carry them out. */
  private async command(action: string, body: Record<string, unknown>): Promise<void> {
    switch (action) {
      case 'hangup':
        this.transport.close('agent_hangup');
        return;
      case 'speak':
        // TTS failed for a whole reply: no audio to send, so the page at least shows the apology.
        if (typeof body.payload === 'string') this.transport.notify({ type: 'transcript', role: 'agent', text: body.payload });
        return;
      case 'transfer':
        throw new AppError('transfer_unsupported', 'a browser call cannot be transferred to a phone number', { status: 409 });
      default:
        return;
    }
  }

  /** Ends the call's conversation and speech pipeline (the transport closed its own audio in and out). */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conversation.close();
    this.speech.close();
  }
}
