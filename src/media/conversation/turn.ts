import type { BrainTransfer } from '../../lib/brain/port';
import type { PlayableSegment } from './agent-voice';

/** What follows once the whole reply has been played. */
export type TurnEnding =
  | { kind: 'listen' }
  /** A goodbye: hang up. */
  | { kind: 'hangup' }
  /** The brain's transfer, allowed by the tenant. */
  | { kind: 'transfer'; transfer: BrainTransfer }
  /** The brain asked for a transfer the tenant does not allow (`to`: the destination, shortened). */
  | { kind: 'transfer_refused'; to: string };

/**
 * One agent reply: its segments in order, what has been synthesized, queued and played. Segments
 * are synthesized in parallel (pipelined) but released to the voice strictly by index.
 */
export class Turn {
  readonly texts: string[] = [];
  private readonly ready = new Map<number, PlayableSegment | null>();
  private nextToPlay = 0;
  played = new Set<string>();
  /** Handed to the voice and not finished yet, in play order. */
  inVoice: PlayableSegment[] = [];
  jobIds: string[] = [];
  brainDone = false;
  /** Segments whose synthesis failed (all of them failing means the caller heard nothing). */
  failedSegments = 0;
  then: TurnEnding = { kind: 'listen' };
  /** Recorded in history when the turn ends (false for fixed prompts like "Are you still there?"). */
  recordInHistory = true;
  readonly abort = new AbortController();
  firstAudioAt: number | undefined;
  firstTokenAt: number | undefined;
  firstSegmentReadyAt: number | undefined;

  constructor(
    readonly id: number,
    /** ms epoch the caller stopped speaking (latency origin), when the turn answers speech (set on commit for a speculative one). */
    public speechEndAt: number | undefined,
    readonly source: string,
  ) {}

  segmentId(index: number): string {
    return `t${this.id}-s${index}`;
  }

  addText(text: string): number {
    this.texts.push(text);
    return this.texts.length - 1;
  }

  /** Stores a synthesized (or failed: null) segment; returns the segments now playable in order. */
  resolve(index: number, seg: PlayableSegment | null): PlayableSegment[] {
    if (index < this.nextToPlay || this.ready.has(index)) return []; // a repeated result: played once
    if (seg === null) this.failedSegments += 1;
    this.ready.set(index, seg);
    const out: PlayableSegment[] = [];
    while (this.ready.has(this.nextToPlay)) {
      const s = this.ready.get(this.nextToPlay)!;
      this.ready.delete(this.nextToPlay);
      this.nextToPlay += 1;
      if (s) out.push(s);
    }
    return out;
  }

  /** Every segment the brain produced has been handed to the voice (or failed). */
  get allReleased(): boolean {
    return this.brainDone && this.nextToPlay >= this.texts.length;
  }

  /** What the caller heard: whole played segments plus the heard part of the interrupted one. */
  heardText(heard: Map<string, number>): string {
    const parts: string[] = [];
    this.texts.forEach((t, i) => {
      const id = this.segmentId(i);
      const f = heard.get(id);
      if (f !== undefined) {
        const words = t.split(/\s+/);
        const n = Math.floor(words.length * f);
        if (n > 0) parts.push(`${words.slice(0, n).join(' ')}…`);
      } else if (this.played.has(id)) parts.push(t);
    });
    return parts.join(' ').trim();
  }
}
