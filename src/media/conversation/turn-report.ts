import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { Turn } from './turn';

/** Latency and outcome reporting of agent turns (metrics and the one `turn` log line). */
export class TurnReport {
  constructor(
    private readonly callControlId: string,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  /** A latency stage, measured from the end of the caller's speech (turns answering speech only). */
  observe(t: Turn, stage: string, at: number): void {
    if (t.speechEndAt !== undefined) this.metrics.turnLatency.observe({ stage }, (at - t.speechEndAt) / 1000);
  }

  log(t: Turn, outcome: string): void {
    const rel = (at?: number) => (at !== undefined && t.speechEndAt !== undefined ? at - t.speechEndAt : undefined);
    this.logger.info(
      {
        callControlId: this.callControlId,
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
