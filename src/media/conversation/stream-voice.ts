import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { parseWav } from '../../lib/audio/wav';
import type { StreamPlayout } from '../playout/playout';
import type { PlayoutEvents } from '../playout/types';
import { fromOffset, type AgentVoice, type PlayableSegment, type VoiceEvents } from './agent-voice';

/**
 * Streams segments over the call's media socket (bidirectional RTP) through a StreamPlayout:
 * the segment's WAV is read (async) and handed to the playout in order; the playout paces,
 * encodes, marks and clears.
 */
export class StreamVoice implements AgentVoice {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  /** Bumped by stop(): file reads of an older generation are dropped. */
  private generation = 0;

  /** Public for the live call: Telnyx marks go straight to it (src/media/live-call.ts). */
  readonly playout: StreamPlayout;

  constructor(
    makePlayout: (events: PlayoutEvents) => StreamPlayout,
    private readonly storageDir: string,
    private readonly events: VoiceEvents,
    private readonly logger: Logger,
  ) {
    this.playout = makePlayout({
      segmentStarted: (id) => events.segmentStarted(id),
      segmentDone: (id) => events.segmentDone(id),
      idle: () => {
        if (this.pending === 0) events.idle();
      },
    });
  }

  get busy(): boolean {
    return this.pending > 0 || this.playout.state === 'playing';
  }

  play(seg: PlayableSegment): void {
    const gen = this.generation;
    this.pending += 1;
    const inMemory = seg.samples;
    if (inMemory && this.pending === 1) {
      // Nothing ahead of it: hand it to the playout now (the first audio of a turn must not wait a tick).
      this.enqueueNow(seg, inMemory, gen);
      return;
    }
    const read = inMemory ? Promise.resolve(undefined) : readFile(path.join(this.storageDir, path.basename(seg.fileName)));
    this.chain = this.chain
      .then(async () => {
        const buf = await read;
        const wav = buf ? parseWav(buf) : { samples: inMemory!, sampleRate: seg.sampleRate };
        if (gen !== this.generation) return;
        this.playout.enqueue({ id: seg.id, samples: fromOffset(wav.samples, wav.sampleRate, seg.fromMs), sampleRate: wav.sampleRate });
      })
      .catch((err: unknown) => {
        if (gen !== this.generation) return;
        this.logger.warn({ segment: seg.id, err: errorMessage(err) }, 'segment audio could not be played');
        this.events.segmentDone(seg.id);
      })
      .finally(() => {
        this.pending -= 1;
        if (gen === this.generation && this.pending === 0 && this.playout.state !== 'playing') this.events.idle();
      });
  }

  private enqueueNow(seg: PlayableSegment, samples: Int16Array, gen: number): void {
    try {
      this.playout.enqueue({ id: seg.id, samples: fromOffset(samples, seg.sampleRate, seg.fromMs), sampleRate: seg.sampleRate });
    } catch (err) {
      this.logger.warn({ segment: seg.id, err: errorMessage(err) }, 'segment audio could not be played');
      this.events.segmentDone(seg.id);
    } finally {
      this.pending -= 1;
      if (gen === this.generation && this.pending === 0 && this.playout.state !== 'playing') this.events.idle();
    }
  }

  stop(): Map<string, number> {
    this.generation += 1;
    const heard = new Map<string, number>();
    for (const s of this.playout.clear().segments) if (s.sentMs > 0) heard.set(s.id, s.fraction);
    return heard;
  }

  onWebhook(): void {}

  onMark(name: string): void {
    this.playout.onMark(name);
  }

  close(): void {
    this.generation += 1;
    this.playout.close();
  }
}
