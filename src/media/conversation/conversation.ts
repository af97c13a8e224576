import type { Brain } from '../../lib/brain/types';
import { matchQuickReply } from '../../lib/brain/quick-replies';
import { Segmenter } from '../../lib/brain/segmenter';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import type { CallInputListener, FinalTimings } from '../session/call-input';
import type { AgentVoice, PlayableSegment } from './agent-voice';
import { DtmfCollector } from './dtmf-collector';
import { isBackchannel, PHRASES } from './phrases';
import { Turn } from './turn';
import type { CallCommands } from './url-voice';

/** Asks for one segment's synthesis; the result comes back through `onTtsReady/onTtsFailed`. */
export interface SegmentSynth {
  request(turnId: number, index: number, text: string): Promise<string | undefined>;
  cancel(jobIds: string[]): Promise<void>;
}

export interface SpeechControl {
  /** The caller is talking right now (VAD). */
  inSpeech(): boolean;
  /** Our playback ended (ingest health then expects caller audio to keep flowing). */
  playbackEnded?(): void;
}

export interface HistoryStore {
  addUser(text: string): void;
  addAssistant(text: string): void;
  entries(): { role: 'user' | 'assistant'; content: string; timestamp: number }[];
}

export interface ConversationSettings {
  greeting: string;
  deadAirMs: number;
  /** Unanswered "Are you still there?" prompts before saying goodbye. */
  maxDeadAirPrompts: number;
  segment: { firstMinChars: number; nextMaxChars: number; firstAudioMaxMs: number };
  /** After a barge-in, speech still going on this long confirms the interruption (else: backchannel). */
  backchannelMaxMs: number;
}

export interface ConversationDeps {
  callControlId: string;
  tenantId: string;
  tenant?: TenantConfig;
  voice: AgentVoice;
  brain: Brain;
  synth: SegmentSynth;
  commands: CallCommands;
  speech: SpeechControl;
  history: HistoryStore;
  settings: ConversationSettings;
  metrics: Metrics;
  logger: Logger;
  now(): number;
}

type Phase = 'idle' | 'listening' | 'responding' | 'interrupted' | 'ending' | 'ended';

/**
 * The conversation of one call (design.md §4): greeting → listen → caller turn → quick reply or
 * brain (streamed, cut into segments) → TTS per segment (pipelined) → playback in order.
 * Barge-in at the caller's speech onset stops playback at once; if the caller only said a
 * backchannel ("mm-hm", "yeah") or a blip, the reply resumes from the interrupted segment,
 * otherwise the reply is dropped (brain cancelled, TTS jobs removed) and history keeps only what
 * was heard. Dead air → "Are you still there?", then goodbye and hangup.
 */
export class Conversation implements CallInputListener {
  private phase: Phase = 'idle';
  private turn: Turn | undefined;
  private turnSeq = 0;
  private deadAirTimer: NodeJS.Timeout | undefined;
  private deadAirPrompts = 0;
  private interruption: { heard: Map<string, number>; remaining: PlayableSegment[]; timer: NodeJS.Timeout } | undefined;
  private readonly dtmfDigits: DtmfCollector;

  constructor(private readonly d: ConversationDeps) {
    this.dtmfDigits = new DtmfCollector((text) => this.startTurn(text, undefined, 'dtmf'));
  }

  /** The media stream is up: greet. */
  start(): void {
    if (this.phase !== 'idle') return;
    this.say(this.d.tenant?.greeting ?? this.d.settings.greeting, 'greeting');
  }

  // --- caller input (CallInputListener) ----------------------------------------------------
  speechStarted(): void {
    if (this.phase === 'ending' || this.phase === 'ended') return;
    this.clearDeadAir();
    this.deadAirPrompts = 0;
    if (this.d.voice.busy && this.phase === 'responding') this.bargeIn();
  }

  partial(): void {}

  speechDiscarded(): void {
    if (this.phase === 'interrupted') this.resume('blip');
  }

  final(text: string, timings: FinalTimings): void {
    if (this.phase === 'ending' || this.phase === 'ended') return;
    if (this.phase === 'interrupted') {
      if (isBackchannel(text)) return this.resume('backchannel');
      this.confirmInterruption();
    } else if (this.phase === 'responding' && this.d.voice.busy && isBackchannel(text)) {
      return; // a backchannel too short to trigger barge-in: not a turn
    }
    this.d.metrics.turnLatency.observe({ stage: 'stt_final' }, (timings.transcriptAt - timings.speechEndAt) / 1000);
    this.startTurn(text, timings.speechEndAt, 'speech');
  }

  dtmf(digit: string): void {
    this.dtmfDigits.push(digit, 'media');
  }

  sttError(err: Error): void {
    if (this.phase === 'ending' || this.phase === 'ended') return;
    if (this.phase === 'interrupted') this.confirmInterruption();
    this.d.logger.warn({ callControlId: this.d.callControlId, err: err.message }, 'caller speech could not be transcribed; apologizing');
    this.d.metrics.turns.inc({ source: 'error' });
    this.say(PHRASES.apology, 'apology');
  }

  // --- events from the call bus / media socket ---------------------------------------------
  onWebhook(eventType: string, payload: Record<string, unknown>): void {
    if (eventType === 'call.dtmf.received' && typeof payload.digit === 'string') this.dtmfDigits.push(payload.digit, 'webhook');
    else if (eventType === 'call.hangup') this.close();
    else if (eventType === 'runtime.max_duration') this.endQuietly();
    else this.d.voice.onWebhook(eventType, payload);
  }

  onMark(name: string): void {
    this.d.voice.onMark(name);
  }

  onTtsReady(turnId: number, index: number, seg: Omit<PlayableSegment, 'id' | 'text'>): void {
    const t = this.turn;
    if (!t || t.id !== turnId || this.phase === 'ended') return; // an interrupted turn's late result
    if (index === 0) {
      t.firstSegmentReadyAt = this.d.now();
      this.observe(t, 'first_segment_synthesized', t.firstSegmentReadyAt);
    }
    this.release(t, index, { ...seg, id: t.segmentId(index), text: t.texts[index] ?? '' });
  }

  onTtsFailed(turnId: number, index: number, error: string): void {
    const t = this.turn;
    if (!t || t.id !== turnId) return;
    this.d.logger.warn({ callControlId: this.d.callControlId, turnId, index, error }, 'segment synthesis failed');
    this.release(t, index, null);
    // Nothing at all could be synthesized: the caller must still hear something.
    if (t.allReleased && t.played.size === 0 && !this.d.voice.busy) {
      void this.d.commands.issue(this.d.callControlId, 'speak', { payload: PHRASES.apology, voice: 'female', language: 'en-US' });
    }
  }

  onCommandFailed(action: string): void {
    if (action === 'transfer' && this.phase !== 'ended') this.say(PHRASES.transferFailed, 'transfer_failed');
  }

  // --- voice events ------------------------------------------------------------------------
  segmentStarted(id: string): void {
    const t = this.turn;
    if (!t || !id.startsWith(`t${t.id}-`)) return;
    if (t.firstAudioAt === undefined) {
      t.firstAudioAt = this.d.now();
      this.observe(t, 'first_audio', t.firstAudioAt);
    }
  }

  segmentDone(id: string): void {
    const t = this.turn;
    if (!t) return;
    t.played.add(id);
    const i = t.inVoice.findIndex((s) => s.id === id);
    if (i >= 0) t.inVoice.splice(i, 1);
  }

  idle(): void {
    const t = this.turn;
    if (t && t.allReleased && this.phase === 'responding') this.finishTurn(t);
  }

  // --- turns -------------------------------------------------------------------------------
  private startTurn(transcript: string, speechEndAt: number | undefined, kind: 'speech' | 'dtmf'): void {
    if (this.phase === 'ending' || this.phase === 'ended') return;
    this.cancelTurn();
    this.clearDeadAir();
    const t = this.newTurn(speechEndAt, kind);
    this.d.history.addUser(transcript);
    const quick = matchQuickReply(transcript, this.d.tenant?.quickReplies);
    if (quick) {
      this.d.metrics.turns.inc({ source: 'quick_reply' });
      t.fullText = quick;
      this.segment(t, quick);
      this.brainFinished(t);
      return;
    }
    const seg = new Segmenter({ ...this.d.settings.segment, onSegment: (text) => this.requestSegment(t, text) });
    const history = this.d.history.entries().slice(0, -1);
    this.d.brain
      .reply(
        {
          tenantId: this.d.tenantId,
          callControlId: this.d.callControlId,
          transcript,
          history,
          assistantContext: this.d.tenant?.assistantContext,
          transferProfiles: this.d.tenant?.transferProfiles,
          quickReplies: this.d.tenant?.quickReplies,
        },
        {
          signal: t.abort.signal,
          onToken: (tok) => {
            if (t.firstTokenAt === undefined) {
              t.firstTokenAt = this.d.now();
              this.observe(t, 'brain_first_token', t.firstTokenAt);
            }
            seg.push(tok);
          },
        },
      )
      .then((r) => {
        if (this.turn !== t) return;
        seg.end();
        if (t.texts.length === 0 && r.text.trim()) this.segment(t, r.text);
        t.fullText = r.text;
        t.transfer = r.transfer;
        this.d.metrics.turns.inc({ source: r.source === 'local' ? 'local_brain' : 'brain' });
        this.brainFinished(t);
      })
      .catch((err: unknown) => {
        seg.cancel();
        if (this.turn !== t || t.abort.signal.aborted) return;
        this.d.logger.warn({ callControlId: this.d.callControlId, err: errorMessage(err) }, 'brain failed; apologizing');
        this.d.metrics.turns.inc({ source: 'error' });
        const partial = (err as { partialText?: string }).partialText ?? '';
        t.fullText = partial;
        if (t.texts.length === 0) this.segment(t, PHRASES.apology);
        this.brainFinished(t);
      });
  }

  private newTurn(speechEndAt: number | undefined, source: string): Turn {
    this.turnSeq += 1;
    const t = new Turn(this.turnSeq, speechEndAt, source);
    this.turn = t;
    this.phase = 'responding';
    return t;
  }

  /** A fixed phrase as its own turn (greeting, prompts, apologies). */
  private say(text: string, source: string, opts: { hangupAfter?: boolean } = {}): void {
    this.cancelTurn();
    const t = this.newTurn(undefined, source);
    t.recordInHistory = source === 'greeting';
    t.hangupAfter = opts.hangupAfter ?? false;
    t.fullText = text;
    this.segment(t, text);
    this.brainFinished(t);
  }

  private segment(t: Turn, text: string): void {
    const seg = new Segmenter({ ...this.d.settings.segment, firstAudioMaxMs: 0, onSegment: (s) => this.requestSegment(t, s) });
    seg.push(text);
    seg.end();
  }

  private requestSegment(t: Turn, text: string): void {
    if (this.turn !== t) return;
    const index = t.addText(text);
    this.d.synth.request(t.id, index, text).then(
      (jobId) => jobId && t.jobIds.push(jobId),
      (err: unknown) => this.onTtsFailed(t.id, index, errorMessage(err)),
    );
  }

  private release(t: Turn, index: number, seg: PlayableSegment | null): void {
    for (const s of t.resolve(index, seg)) {
      if (this.phase === 'interrupted' && this.interruption) this.interruption.remaining.push(s);
      else this.playSegment(t, s);
    }
    if (t.allReleased && !this.d.voice.busy && this.phase === 'responding') this.finishTurn(t);
  }

  private playSegment(t: Turn, s: PlayableSegment): void {
    t.inVoice.push(s);
    this.d.voice.play(s);
  }

  private brainFinished(t: Turn): void {
    t.brainDone = true;
    if (t.allReleased && !this.d.voice.busy && this.phase === 'responding') this.finishTurn(t);
  }

  private finishTurn(t: Turn): void {
    if (this.turn !== t) return;
    this.turn = undefined;
    this.d.speech.playbackEnded?.();
    if (t.recordInHistory && t.fullText) this.d.history.addAssistant(t.fullText);
    this.logTurn(t, 'completed');
    if (t.transfer) {
      this.phase = 'listening';
      void this.d.commands.issue(this.d.callControlId, 'transfer', {
        to: t.transfer.to,
        ...(t.transfer.audioUrl ? { audio_url: t.transfer.audioUrl } : {}),
        ...(t.transfer.timeoutSecs ? { timeout_secs: t.transfer.timeoutSecs } : {}),
      });
      return;
    }
    if (t.hangupAfter) {
      this.phase = 'ending';
      void this.d.commands.issue(this.d.callControlId, 'hangup', {});
      return;
    }
    this.phase = 'listening';
    this.armDeadAir();
  }

  private cancelTurn(): void {
    const t = this.turn;
    if (!t) return;
    t.abort.abort();
    if (t.jobIds.length) void this.d.synth.cancel(t.jobIds);
    if (this.d.voice.busy) this.d.voice.stop();
    this.turn = undefined;
  }

  // --- barge-in ----------------------------------------------------------------------------
  private bargeIn(): void {
    const heard = this.d.voice.stop();
    this.d.metrics.bargeIns.inc();
    this.phase = 'interrupted';
    const timer = setTimeout(() => {
      if (this.phase === 'interrupted' && this.d.speech.inSpeech()) this.confirmInterruption();
    }, this.d.settings.backchannelMaxMs);
    timer.unref();
    // Keep what was cut off (the interrupted segment from its start, and those queued after it) in
    // case this turns out to be only a backchannel.
    const remaining = this.turn ? this.turn.inVoice.splice(0) : [];
    this.interruption = { heard, remaining, timer };
    this.d.logger.info({ callControlId: this.d.callControlId }, 'barge-in: agent playback stopped');
  }

  /** The caller really took the turn: drop the rest of the reply, keep only what was heard. */
  private confirmInterruption(): void {
    const i = this.interruption;
    const t = this.turn;
    this.interruption = undefined;
    if (i) clearTimeout(i.timer);
    this.phase = 'listening';
    if (!t) return;
    const heard = t.heardText(i?.heard ?? new Map());
    if (t.recordInHistory && heard) this.d.history.addAssistant(heard);
    this.logTurn(t, 'interrupted');
    t.recordInHistory = false;
    this.cancelTurn();
  }

  /** Only a backchannel or a blip: replay the interrupted segment and continue the reply. */
  private resume(why: string): void {
    const i = this.interruption;
    const t = this.turn;
    this.interruption = undefined;
    if (i) clearTimeout(i.timer);
    this.phase = 'responding';
    if (!t || !i) return;
    this.d.logger.info({ callControlId: this.d.callControlId, why }, 'not a real interruption: resuming the reply');
    for (const s of i.remaining) this.playSegment(t, s);
    if (t.allReleased && !this.d.voice.busy) this.finishTurn(t);
  }

  // --- dead air ----------------------------------------------------------------------------
  private armDeadAir(): void {
    this.clearDeadAir();
    this.deadAirTimer = setTimeout(() => this.onDeadAir(), this.d.settings.deadAirMs);
    this.deadAirTimer.unref();
  }

  private clearDeadAir(): void {
    if (this.deadAirTimer) clearTimeout(this.deadAirTimer);
    this.deadAirTimer = undefined;
  }

  private onDeadAir(): void {
    if (this.phase !== 'listening' || this.d.speech.inSpeech()) return;
    this.deadAirPrompts += 1;
    this.d.metrics.deadAirPrompts.inc();
    if (this.deadAirPrompts > this.d.settings.maxDeadAirPrompts) this.say(PHRASES.deadAirGoodbye, 'dead_air_goodbye', { hangupAfter: true });
    else this.say(PHRASES.stillThere, 'dead_air');
  }

  // --- teardown ----------------------------------------------------------------------------
  /** Max call duration: the call flow plays the goodbye by URL; this session goes quiet. */
  private endQuietly(): void {
    this.cancelTurn();
    this.clearDeadAir();
    this.phase = 'ending';
  }

  close(): void {
    if (this.phase === 'ended') return;
    this.cancelTurn();
    this.clearDeadAir();
    if (this.interruption) clearTimeout(this.interruption.timer);
    this.dtmfDigits.close();
    this.d.voice.close();
    this.phase = 'ended';
  }

  private observe(t: Turn, stage: string, at: number): void {
    if (t.speechEndAt !== undefined) this.d.metrics.turnLatency.observe({ stage }, (at - t.speechEndAt) / 1000);
  }

  private logTurn(t: Turn, outcome: string): void {
    const rel = (at?: number) => (at !== undefined && t.speechEndAt !== undefined ? at - t.speechEndAt : undefined);
    this.d.logger.info(
      {
        callControlId: this.d.callControlId,
        turn: t.id,
        source: t.source,
        outcome,
        segments: t.texts.length,
        brainFirstTokenMs: rel(t.firstTokenAt),
        firstSegmentMs: rel(t.firstSegmentReadyAt),
        firstAudioMs: rel(t.firstAudioAt),
      },
      'turn',
    );
  }
}
