import { EventEmitter } from 'node:events';
import type { BusMessage } from '../lib/call-bus';
import { parseInbound } from '../lib/telnyx/media-protocol';
import type { AgentVoice, VoiceEvents } from './conversation/agent-voice';
import type { Conversation, SpeechControl } from './conversation/conversation';
import type { CallInputListener, InboundAudioSink } from './ports';
import type { MediaSession, MediaSessionEvents, MediaSocket, StreamPhase } from './session/media-session';

/** What a live call needs of its conversation (a Conversation; tests of the media layer alone pass a listener). */
export type CallConversation = CallInputListener &
  Pick<Conversation, 'start' | 'onWebhook' | 'onTtsReady' | 'onTtsFailed' | 'onCommandFailed' | 'segmentStarted' | 'segmentDone' | 'idle' | 'close'>;

/** One Telnyx media stream of the call: its socket, the session decoding it and the speech pipeline it feeds. */
export interface LiveStream {
  socket: MediaSocket;
  session: MediaSession;
  pipeline: InboundAudioSink & { readonly inSpeech: boolean };
}

/**
 * The call's one state. A stream's socket is owned by awaiting_stream (connected, Telnyx `start` not
 * seen yet), streaming and restarting (a stall or codec fallback asked Telnyx for a new stream);
 * orphaned: the socket is gone, the conversation waits up to the grace for a new stream; ended: final.
 */
export type LiveCallState =
  | { kind: 'awaiting_stream'; stream: LiveStream }
  | { kind: 'streaming'; stream: LiveStream }
  | { kind: 'restarting'; stream: LiveStream }
  | { kind: 'orphaned'; graceTimer: NodeJS.Timeout }
  | { kind: 'ended' };

/** The audio output of a call: how the agent is heard, and the playout that Telnyx marks confirm (stream mode). */
export interface AudioOutput {
  voice: AgentVoice;
  playout?: { onMark(name: string): unknown };
}

export interface LiveCallDeps {
  /** The call's audio output; `send` writes to whichever stream socket is current. */
  audioOutput(send: (text: string) => void, events: VoiceEvents): AudioOutput;
  conversation(voice: AgentVoice, speech: SpeechControl): CallConversation;
  /** A fresh speech pipeline per stream, reporting to `listener`. */
  pipeline(listener: CallInputListener): LiveStream['pipeline'];
  session(socket: MediaSocket, sink: InboundAudioSink, events: MediaSessionEvents, restartsSoFar: number): MediaSession;
  /** How long an orphaned call waits for a new stream before it ends. */
  orphanGraceMs: number;
}

/** Per media socket: its messages and its end, for the WebSocket edge (src/api/media-ws.ts). */
export interface StreamHandle {
  receive(text: string): void;
  socketClosed(): void;
}

/** Close of a stream whose call moved on (a newer stream, or the call ended). */
const REPLACED = { code: 1000, reason: 'replaced by a newer stream' };

/**
 * One live phone call on this instance: owns its current media stream (socket, session, speech
 * pipeline), its conversation and its audio output. A stream restart is a state change of the same
 * live call. Emits `stateChange` (state, previous) after every change.
 *
 * Built in order, without call-backs into a factory: audio output, then the conversation (given the
 * output), then per stream the speech pipeline (given the conversation as listener), then the session
 * (given the pipeline as sink).
 */
export class LiveCall extends EventEmitter {
  private current: LiveCallState;
  private readonly conversation: CallConversation;
  private readonly playout: AudioOutput['playout'];
  /** What the speech pipeline and DTMF report to: the conversation (a plain object, so a bench can wrap its methods). */
  readonly input: CallInputListener;

  /** Created by its first media socket (src/media/live-calls.ts). */
  constructor(
    readonly callControlId: string,
    private readonly d: LiveCallDeps,
    socket: MediaSocket,
  ) {
    super();
    const events: VoiceEvents = {
      segmentStarted: (id) => this.conversation.segmentStarted(id),
      segmentDone: (id) => this.conversation.segmentDone(id),
      idle: () => this.conversation.idle(),
    };
    const out = d.audioOutput((text) => this.stream?.socket.send(text), events);
    this.playout = out.playout;
    this.conversation = d.conversation(out.voice, {
      inSpeech: () => this.stream?.pipeline.inSpeech ?? false,
      // Our audio finished: the stream's ingest health monitor expects caller audio to keep flowing.
      playbackEnded: () => this.stream?.session.onPlaybackEnded(),
    });
    const c = this.conversation;
    this.input = {
      speechStarted: (atMs) => c.speechStarted(atMs),
      speechDiscarded: () => c.speechDiscarded?.(),
      partial: (text) => c.partial(text),
      final: (text, timings) => c.final(text, timings),
      dtmf: (digit) => c.dtmf(digit),
      sttError: (err) => c.sttError(err),
    };
    this.current = { kind: 'awaiting_stream', stream: this.newStream(socket, 0) };
  }

  get state(): LiveCallState {
    return this.current;
  }

  /** The current stream, if a socket is attached. */
  get stream(): LiveStream | undefined {
    const s = this.current;
    return s.kind === 'awaiting_stream' || s.kind === 'streaming' || s.kind === 'restarting' ? s.stream : undefined;
  }

  /**
   * The one setter. Whatever the old state owned and the new one does not is torn down here: a
   * replaced or abandoned stream is closed, a grace timer cleared, and on `ended` the conversation
   * (with its audio output) closed.
   */
  private setState(next: LiveCallState, close = REPLACED): void {
    const previous = this.current;
    if (previous.kind === 'ended') return; // final
    this.current = next;
    if (previous.kind === 'orphaned') clearTimeout(previous.graceTimer);
    const oldStream = 'stream' in previous ? previous.stream : undefined;
    if (oldStream && oldStream !== this.stream) oldStream.session.close(close.code, close.reason);
    if (next.kind === 'ended') this.conversation.close();
    this.emit('stateChange', next, previous);
  }

  /** A new media socket replacing the current stream, or ending the orphaned wait (stream restart). */
  attach(socket: MediaSocket): void {
    if (this.current.kind === 'ended') {
      socket.close(1008, 'call has ended');
      return;
    }
    this.setState({ kind: 'awaiting_stream', stream: this.newStream(socket, this.stream?.session.restartCount ?? 0) });
  }

  /** The messages and end of the current stream's socket (a no-op handle once the call has no stream). */
  currentStream(): StreamHandle {
    const stream = this.stream;
    if (!stream) return { receive: () => undefined, socketClosed: () => undefined };
    return { receive: (text) => this.receive(stream, text), socketClosed: () => stream.session.close() };
  }

  /** Built in order: the pipeline reports to the conversation, the session feeds the pipeline. */
  private newStream(socket: MediaSocket, restartsSoFar: number): LiveStream {
    const pipeline = this.d.pipeline(this.input);
    const events: MediaSessionEvents = {
      dtmf: (digit) => this.input.dtmf(digit),
      streamStarted: () => this.conversation.start(),
      phaseChanged: (phase) => this.onStreamPhase(stream, phase),
    };
    const stream: LiveStream = { socket, pipeline, session: this.d.session(socket, pipeline, events, restartsSoFar) };
    return stream;
  }

  /**
   * Hops of a Telnyx `mark` (playout confirmation): (1) the socket's message handler calls
   * receive(), (2) receive() calls the playout's onMark. Everything else goes to the stream's session.
   */
  private receive(stream: LiveStream, text: string): void {
    if (stream !== this.stream) return; // a replaced stream's late frames
    const frame = parseInbound(text);
    if (frame.kind === 'mark') {
      this.playout?.onMark(frame.name);
      return;
    }
    stream.session.handleFrame(frame);
  }

  private onStreamPhase(stream: LiveStream, phase: StreamPhase): void {
    if (stream !== this.stream) return; // the live call already moved on
    if (phase === 'streaming' || phase === 'restarting') return this.setState({ kind: phase, stream });
    if (phase === 'closed') {
      // The socket is gone (or the session refused the stream): keep the conversation for a new stream.
      const graceTimer = setTimeout(() => this.end(), this.d.orphanGraceMs);
      graceTimer.unref();
      this.setState({ kind: 'orphaned', graceTimer });
    }
  }

  /** Health check of the current stream (the registry's shared ticker). */
  tick(now: number): void {
    this.stream?.session.tick(now);
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
