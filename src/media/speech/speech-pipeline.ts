import { buildWav } from '../../lib/audio/wav';
import type { EndpointerEvent } from '../audio/endpointer';
import type { EndpointerControl, FrontEnd } from '../frontend/front-end';
import { cleanTranscript, isFillerOnly, type FinalDeduper } from '../../lib/stt/transcript-filter';
import { endOfTurn, type EndOfTurnSettings } from '../../lib/stt/end-of-turn';
import type { SttDebugDumper } from '../../lib/stt/debug-dump';
import { STT_SAMPLE_RATE, type SpeechToText } from '../../lib/stt/port';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { CallInputListener, InboundAudioSink } from '../ports';

export const STT_RATE = STT_SAMPLE_RATE;
/** 100 ms at 16 kHz: a continued transcription starts this much before the audio already transcribed ends. */
const CONTINUATION_OVERLAP = 1600;

export interface SpeechPipelineDeps {
  callControlId: string;
  /**
   * 16 kHz → high-pass → VAD → endpointer, on this thread (LocalFrontEnd) or on a front-end worker
   * thread (RemoteFrontEnd); its events come back to onEvent.
   */
  frontEnd: FrontEnd;
  /** The front end's endpointer controls (the same object as frontEnd). */
  endpointer: EndpointerControl;
  stt: SpeechToText;
  sttUrl: string;
  language?: string;
  deduper: FinalDeduper;
  dumper: SttDebugDumper;
  listener: CallInputListener;
  /**
   * Partials are best effort: a reason not to send one now (no free STT slot, event loop overloaded),
   * or undefined. Finals are never skipped.
   */
  partialSkipReason?: () => string | undefined;
  /** End of turn from the transcript (src/lib/stt/end-of-turn.ts); unset = silence only (STT_SILENCE_MS). */
  endOfTurn?: EndOfTurnSettings;
  metrics: Metrics;
  logger: Logger;
  now(): number;
}

/**
 * The STT front end of one call: caller PCM at the codec rate → 16 kHz → high-pass → VAD →
 * endpointer → Whisper. Emits speechStarted / partial / final / sttError to the call's listener.
 * Partials never overlap (one in flight; a newer snapshot is skipped while one runs), are shed
 * under load (`partialSkipReason`), are cancelled when the final arrives, and are only requested
 * when the listener uses them (`wantsPartials`); finals are transcribed and delivered in order.
 *
 * End of turn: when the endpointer reports a pause (the caller stopped), the utterance so far is
 * transcribed at once; the end-of-turn rule turns that transcript into the silence that ends this
 * turn (endpointer.endAfter). If the caller goes on, the pause is stale and the utterance continues
 * (one final for both parts). A final that ends the pause's silence run reuses its transcript:
 * the audio is the same, so Whisper is asked once. When the turn is not over yet (the rule waits
 * longer than the silence so far) and the words are not an unfinished sentence, the listener is told
 * them at once (`tentative`: a reply may start), and `speechResumed` if the caller then goes on.
 *
 * Incremental: audio already transcribed in this utterance (up to its latest pause) is not sent
 * again. The next transcription sends only the audio after it, with that text as the service's
 * `prompt`, and joins the two; the cut lies in the pause's silence, never inside a word. If the
 * earlier part's transcription failed, the whole utterance is sent.
 */
export class SpeechPipeline implements InboundAudioSink {
  private finalChain: Promise<void> = Promise.resolve();
  private partialInFlight: AbortController | undefined;
  private readonly inFlight = new Set<AbortController>();
  private closed = false;
  private finals = 0;
  /** The transcript of the latest pause (reused by the final that ends its silence run). */
  private lastPause: { id: number; text: Promise<string> } | undefined;
  /** This utterance transcribed so far: its first `samples`, as `text` (`known` once it has come). */
  private heard: { samples: number; text: Promise<string>; known?: string } | undefined;
  /**
   * Tentative words of a pause, told once its silence has settled (endpointer `settled`, ~300 ms):
   * a pause of 120–300 ms inside a sentence must not start a speculative reply.
   */
  private tentative: { pauseId: number; text?: string; settled: boolean } | undefined;

  constructor(private readonly d: SpeechPipelineDeps) {
    d.frontEnd.attach((e) => {
      if (!this.closed) this.onEvent(e);
    });
  }

  pushPcm(pcm: Int16Array, sampleRate: number): void {
    if (this.closed) return;
    this.d.frontEnd.push(pcm, sampleRate);
  }

  private streamMs(): number {
    return (this.d.frontEnd.streamSamples * 1000) / STT_RATE;
  }

  private onEvent(e: EndpointerEvent): void {
    switch (e.type) {
      case 'speechStart':
        this.heard = undefined;
        this.tentative = undefined;
        this.d.listener.speechStarted(this.d.now() - (this.streamMs() - e.atMs));
        return;
      case 'pause':
        this.onPause(e.pauseId, e.audio);
        return;
      case 'resumed':
        this.tentative = undefined;
        this.d.listener.speechResumed?.();
        return;
      case 'settled':
        if (this.tentative?.pauseId === e.pauseId) this.tentative.settled = true;
        else this.tentative = { pauseId: e.pauseId, settled: true };
        this.tellTentative();
        return;
      case 'partial': {
        if (this.d.listener.wantsPartials === false) return;
        const skip = this.partialInFlight ? 'in_flight' : this.d.partialSkipReason?.();
        if (skip) this.d.metrics.sttPartialsSkipped.inc({ reason: skip });
        else void this.runPartial(e.audio);
        return;
      }
      case 'final': {
        this.partialInFlight?.abort();
        const endpointAt = this.d.now();
        const lag = this.streamMs();
        const timings = { speechStartAt: endpointAt - (lag - e.startedAtMs), speechEndAt: endpointAt - (lag - e.endedAtMs), endpointAt };
        // Same silence run as the latest pause: the same audio, so its transcript. Else what came after it.
        const known = e.pauseId !== undefined && this.lastPause?.id === e.pauseId ? this.lastPause.text : this.continued(e.audio);
        // Awaited in runFinal, which may never run it (closed): a failure must not go unhandled meanwhile.
        known?.catch(() => undefined);
        this.lastPause = undefined;
        this.heard = undefined;
        this.tentative = undefined;
        this.finalChain = this.finalChain.then(() => this.runFinal(e.audio, timings, known));
        return;
      }
      case 'discarded':
        this.heard = undefined;
        this.tentative = undefined;
        this.d.metrics.utterances.inc({ outcome: 'discarded' });
        this.d.listener.speechDiscarded?.();
        return;
    }
  }

  /** The caller stopped: transcribe now and let the end-of-turn rule set when this turn ends. */
  private onPause(pauseId: number, audio: Int16Array): void {
    this.partialInFlight?.abort();
    const text = this.continued(audio) ?? this.transcribe('final', audio, new AbortController());
    const heard: NonNullable<SpeechPipeline['heard']> = { samples: audio.length, text };
    this.heard = heard;
    this.lastPause = { id: pauseId, text };
    text.then(
      (t) => {
        heard.known = t;
        const rule = this.d.endOfTurn;
        if (this.closed || !rule || this.d.endpointer.currentPauseId !== pauseId) return;
        const said = isFillerOnly(t) ? '' : t;
        const verdict = endOfTurn(said, this.d.language, rule);
        const events = this.d.endpointer.endAfter(pauseId, verdict.endAfterMs);
        // Not over yet: a reply may start on these words once the silence settles (dropped if the caller goes on).
        if (events.length === 0 && said && verdict.shape !== 'incomplete') {
          const settled = this.tentative?.pauseId === pauseId && this.tentative.settled;
          this.tentative = { pauseId, text: said, settled };
          this.tellTentative();
        }
        for (const e of events) this.onEvent(e);
      },
      () => undefined, // the final transcribes again (runFinal)
    );
  }

  private tellTentative(): void {
    const t = this.tentative;
    if (!t || !t.settled || t.text === undefined || this.d.endpointer.currentPauseId !== t.pauseId) return;
    this.tentative = undefined;
    this.d.listener.tentative?.(t.text);
  }

  /**
   * The utterance's transcript from what is already known of it: only the audio after the latest
   * transcribed point is sent (prompted with the text before it). Undefined when nothing is known.
   */
  private continued(audio: Int16Array): Promise<string> | undefined {
    const base = this.heard;
    if (!base || base.samples >= audio.length) return undefined;
    const ac = new AbortController();
    // From a little before the cut: the VAD hears speech resume late, so the next word may have begun there.
    const rest = this.transcribe('final', audio.subarray(Math.max(0, base.samples - CONTINUATION_OVERLAP)), ac, base.known);
    rest.catch(() => undefined); // awaited below; it may fail before base.text settles
    return base.text.then(
      async (before) => {
        const after = await rest;
        // A blip or a hallucination on near-silence after the pause adds nothing to the words.
        return [before, isFillerOnly(after) ? '' : after].filter(Boolean).join(' ');
      },
      () => {
        ac.abort();
        return this.transcribe('final', audio, new AbortController());
      },
    );
  }

  private async transcribe(kind: 'partial' | 'final', audio: Int16Array, ac: AbortController, prompt?: string): Promise<string> {
    const end = this.d.metrics.sttRequests.startTimer({ kind });
    this.inFlight.add(ac);
    try {
      const { text } = await this.d.stt.transcribe({ url: this.d.sttUrl, pcm16k: audio, language: this.d.language, signal: ac.signal, ...(prompt ? { prompt } : {}) });
      end({ outcome: 'ok' });
      return cleanTranscript(text);
    } catch (err) {
      end({ outcome: ac.signal.aborted ? 'aborted' : 'error' });
      throw err;
    } finally {
      this.inFlight.delete(ac);
    }
  }

  private async runPartial(audio: Int16Array): Promise<void> {
    const ac = new AbortController();
    this.partialInFlight = ac;
    try {
      const text = await this.transcribe('partial', audio, ac);
      if (!this.closed && !ac.signal.aborted && text && !isFillerOnly(text)) this.d.listener.partial(text);
    } catch {
      // Partials are best effort: the final decides.
    } finally {
      if (this.partialInFlight === ac) this.partialInFlight = undefined;
    }
  }

  private async runFinal(audio: Int16Array, t: { speechStartAt: number; speechEndAt: number; endpointAt: number }, known?: Promise<string>): Promise<void> {
    if (this.closed) return;
    this.finals += 1;
    if (this.d.dumper.enabled) this.d.dumper.wav(this.d.callControlId, this.finals, buildWav(audio, STT_RATE));
    const ac = new AbortController();
    let text: string;
    try {
      // The pause's transcript if it is good, else (failed, aborted) this audio's own.
      text = (known ? await known.catch(() => undefined) : undefined) ?? (await this.transcribe('final', audio, ac));
    } catch (err) {
      if (this.closed) return;
      this.d.metrics.utterances.inc({ outcome: 'stt_error' });
      this.d.logger.warn({ callControlId: this.d.callControlId, err: errorMessage(err) }, 'STT failed for an utterance');
      this.d.listener.sttError(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (this.closed) return;
    const now = this.d.now();
    if (!text || isFillerOnly(text)) {
      this.d.metrics.utterances.inc({ outcome: 'filler' });
      return;
    }
    if (!this.d.deduper.accept(text, now)) {
      this.d.metrics.utterances.inc({ outcome: 'duplicate' });
      return;
    }
    this.d.metrics.utterances.inc({ outcome: 'final' });
    this.d.listener.final(text, { ...t, transcriptAt: now, audioMs: (audio.length * 1000) / STT_RATE });
  }

  /**
   * Frames received but not yet scored by the VAD: how far scoring lags the incoming audio (the
   * VAD drops audio beyond its 2 s backlog). Tests that send faster than real time pace by it.
   */
  get unscoredFrames(): number {
    return this.d.frontEnd.unscoredFrames;
  }

  /** The caller is talking right now (used to confirm a barge-in). */
  get inSpeech(): boolean {
    return this.d.endpointer.isInSpeech;
  }

  /** Barge-in / teardown: forget the current utterance and cancel its STT requests. */
  reset(): void {
    this.d.endpointer.reset();
    this.lastPause = undefined;
    this.heard = undefined;
    this.tentative = undefined;
    for (const ac of this.inFlight) ac.abort();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const ac of this.inFlight) ac.abort();
    this.d.frontEnd.close((v) => {
      const m = this.d.metrics.vadFrames;
      m.inc({ outcome: 'inferred' }, v.inferred);
      m.inc({ outcome: 'gated' }, v.gated);
      m.inc({ outcome: 'dropped' }, v.dropped);
      if (v.dropped > 0) {
        this.d.logger.warn({ callControlId: this.d.callControlId, ...v }, 'VAD fell behind: frames dropped unscored');
      }
    });
    void this.d.dumper.close(this.d.callControlId);
  }
}
