import { matchQuickReply } from '../../lib/brain/quick-replies';
import type { BrainHistoryEntry } from '../../lib/brain/port';
import { Segmenter } from '../../lib/brain/segmenter';
import type { CallSnapshot } from '../../lib/calls/call-snapshot';
import { errorMessage } from '../../lib/errors';
import { realTimers, type Timers } from '../../lib/timers';
import { type PlayableSegment, wholeSegmentShares } from './agent-voice';
import { askBrain } from './brain-turn';
import type { ConversationDeps } from './conversation-deps';
import { type ConversationPhase, endPhase, isOver, turnOf } from './conversation-phase';
import { cancelSynthJobs, issueCommand } from './fire-and-forget';
import { PHRASES } from './phrases';
import { transferCommandBody, transferRefusedNote } from './transfer-gate';
import { Turn } from './turn';
import { TurnReport } from './turn-report';

/**
 * The agent's side of a conversation: its phase, and its replies — a turn is started (quick reply or
 * the brain's streamed answer), cut into segments, synthesized in parallel, played strictly in order
 * through the call's voice, and ended (listen, transfer, hang up) once played. A reply in progress is
 * dropped when another turn takes its place (what the caller heard of it stays in history).
 * Conversation (conversation.ts) adds the caller's side: speech, interruptions, dead air, DTMF.
 */
export abstract class ReplyFlow {
  protected phase: ConversationPhase = { kind: 'idle' };
  protected turnSeq = 0;
  protected deadAirPrompts = 0;
  protected readonly timers: Timers;
  protected readonly report: TurnReport;

  constructor(protected readonly d: ConversationDeps) {
    this.timers = d.timers ?? realTimers;
    this.report = new TurnReport(d.callControlId, d.metrics, d.logger);
  }

  /** What another instance needs to go on with this call (checkpoint() hands it to deps.checkpoint). */
  abstract snapshot(): CallSnapshot;
  /** Nothing from the caller for deadAirMs while listening. */
  protected abstract onDeadAir(): void;

  /** The one place the phase changes: what the old phase owned (its timers) ends with it. */
  protected setPhase(next: ConversationPhase): void {
    endPhase(this.phase);
    this.phase = next;
  }

  /** The agent reply in progress (responding or interrupted). */
  protected get turn(): Turn | undefined {
    return turnOf(this.phase);
  }

  /** Waiting for the caller, with a fresh dead-air count (or, for a call that moved here, what was left of it). */
  protected listening(afterMs = this.d.settings.deadAirMs): ConversationPhase {
    const ms = Math.max(0, Math.min(afterMs, this.d.settings.deadAirMs));
    return { kind: 'listening', deadAirTimer: this.timers.after(ms, () => this.onDeadAir()), deadAirDueAt: this.d.now() + ms };
  }

  protected checkpoint(): void {
    if (this.d.checkpoint && !isOver(this.phase)) this.d.checkpoint(this.snapshot());
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

  protected startTurn(transcript: string, speechEndAt: number | undefined, kind: 'speech' | 'dtmf'): void {
    if (isOver(this.phase)) return;
    const t = this.nextTurn(speechEndAt, kind);
    this.replaceReply({ kind: 'responding', turn: t });
    // After what the caller heard of a reply they cut off, before their own words.
    const history = this.d.history.entries();
    this.callerTurn(transcript);
    this.answer(t, transcript, history);
  }

  protected callerTurn(transcript: string): void {
    this.deadAirPrompts = 0;
    this.d.history.addUser(transcript);
    this.checkpoint();
  }

  /** Drops a speculative reply (the caller went on, or another turn came first) and listens. */
  protected dropSpeculation(next?: ConversationPhase): void {
    const p = this.phase;
    if (p.kind !== 'speculating') return;
    this.setPhase(next ?? this.listening());
    this.cancelTurn(p.turn);
    this.d.metrics.speculativeReplies.inc({ outcome: 'dropped' });
  }

  /** A quick reply when one matches, else the brain's streamed answer. */
  protected answer(t: Turn, transcript: string, history: BrainHistoryEntry[]): void {
    const quick = matchQuickReply(transcript, this.d.tenant?.quickReplies);
    if (quick) {
      this.d.metrics.turns.inc({ source: 'quick_reply' });
      this.segment(t, quick);
      this.brainFinished(t);
      return;
    }
    askBrain(this.d, this.report, t, { transcript, history }, {
      isCurrent: (x) => this.turn === x,
      requestSegment: (x, text) => this.requestSegment(x, text),
      say: (x, text) => this.segment(x, text),
      finished: (x) => this.brainFinished(x),
    });
  }

  protected nextTurn(speechEndAt: number | undefined, source: string): Turn {
    this.turnSeq += 1;
    return new Turn(this.turnSeq, speechEndAt, source);
  }

  /** A fixed phrase as its own turn (greeting, prompts, apologies); a reply in progress is dropped. */
  protected say(text: string, source: string, opts: { hangupAfter?: boolean; inHistory?: boolean } = {}): void {
    const t = this.fixedTurn(source, opts);
    this.replaceReply({ kind: 'responding', turn: t });
    this.speak(t, text);
  }

  protected fixedTurn(source: string, opts: { hangupAfter?: boolean; inHistory?: boolean } = {}): Turn {
    const t = this.nextTurn(undefined, source);
    t.recordInHistory = opts.inHistory ?? source === 'greeting';
    if (opts.hangupAfter) t.then = { kind: 'hangup' };
    return t;
  }

  protected speak(t: Turn, text: string): void {
    this.segment(t, text);
    this.brainFinished(t);
  }

  protected segment(t: Turn, text: string): void {
    const seg = new Segmenter({ ...this.d.settings.segment, firstAudioMaxMs: 0, firstClauseMinChars: 0, onSegment: (s) => this.requestSegment(t, s) });
    seg.push(text);
    seg.end();
  }

  protected requestSegment(t: Turn, text: string): void {
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

  protected release(t: Turn, index: number, seg: PlayableSegment | null): void {
    for (const s of t.resolve(index, seg)) {
      if (this.phase.kind === 'interrupted') this.phase.remaining.push(s);
      else if (this.phase.kind === 'speculating') this.phase.held.push(s);
      else this.playSegment(t, s);
    }
    if (t.allReleased && !this.d.voice.busy && this.phase.kind === 'responding') this.finishTurn(t);
  }

  protected playSegment(t: Turn, s: PlayableSegment): void {
    t.inVoice.push(s);
    this.d.voice.play(s);
  }

  protected brainFinished(t: Turn): void {
    t.brainDone = true;
    if (t.allReleased && !this.d.voice.busy && this.phase.kind === 'responding') this.finishTurn(t);
  }

  /** The whole reply was played: act on it (transfer, hangup), then listen. */
  protected finishTurn(t: Turn): void {
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
  protected cancelTurn(t: Turn): void {
    t.abort.abort();
    if (t.jobIds.length) cancelSynthJobs(this.d, t.jobIds);
    if (this.d.voice.busy) this.d.voice.stop();
  }

  protected remember(t: Turn, heard: Map<string, number>): void {
    const text = t.heardText(heard);
    if (text) this.d.history.addAssistant(text);
    // After what the caller heard: the brain learns in its next request that its transfer did not happen.
    if (t.then.kind === 'transfer_refused') this.d.history.addSystem(transferRefusedNote(t.then.to));
  }

  /**
   * Moves to `next`, dropping the reply in progress (the caller took the turn): what they heard of
   * it stays in history, the rest is cancelled.
   */
  protected replaceReply(next: ConversationPhase): void {
    if (this.phase.kind === 'speculating') return this.dropSpeculation(next);
    const old = this.phase;
    const t = turnOf(old);
    // Not interrupted at the onset (it came before this reply began): what plays now was heard up to here.
    const heard = old.kind === 'interrupted' ? old.heard : t && this.d.voice.busy ? wholeSegmentShares(this.d.voice.stop(), t.inVoice) : new Map<string, number>();
    this.setPhase(next);
    if (!t) return;
    if (t.recordInHistory) this.remember(t, heard);
    this.report.log(t, 'interrupted');
    this.cancelTurn(t);
  }
}
