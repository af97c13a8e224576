import type { BusMessage } from '../../lib/call-bus';
import type { CallRecord } from '../../lib/calls/call-store';
import type { Logger } from '../../lib/logger';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import { nativeRate, normalizeEncoding } from '../audio/codecs';
import { StreamPlayout } from '../playout/playout';
import type { CallInputListener } from '../ports';
import type { AgentVoice, VoiceEvents } from './agent-voice';
import type { Conversation, SpeechControl } from './conversation';
import { StreamVoice } from './stream-voice';
import { UrlVoice, type CallCommands } from './url-voice';

/** A call's conversation outlives a replaced media socket (stream restart): wait this long for the new one. */
const ORPHAN_GRACE_MS = 5000;

export interface CallConversationsDeps {
  playbackMode: 'url' | 'stream';
  /** Codec we asked Telnyx to accept on the bidirectional stream. */
  bidirectionalCodec: string;
  audioPublicBaseUrl: string;
  audioStorageDir: string;
  commands: CallCommands;
  /** Builds a call's conversation (the composition root's one factory for phone and browser calls). */
  conversationFor(c: { call: CallRecord; tenant: TenantConfig | undefined; voice: AgentVoice; commands: CallCommands; speech: SpeechControl }): Conversation;
  logger: Logger;
}

type Speech = { inSpeech(): boolean; playbackEnded?(): void };

interface Entry {
  conversation: Conversation;
  /** The current stream's socket and speech pipeline (a restarted stream replaces both). */
  socket: { send(text: string): void };
  speech: Speech;
  orphanTimer?: NodeJS.Timeout;
}

/**
 * The live conversations of this instance, one per call, and the routing of call-bus messages,
 * media marks and socket changes to them.
 */
export class CallConversations {
  private readonly calls = new Map<string, Entry>();

  constructor(private readonly d: CallConversationsDeps) {}

  get size(): number {
    return this.calls.size;
  }

  /** The listener for a call's caller input; creates the conversation on the call's first stream. */
  attach(call: CallRecord, tenant: TenantConfig | undefined, socket: { send(text: string): void }, speech: Speech): CallInputListener & { onMark(name: string): void; onStreamStart(): void; onStreamClosed(): void } {
    let entry = this.calls.get(call.callControlId);
    if (entry) {
      entry.socket = socket;
      entry.speech = speech;
      if (entry.orphanTimer) clearTimeout(entry.orphanTimer);
      entry.orphanTimer = undefined;
    } else {
      entry = this.create(call, tenant, socket, speech);
      this.calls.set(call.callControlId, entry);
    }
    const e = entry;
    const c = e.conversation;
    return {
      speechStarted: () => c.speechStarted(),
      speechDiscarded: () => c.speechDiscarded(),
      partial: () => c.partial(),
      final: (text, timings) => c.final(text, timings),
      dtmf: (digit) => c.dtmf(digit),
      sttError: (err) => c.sttError(err),
      onMark: (name) => c.onMark(name),
      onStreamStart: () => c.start(),
      onStreamClosed: () => {
        if (e.socket !== socket) return; // a newer socket already took over
        e.orphanTimer = setTimeout(() => this.end(call.callControlId), ORPHAN_GRACE_MS);
        e.orphanTimer.unref();
      },
    };
  }

  private create(call: CallRecord, tenant: TenantConfig | undefined, socket: { send(text: string): void }, speech: Speech): Entry {
    const entry = { socket, speech } as Entry;
    const events: VoiceEvents = {
      segmentStarted: (id) => entry.conversation.segmentStarted(id),
      segmentDone: (id) => entry.conversation.segmentDone(id),
      idle: () => entry.conversation.idle(),
    };
    let voice: AgentVoice;
    if (this.d.playbackMode === 'stream') {
      const encoding = normalizeEncoding(this.d.bidirectionalCodec) ?? 'PCMU';
      voice = new StreamVoice(
        (ev) => new StreamPlayout({ send: (t) => entry.socket.send(t), encoding, codecRate: nativeRate(encoding), events: ev, logger: this.d.logger }),
        this.d.audioStorageDir,
        events,
        this.d.logger,
      );
    } else {
      voice = new UrlVoice(call.callControlId, this.d.commands, this.d.audioPublicBaseUrl, events);
    }
    entry.conversation = this.d.conversationFor({
      call,
      tenant,
      voice,
      commands: this.d.commands,
      speech: { inSpeech: () => entry.speech.inSpeech(), playbackEnded: () => entry.speech.playbackEnded?.() },
    });
    return entry;
  }

  onBus(msg: BusMessage): void {
    const c = this.calls.get(msg.callId)?.conversation;
    if (!c) return;
    switch (msg.type) {
      case 'webhook':
        c.onWebhook(msg.eventType, msg.payload);
        if (msg.eventType === 'call.hangup') this.end(msg.callId);
        return;
      case 'tts_ready':
        return c.onTtsReady(msg.turnId, msg.index, { fileName: msg.fileName, durationMs: msg.durationMs, sampleRate: msg.sampleRate });
      case 'tts_failed':
        return c.onTtsFailed(msg.turnId, msg.index, msg.error);
      case 'command_failed':
        return c.onCommandFailed(msg.action);
    }
  }

  end(callId: string): void {
    const e = this.calls.get(callId);
    if (!e) return;
    if (e.orphanTimer) clearTimeout(e.orphanTimer);
    e.conversation.close();
    this.calls.delete(callId);
  }

  closeAll(): void {
    for (const id of [...this.calls.keys()]) this.end(id);
  }
}
