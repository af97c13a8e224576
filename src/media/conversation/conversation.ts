import type { Brain, BrainHistoryEntry } from '../../lib/brain/types';
import { matchQuickReply } from '../../lib/brain/quick-replies';
import { Segmenter } from '../../lib/brain/segmenter';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { STRICT_URL_POLICY, type UrlPolicy } from '../../lib/net/url-policy';
import type { TenantConfig } from '../../lib/tenants/tenant-config';
import type { CallInputListener, FinalTimings } from '../ports';
import type { AgentVoice, PlayableSegment } from './agent-voice';
import { DtmfCollector } from './dtmf-collector';
import { isBackchannel, PHRASES } from './phrases';
import { gateTransfer, transferRefusedNote } from './transfer-gate';
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
  addSystem(text: string): void;
  entries(): BrainHistoryEntry[];
}

export interface ConversationSettings {
  greeting: string;
  deadAirMs: number;
  /** Unanswered "Are you still there?" prompts before saying goodbye. */
  maxDeadAirPrompts: number;
  segment: { firstMinChars: number; nextMaxChars: number; firstAudioMaxMs: number };
  /** After a barge-in, speech still going on this long confirms the interruption (else: backchannel). */
  backchannelMaxMs: number;
  /**
   * After a short barge-in, how long to wait for its transcript before resuming the reply anyway
   * (a filler-only or empty transcript is dropped by the speech pipeline: no verdict ever comes).
   * Default 3000.
   */
  interruptionVerdictMs?: number;
}

export interface ConversationDeps {
  callControlId: string;
  tenantId: string;
  tenant?: TenantConfig;
  /** What a brain transfer's audioUrl may name (TENANT_URL_ALLOWED_HOSTS); default: no host allowlisted. */
  urlPolicy?: UrlPolicy;
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

const DEFAULT_INTERRUPTION_VERDICT_MS = 3000;

/**
 * The conversation of one call (docs/design.md §Call behaviour): greeting → listen → caller turn → quick reply or
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
    this.dtmfDigits = new DtmfCollector((text) => this.startTurn(text, undefined, 'dtmf'), undefined, undefined, () => this.d.now());
  }

  /** The media stream is up: greet (tenant greeting, else GREETING_TEXT, else the default; blank counts as unset). */
  start(): void {
    if (this.phase !== 'idle') return;
    this.say(this.d.tenant?.greeting?.trim() || this.d.settings.greeting.trim() || PHRASES.defaultGreeting, 'greeting');
  }

  // --- caller input (CallInputListener) ----------------------------------------------------
  speechStarted(): void {
    if (this.phase === 'ending' || this.phase === 'ended') return;
    // An onset is not an answer yet (a cough, or a filler the STT result is dropped for): the
    // dead-air count starts over instead of stopping, and only a real turn resets the prompts.
    if (this.deadAirTimer) this.armDeadAir();
    // Also between segments (voice idle, reply unfinished): what comes next must not play over the caller.
    if (this.phase === 'responding' && this.turn) this.bargeIn();
  }

  partial(): void {}

  speechDiscarded(): void {
    if (this.phase === 'interrupted') this.resume('blip');
  }

  final(text: string, timings: FinalTimings): void {
    if (this.phase === 'ending' || this.phase === 'ended') return;
    // "Yes" to "Are you still there?" is the answer, not a backchannel.
    if (isBackchannel(text) && this.turn?.source !== 'dead_air') {
      if (this.phase === 'interrupted') return this.resume('backchannel');
      if (this.phase === 'responding') return; // "mm-hm" while the agent has the turn: not a turn
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
  }

  onCommandFailed(action: string): void {
    if (action === 'transfer' && this.phase !== 'ending' && this.phase !== 'ended') this.say(PHRASES.transferFailed, 'transfer_failed');
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
    this.dropReply();
    this.clearDeadAir();
    this.deadAirPrompts = 0;
    const t = this.newTurn(speechEndAt, kind);
    this.d.history.addUser(transcript);
    const quick = matchQuickReply(transcript, this.d.tenant?.quickReplies);
    if (quick) {
      this.d.metrics.turns.inc({ source: 'quick_reply' });
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
        if (r.transfer) {
          const gated = gateTransfer(r.transfer, { ...this.d, urlPolicy: this.d.urlPolicy ?? STRICT_URL_POLICY });
          if ('transfer' in gated) t.transfer = gated.transfer;
          else t.refusedTransferTo = gated.refusedTo;
        }
        if (t.texts.length === 0 && !r.transfer) {
          // Nothing to say and nothing to do would leave the caller in silence.
          this.d.logger.warn({ callControlId: this.d.callControlId }, 'brain answered nothing; apologizing');
          this.d.metrics.turns.inc({ source: 'error' });
          this.segment(t, PHRASES.apology);
        } else this.d.metrics.turns.inc({ source: r.source === 'local' ? 'local_brain' : 'brain' });
        this.brainFinished(t);
      })
      .catch((err: unknown) => {
        seg.cancel();
        if (this.turn !== t || t.abort.signal.aborted) return;
        this.d.logger.warn({ callControlId: this.d.callControlId, err: errorMessage(err) }, 'brain failed; apologizing');
        this.d.metrics.turns.inc({ source: 'error' });
        // Segments already cut are (being) said and stay; text still in the segmenter is never heard.
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
    this.dropReply();
    const t = this.newTurn(undefined, source);
    t.recordInHistory = source === 'greeting';
    t.hangupAfter = opts.hangupAfter ?? false;
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
      (jobId) => {
        if (!jobId) return;
        // Dropped before its job id was known: cancel it now, or it is synthesized for nothing.
        if (t.abort.signal.aborted) this.cancelJobs([jobId]);
        else t.jobIds.push(jobId);
      },
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
    if (t.recordInHistory) this.remember(t, new Map());
    this.logTurn(t, 'completed');
    // Not one segment could be synthesized (TTS down): the caller must still hear something.
    if (t.texts.length > 0 && t.failedSegments === t.texts.length) {
      this.command('speak', { payload: PHRASES.apology, voice: 'female', language: 'en-US' });
    }
    if (t.refusedTransferTo !== undefined) return this.say(PHRASES.transferRefused, 'transfer_refused');
    if (t.transfer) {
      this.d.metrics.transfers.inc({ outcome: 'sent' });
      this.phase = 'listening';
      const body = {
        to: t.transfer.to,
        ...(t.transfer.audioUrl ? { audio_url: t.transfer.audioUrl } : {}),
        ...(t.transfer.timeoutSecs ? { timeout_secs: t.transfer.timeoutSecs } : {}),
      };
      this.command('transfer', body, () => this.onCommandFailed('transfer'));
      return;
    }
    if (t.hangupAfter) {
      this.phase = 'ending';
      this.command('hangup', {});
      return;
    }
    this.phase = 'listening';
    this.armDeadAir();
  }

  private cancelTurn(): void {
    const t = this.turn;
    if (!t) return;
    t.abort.abort();
    if (t.jobIds.length) this.cancelJobs(t.jobIds);
    if (this.d.voice.busy) this.d.voice.stop();
    this.turn = undefined;
  }

  private cancelJobs(jobIds: string[]): void {
    this.d.synth.cancel(jobIds).catch((err: unknown) => {
      this.d.logger.warn({ callControlId: this.d.callControlId, err: errorMessage(err) }, 'could not cancel TTS jobs');
    });
  }

  /** Fire and forget, but never an unhandled rejection (it would take the whole process down). */
  private command(action: string, body: Record<string, unknown>, onFailed?: () => void): void {
    this.d.commands.issue(this.d.callControlId, action, body).catch((err: unknown) => {
      this.d.logger.error({ callControlId: this.d.callControlId, action, err: errorMessage(err) }, 'call command could not be issued');
      onFailed?.();
    });
  }

  private remember(t: Turn, heard: Map<string, number>): void {
    const text = t.heardText(heard);
    if (text) this.d.history.addAssistant(text);
    // After what the caller heard: the brain learns in its next request that its transfer did not happen.
    if (t.refusedTransferTo !== undefined) this.d.history.addSystem(transferRefusedNote(t.refusedTransferTo));
  }

  // --- barge-in ----------------------------------------------------------------------------
  private bargeIn(): void {
    const speaking = this.d.voice.busy;
    const heard = speaking ? this.d.voice.stop() : new Map<string, number>();
    if (speaking) this.d.metrics.bargeIns.inc();
    this.phase = 'interrupted';
    const timer = setTimeout(() => this.checkInterruption(false), this.d.settings.backchannelMaxMs);
    timer.unref();
    // Keep what was cut off (the interrupted segment from its start, and those queued after it) in
    // case this turns out to be only a backchannel.
    const remaining = this.turn ? this.turn.inVoice.splice(0) : [];
    this.interruption = { heard, remaining, timer };
    this.d.logger.info({ callControlId: this.d.callControlId, speaking }, 'barge-in: agent playback stopped');
  }

  /**
   * backchannelMaxMs after the onset: still talking → a real interruption. Otherwise the transcript
   * decides (final / speechDiscarded), but it may never come (filler dropped): after
   * interruptionVerdictMs more, resume.
   */
  private checkInterruption(last: boolean): void {
    const i = this.interruption;
    if (this.phase !== 'interrupted' || !i) return;
    if (this.d.speech.inSpeech()) return this.confirmInterruption();
    if (last) return this.resume('no transcript');
    i.timer = setTimeout(() => this.checkInterruption(true), this.d.settings.interruptionVerdictMs ?? DEFAULT_INTERRUPTION_VERDICT_MS);
    i.timer.unref();
  }

  /** The caller took the turn: keep what they heard of the reply in progress, drop the rest. */
  private dropReply(): void {
    const i = this.interruption;
    this.interruption = undefined;
    if (i) clearTimeout(i.timer);
    const t = this.turn;
    if (!t) return;
    // Not interrupted at the onset (it came before this reply began): what plays now was heard up to here.
    const heard = i ? i.heard : this.d.voice.busy ? this.d.voice.stop() : new Map<string, number>();
    if (t.recordInHistory) this.remember(t, heard);
    this.logTurn(t, 'interrupted');
    this.cancelTurn();
  }

  /** The caller really took the turn (speech too long for a backchannel, or STT failed): listen. */
  private confirmInterruption(): void {
    this.dropReply();
    this.phase = 'listening';
    // The transcript that should follow may never come (dropped as filler): dead air still applies.
    this.armDeadAir();
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
    this.deadAirTimer = undefined;
    if (this.phase !== 'listening') return;
    if (this.d.speech.inSpeech()) return this.armDeadAir(); // still talking: wait for the silence
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
    this.clearInterruption();
    this.dtmfDigits.close();
    this.phase = 'ending';
  }

  private clearInterruption(): void {
    if (this.interruption) clearTimeout(this.interruption.timer);
    this.interruption = undefined;
  }

  close(): void {
    if (this.phase === 'ended') return;
    this.cancelTurn();
    this.clearDeadAir();
    this.clearInterruption();
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
