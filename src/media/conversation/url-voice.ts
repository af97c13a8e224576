import { audioUrlFor } from '../../lib/audio-url';
import { type CancelTimer, realTimers, type Timers } from '../../lib/timers';
import type { AgentVoice, PlayableSegment, VoiceEvents } from './agent-voice';

export interface CallCommands {
  /** `budgetMs`: stop retrying sooner than the action's own deadline (the command is stale by then). */
  issue(callControlId: string, action: string, body?: Record<string, unknown>, opts?: { budgetMs?: number }): Promise<unknown>;
}

/** If Telnyx never reports the end of a playback, move on after its length plus this grace. */
const PLAYBACK_END_GRACE_MS = 3000;

/**
 * Plays segments with `playback_start` (audio_url under AUDIO_PUBLIC_BASE_URL), one at a time:
 * the next starts when `call.playback.ended` arrives. Barge-in sends `playback_stop`.
 */
export class UrlVoice implements AgentVoice {
  private readonly queue: PlayableSegment[] = [];
  private current: { seg: PlayableSegment; startedAt?: number; cancelEndTimer: CancelTimer } | undefined;
  /** playback.ended events still expected for playbacks we stopped: ignored when they come. */
  private staleEnds = 0;

  constructor(
    private readonly callControlId: string,
    private readonly commands: CallCommands,
    private readonly audioPublicBaseUrl: string,
    private readonly events: VoiceEvents,
    private readonly now: () => number = Date.now,
    private readonly timers: Timers = realTimers,
  ) {}

  get busy(): boolean {
    return this.current !== undefined || this.queue.length > 0;
  }

  play(seg: PlayableSegment): void {
    this.queue.push(seg);
    if (!this.current) this.next();
  }

  private next(): void {
    const seg = this.queue.shift();
    if (!seg) {
      this.current = undefined;
      this.events.idle();
      return;
    }
    const cancelEndTimer = this.timers.after(seg.durationMs + PLAYBACK_END_GRACE_MS, () => this.ended());
    this.current = { seg, cancelEndTimer };
    // Worth retrying only while this segment is current: once its end timer fired, the voice has moved on.
    this.send('playback_start', { audio_url: audioUrlFor(this.audioPublicBaseUrl, seg.fileName) }, { budgetMs: seg.durationMs + PLAYBACK_END_GRACE_MS });
  }

  private ended(): void {
    const cur = this.current;
    if (!cur) return;
    cur.cancelEndTimer();
    this.events.segmentDone(cur.seg.id);
    this.next();
  }

  onWebhook(eventType: string): void {
    if (eventType === 'call.playback.started' && this.current && this.current.startedAt === undefined) {
      this.current.startedAt = this.now();
      this.events.segmentStarted(this.current.seg.id);
    } else if (eventType === 'call.playback.ended') {
      if (this.staleEnds > 0) this.staleEnds -= 1;
      else this.ended();
    }
  }

  onMark(): void {}

  stop(): Map<string, number> {
    const heard = new Map<string, number>();
    const cur = this.current;
    this.queue.length = 0;
    if (cur) {
      cur.cancelEndTimer();
      const played = cur.startedAt === undefined ? 0 : Math.min(1, (this.now() - cur.startedAt) / Math.max(1, cur.seg.durationMs));
      heard.set(cur.seg.id, played);
      this.current = undefined;
      this.staleEnds += 1;
      this.send('playback_stop', { stop: 'all' });
    }
    return heard;
  }

  /**
   * Fire and forget: an unhandled rejection would crash the process. A playback_start that could
   * not be queued ends through its grace timer; the command layer logs its own failures.
   */
  private send(action: string, body: Record<string, unknown>, opts?: { budgetMs?: number }): void {
    this.commands.issue(this.callControlId, action, body, opts).catch(() => undefined);
  }

  close(): void {
    this.current?.cancelEndTimer();
    this.current = undefined;
    this.queue.length = 0;
  }
}
