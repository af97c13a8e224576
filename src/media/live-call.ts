import { EventEmitter } from 'node:events';
import type { BusMessage } from '../lib/call-bus';
import { realTimers, type CancelTimer, type Timers } from '../lib/timers';
import type { AgentVoice, VoiceEvents } from './conversation/agent-voice';
import type { Conversation, SpeechControl } from './conversation/conversation';
import type { PlayoutOutput } from './playout/types';
import type { CallInputListener, CallTransport, InboundAudioSink, TransportLink } from './ports';

/** What a live call needs of its conversation (a Conversation; tests of the media layer alone pass a listener). */
export type CallConversation = CallInputListener &
  Pick<Conversation, 'start' | 'onWebhook' | 'onTtsReady' | 'onTtsFailed' | 'onCommandFailed' | 'segmentStarted' | 'segmentDone' | 'idle' | 'close'>;

/** A transport as a live call drives it: the port, plus the health hooks a transport may have. */
export interface LiveTransport extends CallTransport {
  /** Health check (the registry's shared ticker). */
  tick?(): void;
  /** Our audio finished playing: caller audio is expected to keep flowing. */
  playbackEnded?(): void;
}

/** One transport of the call (a Telnyx stream; a restart brings a new one) and the speech pipeline it feeds. */
export interface LiveStream<T extends LiveTransport = LiveTransport> {
  transport: T;
  pipeline: InboundAudioSink & { readonly inSpeech: boolean };
}

/**
 * The call's one state. A transport is owned by awaiting_stream (open, not started yet: no Telnyx
 * `start` seen), streaming and restarting (its link is interrupted: a stall or codec fallback asked
 * Telnyx for a new stream); orphaned: the transport ended, the conversation waits up to the grace
 * for a new one; ended: final.
 */
export type LiveCallState<T extends LiveTransport = LiveTransport> =
  | { kind: 'awaiting_stream'; stream: LiveStream<T> }
  | { kind: 'streaming'; stream: LiveStream<T> }
  | { kind: 'restarting'; stream: LiveStream<T> }
  | { kind: 'orphaned'; cancelGrace: CancelTimer }
  | { kind: 'ended' };

/** The audio output of a call: how the agent is heard, and the playout that confirmations reach (stream mode). */
export interface AudioOutput {
  voice: AgentVoice;
  playout?: { onMark(name: string): unknown };
}

export interface LiveCallDeps {
  /** The call's audio output; `out` writes to whichever transport is current. */
  audioOutput(out: PlayoutOutput, events: VoiceEvents): AudioOutput;
  conversation(voice: AgentVoice, speech: SpeechControl): CallConversation;
  /** A fresh speech pipeline per transport, reporting to `listener`. */
  pipeline(listener: CallInputListener): LiveStream['pipeline'];
  /**
   * How long an orphaned call waits for a new transport before it ends (a Telnyx stream restart).
   * Unset: nothing reconnects, the call ends with its transport (a browser call).
   */
  orphanGraceMs?: number;
  /** The orphan grace timer. Default: real timers. */
  timers?: Timers;
}

/** Close of a transport whose call moved on (a newer stream, or the call ended). */
const REPLACED = { code: 1000, reason: 'replaced by a newer stream' };
const ignore = () => undefined;

/**
 * One live call on this instance, phone or browser: owns its current transport (CallTransport,
 * src/media/ports.ts: a Telnyx stream or a WebRTC connection) and the speech pipeline it feeds, its
 * conversation and its audio output. A Telnyx stream restart is a state change of the same live
 * call. Emits `stateChange` (state, previous) after every change.
 *
 * Built in order, without call-backs into a factory: audio output (writing to the current
 * transport), then the conversation (given the output), then per transport the speech pipeline
 * (given the conversation as listener), then the transport is opened (given the pipeline as sink).
 */
export class LiveCall<T extends LiveTransport = LiveTransport> extends EventEmitter {
  private current: LiveCallState<T>;
  private readonly conversation: CallConversation;
  /** Playout confirmations: the playout's own onMark (bound), so a confirmation is one call from the transport. */
  private readonly played: (name: string) => void;
  /** What the speech pipeline and DTMF report to: the conversation (a plain object, so a bench can wrap its methods). */
  readonly input: CallInputListener;

  /** Created by its first transport (src/media/live-calls.ts). */
  constructor(
    readonly callControlId: string,
    private readonly d: LiveCallDeps,
    transport: T,
  ) {
    super();
    const events: VoiceEvents = {
      segmentStarted: (id) => this.conversation.segmentStarted(id),
      segmentDone: (id) => this.conversation.segmentDone(id),
      idle: () => this.conversation.idle(),
    };
    const out: PlayoutOutput = {
      media: (bytes, silenceMs) => this.stream?.transport.audioOut.media(bytes, silenceMs),
      mark: (name) => this.stream?.transport.audioOut.mark(name),
      clear: () => this.stream?.transport.audioOut.clear(),
    };
    const output = d.audioOutput(out, events);
    const playout = output.playout;
    this.played = playout ? (playout.onMark.bind(playout) as (name: string) => void) : ignore;
    this.conversation = d.conversation(output.voice, {
      inSpeech: () => this.stream?.pipeline.inSpeech ?? false,
      playbackEnded: () => this.stream?.transport.playbackEnded?.(),
    });
    const c = this.conversation;
    // Every event, optional ones included (`satisfies Required`: a new one cannot be forgotten here).
    this.input = {
      speechStarted: (atMs) => c.speechStarted(atMs),
      speechDiscarded: () => c.speechDiscarded?.(),
      partial: (text) => c.partial(text),
      wantsPartials: c.wantsPartials ?? true,
      final: (text, timings) => c.final(text, timings),
      tentative: (text) => c.tentative?.(text),
      speechResumed: () => c.speechResumed?.(),
      dtmf: (digit) => c.dtmf(digit),
      sttError: (err) => c.sttError(err),
    } satisfies Required<CallInputListener>;
    const stream: LiveStream<T> = { transport, pipeline: this.d.pipeline(this.input) };
    this.current = { kind: 'awaiting_stream', stream };
    try {
      this.open(stream);
    } catch (e) {
      // The transport could not start: nothing else will close what was built for it.
      stream.pipeline.close();
      this.conversation.close();
      throw e;
    }
  }

  get state(): LiveCallState<T> {
    return this.current;
  }

  /** The current transport and pipeline, if a transport is attached. */
  get stream(): LiveStream<T> | undefined {
    const s = this.current;
    return s.kind === 'awaiting_stream' || s.kind === 'streaming' || s.kind === 'restarting' ? s.stream : undefined;
  }

  /**
   * The one setter. Whatever the old state owned and the new one does not is torn down here: a
   * replaced or abandoned transport is closed, a grace timer cancelled, and on `ended` the
   * conversation (with its audio output) closed.
   */
  private setState(next: LiveCallState<T>, close = REPLACED): void {
    const previous = this.current;
    if (previous.kind === 'ended') return; // final
    this.current = next;
    if (previous.kind === 'orphaned') previous.cancelGrace();
    const old = 'stream' in previous ? previous.stream : undefined;
    if (old && old !== this.stream) old.transport.close(close.reason, close.code);
    if (next.kind === 'ended') this.conversation.close();
    this.emit('stateChange', next, previous);
  }

  /** A new transport replacing the current one, or ending the orphaned wait (stream restart). */
  attach(transport: T): void {
    if (this.current.kind === 'ended') {
      transport.close('call has ended', 1008);
      return;
    }
    const stream: LiveStream<T> = { transport, pipeline: this.d.pipeline(this.input) };
    this.setState({ kind: 'awaiting_stream', stream });
    this.open(stream);
  }

  /** Opens the transport into its pipeline; its reports count only while it is the call's current one. */
  private open(stream: LiveStream<T>): void {
    const mine = () => stream === this.stream;
    stream.transport.open(stream.pipeline, {
      started: () => this.conversation.start(),
      played: this.played,
      dtmf: (digit) => this.input.dtmf(digit),
      link: (link) => {
        if (mine()) this.onLink(stream, link);
      },
      ended: (reason) => {
        if (!mine()) return;
        if (this.d.orphanGraceMs === undefined) this.end({ code: 1000, reason });
        else this.orphan(this.d.orphanGraceMs);
      },
    });
  }

  private onLink(stream: LiveStream<T>, link: TransportLink): void {
    this.setState({ kind: link === 'up' ? 'streaming' : 'restarting', stream });
  }

  /** The transport is gone (or refused the stream): keep the conversation for a new one. */
  private orphan(graceMs: number): void {
    this.setState({ kind: 'orphaned', cancelGrace: (this.d.timers ?? realTimers).after(graceMs, () => this.end()) });
  }

  /** Health check of the current transport (the registry's shared ticker). */
  tick(): void {
    this.stream?.transport.tick?.();
  }

  end(close = { code: 1000, reason: 'call ended' }): void {
    if (this.current.kind === 'ended') return;
    this.setState({ kind: 'ended' }, close);
  }

  /** Webhooks and TTS/command results for this call, forwarded over the call bus. */
  onBus(msg: BusMessage): void {
    const c = this.conversation;
    switch (msg.type) {
      case 'webhook':
        c.onWebhook(msg.eventType, msg.payload);
        if (msg.eventType === 'call.hangup') this.end();
        return;
      case 'tts_ready':
        return c.onTtsReady(msg.turnId, msg.index, { fileName: msg.fileName, durationMs: msg.durationMs, sampleRate: msg.sampleRate });
      case 'tts_failed':
        return c.onTtsFailed(msg.turnId, msg.index, msg.error);
      case 'command_failed':
        return c.onCommandFailed(msg.action);
    }
  }
}
