import { matchQuickReply } from '../../lib/brain/quick-replies';
import { Segmenter } from '../../lib/brain/segmenter';
import { errorMessage } from '../../lib/errors';
import { realTimers, type Timers } from '../../lib/timers';
import type { CallSnapshot } from '../../lib/calls/call-snapshot';
import type { CallInputListener, FinalTimings } from '../ports';
import type { PlayableSegment } from './agent-voice';
import { askBrain } from './brain-turn';
import type { ConversationDeps } from './conversation-deps';
import { type ConversationPhase, type ConversationPhaseKind, endPhase, isOver, turnOf } from './conversation-phase';
import { conversationSnapshot } from './conversation-snapshot';
import { DtmfCollector } from './dtmf-collector';
import { cancelSynthJobs, issueCommand } from './fire-and-forget';
import { isBackchannel, PHRASES } from './phrases';
import { transferCommandBody, transferRefusedNote } from './transfer-gate';
import { Turn } from './turn';
import { TurnReport } from './turn-report';

export type { ConversationDeps, ConversationSettings, HistoryStore, SegmentSynth, SpeechControl } from './conversation-deps';

/** ConversationSettings.interruptionVerdictMs when unset. */
const DEFAULT_INTERRUPTION_VERDICT_MS = 3000;

/**
 * The conversation of one call: greeting → listen → caller turn → quick reply or brain (streamed,
 * cut into segments) → TTS per segment (pipelined) → playback in order.
 * Barge-in at the caller's speech onset stops playback at once; if the caller only said a
 * backchannel ("mm-hm", "yeah") or a blip, the reply resumes from the interrupted segment,
 * otherwise the reply is dropped (brain cancelled, TTS jobs removed) and history keeps only what
 * was heard. Dead air → "Are you still there?", then goodbye and hangup.
 */
export class Conversation implements CallInputListener {
  private phase: ConversationPhase = { kind: 'idle' };
  private turnSeq = 0;
  private deadAirPrompts = 0;
  private readonly dtmfDigits: DtmfCollector;
  private readonly timers: Timers;
  private readonly report: TurnReport;

  constructor(private readonly d: ConversationDeps) {
    this.timers = d.timers ?? realTimers;
    this.report = new TurnReport(d.callControlId, d.metrics, d.logger);
    this.dtmfDigits = new DtmfCollector((text) => this.startTurn(text, undefined, 'dtmf'), undefined, undefined, () => this.d.now(), this.timers);
  }

  /** Where the conversation is (for tests and diagnostics). */
  get phaseKind(): ConversationPhaseKind {
    return this.phase.kind;
  }

  /** The one place the phase changes: what the old phase owned (its timers) ends with it. */
  private setPhase(next: ConversationPhase): void {
    endPhase(this.phase);
    this.phase = next;
  }

  /** The agent reply in progress (responding or interrupted). */
  private get turn(): Turn | undefined {
    return turnOf(this.phase);
  }

  /** Waiting for the caller, with a fresh dead-air count. */
  private listening(): ConversationPhase {
    return { kind: 'listening', deadAirTimer: this.timers.after(this.d.settings.deadAirMs, () => this.onDeadAir()) };
  }

  /** Stream up: greet (tenant greeting, else GREETING_TEXT, else the default; blank = unset), or for a
   *  call that moved here go on from its snapshot: say again the reply that was cut off, else listen. */
  start(): void {
    if (this.phase.kind !== 'idle') return;
    const from = this.d.resumeFrom;
    if (!from) return this.say(this.d.tenant?.greeting?.trim() || this.d.settings.greeting.trim() || PHRASES.defaultGreeting, 'greeting');
    this.d.history.restore(from.history);
    this.deadAirPrompts = from.deadAirPrompts;
    this.dtmfDigits.restore(from.dtmf);
    this.d.metrics.turns.inc({ source: 'resumed' });
    if (from.pendingReply && !from.transferring) return this.say(from.pendingReply, 'resumed', { inHistory: true });
    this.setPhase(from.transferring ? { kind: 'transferring' } : this.listening());
    this.checkpoint();
  }

  /** What another instance needs to go on with this call (deps.checkpoint gets it at turn boundaries). */
  snapshot(): CallSnapshot {
    const { phase, deadAirPrompts } = this;
    return conversationSnapshot({ phase, history: this.d.history, deadAirPrompts, dtmf: this.dtmfDigits.pending, now: this.d.now() });
  }

  private checkpoint(): void {
    if (this.d.checkpoint && !isOver(this.phase)) this.d.checkpoint(this.snapshot());
  }

  // --- caller input (CallInputListener) ----------------------------------------------------
  speechStarted(): void {
    // An onset is not an answer yet (a cough, or a filler the STT result is dropped for): the
    // dead-air count starts over instead of stopping, and only a real turn resets the prompts.
    if (this.phase.kind === 'listening') this.setPhase(this.listening());
    // Also between segments (voice idle, reply unfinished): what comes next must not play over the caller.
    else if (this.phase.kind === 'responding') this.bargeIn(this.phase.turn);
  }

  readonly wantsPartials = false;
  partial(): void {}

  speechDiscarded(): void {
    if (this.phase.kind === 'interrupted') this.resume('blip');
  }

  final(text: string, timings: FinalTimings): void {
    if (isOver(this.phase)) return;
    // "Yes" to "Are you still there?" is the answer, not a backchannel.
    if (isBackchannel(text) && this.turn?.source !== 'dead_air') {
      if (this.phase.kind === 'interrupted') return this.resume('backchannel');
      if (this.phase.kind === 'responding') return; // "mm-hm" while the agent has the turn: not a turn
    }
    this.d.metrics.turnLatency.observe({ stage: 'stt_final' }, (timings.transcriptAt - timings.speechEndAt) / 1000);
    this.startTurn(text, timings.speechEndAt, 'speech');
  }

  dtmf(digit: string): void {
    this.dtmfDigits.push(digit, 'media');
  }

  sttError(err: Error): void {
    if (isOver(this.phase)) return;
    if (this.phase.kind === 'interrupted') this.confirmInterruption();
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
    if (!t || t.id !== turnId) return; // an interrupted turn's late result
    if (index === 0) {
      t.firstSegmentReadyAt = this.d.now();
      this.report.observe(t, 'first_segment_synthesized', t.firstSegmentReadyAt);
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
    if (action === 'transfer' && !isOver(this.phase)) this.say(PHRASES.transferFailed, 'transfer_failed');
  }

  segmentStarted(id: string): void {
    const t = this.turn;
    if (!t || !id.startsWith(`t${t.id}-`)) return;
    if (t.firstAudioAt === undefined) {
      t.firstAudioAt = this.d.now();
      this.report.observe(t, 'first_audio', t.firstAudioAt);
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
    if (this.phase.kind === 'responding' && this.phase.turn.allReleased) this.finishTurn(this.phase.turn);
  }

  // --- turns -------------------------------------------------------------------------------
  private startTurn(transcript: string, speechEndAt: number | undefined, kind: 'speech' | 'dtmf'): void {
    if (isOver(this.phase)) return;
    const t = this.nextTurn(speechEndAt, kind);
    this.replaceReply({ kind: 'responding', turn: t });
    this.deadAirPrompts = 0;
    this.d.history.addUser(transcript);
    this.checkpoint();
    const quick = matchQuickReply(transcript, this.d.tenant?.quickReplies);
    if (quick) {
      this.d.metrics.turns.inc({ source: 'quick_reply' });
      this.segment(t, quick);
      this.brainFinished(t);
      return;
    }
    askBrain(this.d, this.report, t, transcript, {
      isCurrent: (x) => this.turn === x,
      requestSegment: (x, text) => this.requestSegment(x, text),
      say: (x, text) => this.segment(x, text),
      finished: (x) => this.brainFinished(x),
    });
  }

  private nextTurn(speechEndAt: number | undefined, source: string): Turn {
    this.turnSeq += 1;
    return new Turn(this.turnSeq, speechEndAt, source);
  }

  /** A fixed phrase as its own turn (greeting, prompts, apologies); a reply in progress is dropped. */
  private say(text: string, source: string, opts: { hangupAfter?: boolean; inHistory?: boolean } = {}): void {
    const t = this.fixedTurn(source, opts);
    this.replaceReply({ kind: 'responding', turn: t });
    this.speak(t, text);
  }

  private fixedTurn(source: string, opts: { hangupAfter?: boolean; inHistory?: boolean } = {}): Turn {
    const t = this.nextTurn(undefined, source);
    t.recordInHistory = opts.inHistory ?? source === 'greeting';
    if (opts.hangupAfter) t.then = { kind: 'hangup' };
    return t;
  }

  private speak(t: Turn, text: string): void {
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
        if (t.abort.signal.aborted) cancelSynthJobs(this.d, [jobId]);
        else t.jobIds.push(jobId);
      },
      (err: unknown) => this.onTtsFailed(t.id, index, errorMessage(err)),
    );
  }

  private release(t: Turn, index: number, seg: PlayableSegment | null): void {
    for (const s of t.resolve(index, seg)) {
      if (this.phase.kind === 'interrupted') this.phase.remaining.push(s);
      else this.playSegment(t, s);
    }
    if (t.allReleased && !this.d.voice.busy && this.phase.kind === 'responding') this.finishTurn(t);
  }

  private playSegment(t: Turn, s: PlayableSegment): void {
    t.inVoice.push(s);
    this.d.voice.play(s);
  }

  private brainFinished(t: Turn): void {
    t.brainDone = true;
    if (t.allReleased && !this.d.voice.busy && this.phase.kind === 'responding') this.finishTurn(t);
  }

  /** The whole reply was played: act on it (transfer, hangup), then listen. */
  private finishTurn(t: Turn): void {
    if (this.turn !== t) return;
    this.d.speech.playbackEnded?.();
    if (t.recordInHistory) this.remember(t, new Map());
    this.report.log(t, 'completed');
    // Not one segment could be synthesized (TTS down): the caller must still hear something.
    if (t.texts.length > 0 && t.failedSegments === t.texts.length) {
      issueCommand(this.d, 'speak', { payload: PHRASES.apology, voice: 'female', language: 'en-US' });
    }
    const then = t.then;
    if (then.kind === 'transfer_refused') {
      const refused = this.fixedTurn('transfer_refused');
      this.setPhase({ kind: 'responding', turn: refused });
      return this.speak(refused, PHRASES.transferRefused);
    }
    if (then.kind === 'transfer') {
      this.d.metrics.transfers.inc({ outcome: 'sent' });
      this.setPhase({ kind: 'transferring' });
      issueCommand(this.d, 'transfer', transferCommandBody(then.transfer), () => this.onCommandFailed('transfer'));
      return this.checkpoint();
    }
    if (then.kind === 'hangup') {
      this.setPhase({ kind: 'ending' });
      issueCommand(this.d, 'hangup', {});
      return;
    }
    this.setPhase(this.listening());
    this.checkpoint();
  }

  /** Stops the turn for good: brain request aborted, TTS jobs removed, playback stopped. */
  private cancelTurn(t: Turn): void {
    t.abort.abort();
    if (t.jobIds.length) cancelSynthJobs(this.d, t.jobIds);
    if (this.d.voice.busy) this.d.voice.stop();
  }

  private remember(t: Turn, heard: Map<string, number>): void {
    const text = t.heardText(heard);
    if (text) this.d.history.addAssistant(text);
    // After what the caller heard: the brain learns in its next request that its transfer did not happen.
    if (t.then.kind === 'transfer_refused') this.d.history.addSystem(transferRefusedNote(t.then.to));
  }

  private bargeIn(t: Turn): void {
    const speaking = this.d.voice.busy;
    const heard = speaking ? this.d.voice.stop() : new Map<string, number>();
    if (speaking) this.d.metrics.bargeIns.inc();
    // Keep what was cut off (the interrupted segment from its start, and those queued after it) in
    // case this turns out to be only a backchannel.
    const remaining = t.inVoice.splice(0);
    const verdictTimer = this.timers.after(this.d.settings.backchannelMaxMs, () => this.checkInterruption(false));
    this.setPhase({ kind: 'interrupted', turn: t, heard, remaining, verdictTimer });
    this.d.logger.info({ callControlId: this.d.callControlId, speaking }, 'barge-in: agent playback stopped');
  }

  /**
   * backchannelMaxMs after the onset: still talking → a real interruption. Otherwise the transcript
   * decides (final / speechDiscarded), but it may never come (filler dropped): after
   * interruptionVerdictMs more, resume.
   */
  private checkInterruption(last: boolean): void {
    const p = this.phase;
    if (p.kind !== 'interrupted') return;
    if (this.d.speech.inSpeech() && (last || !this.d.settings.backchannelByTranscript)) return this.confirmInterruption();
    if (last) return this.resume('no transcript');
    const verdictMs = this.d.settings.interruptionVerdictMs ?? DEFAULT_INTERRUPTION_VERDICT_MS;
    this.setPhase({ ...p, verdictTimer: this.timers.after(verdictMs, () => this.checkInterruption(true)) });
  }

  /**
   * Moves to `next`, dropping the reply in progress (the caller took the turn): what they heard of
   * it stays in history, the rest is cancelled.
   */
  private replaceReply(next: ConversationPhase): void {
    const old = this.phase;
    const t = turnOf(old);
    // Not interrupted at the onset (it came before this reply began): what plays now was heard up to here.
    const heard = old.kind === 'interrupted' ? old.heard : t && this.d.voice.busy ? this.d.voice.stop() : new Map<string, number>();
    this.setPhase(next);
    if (!t) return;
    if (t.recordInHistory) this.remember(t, heard);
    this.report.log(t, 'interrupted');
    this.cancelTurn(t);
  }

  /** The caller really took the turn (speech too long for a backchannel, or STT failed): listen. */
  private confirmInterruption(): void {
    // The transcript that should follow may never come (dropped as filler): dead air still applies.
    this.replaceReply(this.listening());
  }

  /** Only a backchannel or a blip: replay the interrupted segment and continue the reply. */
  private resume(why: string): void {
    const p = this.phase;
    if (p.kind !== 'interrupted') return;
    const t = p.turn;
    this.setPhase({ kind: 'responding', turn: t });
    this.d.logger.info({ callControlId: this.d.callControlId, why }, 'not a real interruption: resuming the reply');
    for (const s of p.remaining) this.playSegment(t, s);
    if (t.allReleased && !this.d.voice.busy) this.finishTurn(t);
  }

  private onDeadAir(): void {
    if (this.phase.kind !== 'listening') return;
    if (this.d.speech.inSpeech()) return this.setPhase(this.listening()); // still talking: wait for the silence
    this.deadAirPrompts += 1;
    this.d.metrics.deadAirPrompts.inc();
    if (this.deadAirPrompts > this.d.settings.maxDeadAirPrompts) this.say(PHRASES.deadAirGoodbye, 'dead_air_goodbye', { hangupAfter: true });
    else this.say(PHRASES.stillThere, 'dead_air');
  }

  /** Max call duration: the call flow plays the goodbye by URL; this session goes quiet. */
  private endQuietly(): void {
    const t = this.turn;
    this.setPhase({ kind: 'ending' });
    if (t) this.cancelTurn(t);
    this.dtmfDigits.close();
  }

  close(): void {
    if (this.phase.kind === 'ended') return;
    const t = this.turn;
    this.setPhase({ kind: 'ended' });
    if (t) this.cancelTurn(t);
    this.dtmfDigits.close();
    this.d.voice.close();
  }
}
