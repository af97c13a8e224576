/**
 * The media and conversation side of one browser call, built from the same parts as a phone call:
 * caller RTP → RtpAudioInput (Opus 48 kHz decode) → the PSTN STT front end (SpeechPipeline:
 * 16 kHz, high-pass, VAD, endpointer, Whisper) → Conversation (turns, barge-in, dead air) →
 * StreamVoice → StreamPlayout (resample to 48 kHz, 20 ms Opus frames on the shared paced clock) →
 * RtpAudioOutput → agent RTP. TTS at 24 or 48 kHz stays wideband: nothing here goes through 8 kHz.
 */
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import { createDecoder } from '../audio/codecs';
import type { AgentVoice } from '../conversation/agent-voice';
import type { SpeechControl } from '../conversation/conversation';
import { StreamVoice } from '../conversation/stream-voice';
import type { CallCommands } from '../conversation/url-voice';
import { sharedPlayoutScheduler, type PlayoutClock } from '../playout/pacer';
import { StreamPlayout } from '../playout/playout';
import type { CallInputListener, InboundAudioSink } from '../ports';
import type { AgentStatus } from './hd-call-messages';
import { ObservedVoice } from './observed-voice';
import type { Peer, RtpIn } from './peer';
import { OPUS_RTP_RATE, RtpAudioOutput } from './rtp-audio-output';
import { RtpAudioInput } from './rtp-audio-input';

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

export interface SessionMediaEvents {
  line(role: 'caller' | 'agent', text: string): void;
  status(s: AgentStatus): void;
  /** The agent ended the call (goodbye after dead air). */
  hangup(): void;
}

export class SessionMedia {
  private readonly input: RtpAudioInput;
  private readonly output: RtpAudioOutput;
  private readonly speech: SessionSpeech;
  readonly conversation: SessionConversation;
  private closed = false;

  constructor(parts: SessionMediaParts, ids: { sessionId: string; tenantId: string; tenant: TenantConfig }, peer: Peer, events: SessionMediaEvents) {
    const clock = parts.clock ?? sharedPlayoutScheduler();
    const logger = parts.logger.child({ callControlId: ids.sessionId, transport: 'webrtc' });
    // The parts call each other back: closures read the fields once they are all set.
    const conv = () => this.conversation;
    this.output = new RtpAudioOutput({ send: (p) => peer.sendAudio(p), now: () => clock.now(), played: (name) => conv().onMark(name) });
    const voice = new ObservedVoice(
      { line: (text) => events.line('agent', text), status: (s) => events.status(s) },
      { segmentStarted: (id) => conv().segmentStarted(id), segmentDone: (id) => conv().segmentDone(id), idle: () => conv().idle() },
    );
    voice.attach(
      new StreamVoice(
        (ev) => new StreamPlayout({ output: this.output, encoding: 'OPUS', codecRate: OPUS_RTP_RATE, maxAheadMs: MAX_AHEAD_MS, clock, events: ev, logger }),
        parts.audioStorageDir,
        voice.events,
        logger,
      ),
    );
    this.conversation = parts.conversationFor({
      ...ids,
      voice,
      speech: { inSpeech: () => this.speech.inSpeech },
      commands: { issue: async (_id, action, body) => this.command(action, body ?? {}, events) },
    });
    // Caller finals are shown on the page as they reach the conversation.
    this.speech = parts.speechFor(ids.sessionId, ids.tenant, {
      speechStarted: (at) => conv().speechStarted(at),
      speechDiscarded: () => conv().speechDiscarded?.(),
      partial: (text) => conv().partial(text),
      final: (text, timings) => {
        events.line('caller', text);
        conv().final(text, timings);
      },
      dtmf: (digit) => conv().dtmf(digit),
      sttError: (err) => conv().sttError(err),
    });
    this.input = new RtpAudioInput(createDecoder('OPUS', { sampleRate: OPUS_RTP_RATE }), this.speech);
  }

  get stats() {
    return { input: this.input.stats, packetsSent: this.output.packetsSent };
  }

  /** The connection is up: greet. */
  start(): void {
    if (!this.closed) this.conversation.start();
  }

  audio(pkt: RtpIn): void {
    if (!this.closed) this.input.push(pkt);
  }

  /** Call Control commands the conversation issues, as a browser call can carry them out. */
  private async command(action: string, body: Record<string, unknown>, events: SessionMediaEvents): Promise<void> {
    switch (action) {
      case 'hangup':
        events.hangup();
        return;
      case 'speak':
        // TTS failed for a whole reply: no audio to send, so the page at least shows the apology.
        if (typeof body.payload === 'string') events.line('agent', body.payload);
        return;
      case 'transfer':
        throw new AppError('transfer_unsupported', 'a browser call cannot be transferred to a phone number', { status: 409 });
      default:
        return;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conversation.close();
    this.speech.close();
    this.input.close();
    this.output.close();
  }
}
