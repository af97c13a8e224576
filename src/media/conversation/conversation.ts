import type { CallSnapshot } from '../../lib/calls/call-snapshot';
import type { CallInputListener, FinalTimings } from '../ports';
import type { ConversationDeps } from './conversation-deps';
import { type ConversationPhase, type ConversationPhaseKind, isOver } from './conversation-phase';
import { conversationSnapshot } from './conversation-snapshot';
import { wholeSegmentShares } from './agent-voice';
import { DtmfCollector } from './dtmf-collector';
import { isBackchannel, PHRASES } from './phrases';
import { ReplyFlow } from './reply-flow';
import type { Turn } from './turn';

export type { ConversationDeps, ConversationSettings, HistoryStore, SegmentSynth, SpeechControl } from './conversation-deps';

/** ConversationSettings.interruptionVerdictMs when unset. */
const DEFAULT_INTERRUPTION_VERDICT_MS = 3000;
/** A reply resumed after a backchannel starts this much before where it was cut. */
const RESUME_OVERLAP_MS = 400;
/**
 * A moved call's dead-air deadline is kept, but never falls due sooner than this after the move: the
 * new stream's first audio must have a chance to show the caller is there (after a crash the deadline
 * is from the last turn boundary and the caller may have spoken since).
 */
export const RESUME_DEAD_AIR_GRACE_MS = 2000;
/** A speculative reply whose final never came (dropped as a duplicate) is let go after this. */
const SPECULATION_EXPIRY_MS = 10_000;

/**
 * The conversation of one call: greeting → listen → caller turn → quick reply or brain (streamed,
 * cut into segments) → TTS per segment (pipelined) → playback in order.
 * Barge-in at the caller's speech onset stops playback at once; if the caller only said a
 * backchannel ("mm-hm", "yeah") or a blip, the reply resumes from the interrupted segment,
 * otherwise the reply is dropped (brain cancelled, TTS jobs removed) and history keeps only what
 * was heard. Dead air → "Are you still there?", then goodbye and hangup.
 *
 * Speculative replies: when the speech pipeline says the caller's words may be the whole turn
 * (`tentative`), the reply is prepared at once (phase speculating: brain and TTS run, nothing plays);
 * the final with the same words commits it, the caller going on drops it (`speechResumed`), so the
 * brain sees one transcript and the history one user entry per turn.
 *
 * The agent's side (turns, segments, playback order, turn endings) is ReplyFlow (reply-flow.ts).
 */
export class Conversation extends ReplyFlow implements CallInputListener {
  private readonly dtmfDigits: DtmfCollector;

  constructor(d: ConversationDeps) {
    super(d);
    this.dtmfDigits = new DtmfCollector((text) => this.startTurn(text, undefined, 'dtmf'), undefined, undefined, () => this.d.now(), this.timers);
  }

  /** Where the conversation is (for tests and diagnostics). */
  get phaseKind(): ConversationPhaseKind {
    return this.phase.kind;
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
    const deadAirLeft = from.deadAirDueAt === undefined ? undefined : Math.max(from.deadAirDueAt - this.d.now(), RESUME_DEAD_AIR_GRACE_MS);
    this.setPhase(from.transferring ? { kind: 'transferring' } : this.listening(deadAirLeft));
    this.checkpoint();
  }

  /** What another instance needs to go on with this call (deps.checkpoint gets it at turn boundaries). */
  snapshot(): CallSnapshot {
    const { phase, deadAirPrompts } = this;
    return conversationSnapshot({ phase, history: this.d.history, deadAirPrompts, dtmf: this.dtmfDigits.pending, now: this.d.now() });
  }

  speechStarted(): void {
    // An onset is not an answer yet (a cough, or a filler the STT result is dropped for): the
    // dead-air count starts over instead of stopping, and only a real turn resets the prompts.
    if (this.phase.kind === 'listening') this.setPhase(this.listening());
    // Also between segments (voice idle, reply unfinished): what comes next must not play over the caller.
    else if (this.phase.kind === 'responding') this.bargeIn(this.phase.turn);
    else this.dropSpeculation();
  }

  /** These words may be the caller's whole turn: prepare the reply (brain, TTS), play it on commit. */
  tentative(text: string): void {
    if (this.phase.kind !== 'listening' || (this.d.tenant?.turnTaking?.speculativeReply ?? this.d.settings.speculate) === false) return;
    const t = this.nextTurn(undefined, 'speech');
    const expiry = this.timers.after(SPECULATION_EXPIRY_MS, () => this.dropSpeculation());
    this.setPhase({ kind: 'speculating', turn: t, transcript: text, held: [], expiry });
    this.answer(t, text, this.d.history.entries());
  }

  /** The caller went on after the pause: the speculative reply was premature. */
  speechResumed(): void {
    this.dropSpeculation();
  }

  readonly wantsPartials = false;
  partial(): void {}

  speechDiscarded(): void {
    if (this.phase.kind === 'interrupted') this.resume('blip');
  }

  final(text: string, timings: FinalTimings): void {
    if (isOver(this.phase)) return;
    if (this.phase.kind === 'speculating') {
      if (this.phase.transcript === text) return this.commit(this.phase, timings);
      this.dropSpeculation();
    }
    // "Yes" to "Are you still there?" is the answer, not a backchannel.
    if (isBackchannel(text, this.d.tenant?.turnTaking?.backchannels) && this.turn?.source !== 'dead_air') {
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

  onWebhook(eventType: string, payload: Record<string, unknown>): void {
    if (eventType === 'call.dtmf.received' && typeof payload.digit === 'string') this.dtmfDigits.push(payload.digit, 'webhook');
    else if (eventType === 'call.hangup') this.close();
    else if (eventType === 'runtime.max_duration') this.endQuietly();
    else this.d.voice.onWebhook(eventType, payload);
  }

  /** The speculative reply was for the whole turn: it becomes the reply, and what is ready plays. */
  private commit(p: Extract<ConversationPhase, { kind: 'speculating' }>, timings: FinalTimings): void {
    const t = p.turn;
    t.speechEndAt = timings.speechEndAt;
    for (const [stage, at] of [['brain_first_token', t.firstTokenAt], ['first_segment_synthesized', t.firstSegmentReadyAt]] as const) {
      if (at !== undefined) this.report.observe(t, stage, Math.max(at, timings.transcriptAt));
    }
    this.setPhase({ kind: 'responding', turn: t });
    this.d.metrics.speculativeReplies.inc({ outcome: 'committed' });
    this.callerTurn(p.transcript);
    for (const s of p.held) this.playSegment(t, s);
    if (t.allReleased && !this.d.voice.busy) this.finishTurn(t);
  }

  private bargeIn(t: Turn): void {
    const speaking = this.d.voice.busy;
    const heard = speaking ? wholeSegmentShares(this.d.voice.stop(), t.inVoice) : new Map<string, number>();
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
    const mode = this.d.tenant?.turnTaking?.mode;
    const byTranscript = mode ? mode === 'transcript' : this.d.settings.backchannelByTranscript;
    if (this.d.speech.inSpeech() && (last || !byTranscript)) return this.confirmInterruption();
    if (last) return this.resume('no transcript');
    const verdictMs = this.d.settings.interruptionVerdictMs ?? DEFAULT_INTERRUPTION_VERDICT_MS;
    this.setPhase({ ...p, verdictTimer: this.timers.after(verdictMs, () => this.checkInterruption(true)) });
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
    // The cut segment goes on where it stopped (a little before, to pick the sentence up again).
    for (const s of p.remaining) {
      const heard = (p.heard.get(s.id) ?? 0) * s.durationMs;
      this.playSegment(t, heard > RESUME_OVERLAP_MS ? { ...s, fromMs: heard - RESUME_OVERLAP_MS } : s);
    }
    if (t.allReleased && !this.d.voice.busy) this.finishTurn(t);
  }

  protected onDeadAir(): void {
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
