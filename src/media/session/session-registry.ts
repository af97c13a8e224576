import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { MediaSession } from './media-session';

/** Health checks every 100 ms: fine enough for grace periods of ~1 s, one timer for all calls. */
const TICK_MS = 100;
/**
 * A tick this long after the previous one (≥ 100 ms late) means the event loop was blocked — a
 * CPU-starved process. Timers run before the loop polls sockets, so frames that arrived during the
 * block are still unread: a health check now would blame the peer for our own stall and restart a
 * healthy stream. Such a tick skips the checks; the next one, after the sockets were read, judges
 * (whatever its own lateness, so a loop that is late all the time still checks every other tick).
 */
const LATE_TICK_MS = 2 * TICK_MS;

/**
 * The media sessions this instance holds, one per call. A second stream for a call REPLACES the
 * first (Telnyx opens a new connection after streaming_start, e.g. a restart or codec fallback; the
 * newest stream is the live one). One shared ticker drives every session's health check.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, MediaSession>();
  private readonly ticker: NodeJS.Timeout;
  private lastTickAt: number | undefined;
  private skippedLastTick = false;

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  get(callControlId: string): MediaSession | undefined {
    return this.sessions.get(callControlId);
  }

  /** Registers a session; returns the one it replaced (already closed), if any. */
  add(session: MediaSession): MediaSession | undefined {
    const old = this.sessions.get(session.callControlId);
    this.sessions.set(session.callControlId, session);
    if (old) {
      this.metrics.mediaConnections.inc({ outcome: 'replaced' });
      this.logger.info({ callControlId: session.callControlId }, 'media stream replaced by a newer connection');
      old.close(1000, 'replaced by a newer stream');
    }
    this.metrics.mediaSessions.set(this.sessions.size);
    return old;
  }

  remove(session: MediaSession): void {
    if (this.sessions.get(session.callControlId) === session) this.sessions.delete(session.callControlId);
    this.metrics.mediaSessions.set(this.sessions.size);
  }

  private tick(): void {
    const now = this.now();
    const late = this.lastTickAt !== undefined && now - this.lastTickAt >= LATE_TICK_MS;
    this.lastTickAt = now;
    if (late && !this.skippedLastTick) {
      this.skippedLastTick = true;
      return;
    }
    this.skippedLastTick = false;
    for (const s of this.sessions.values()) {
      try {
        s.tick(now);
      } catch (err) {
        this.logger.error({ callControlId: s.callControlId, err: (err as Error).message }, 'session tick failed');
      }
    }
  }

  closeAll(code: number, reason: string): void {
    clearInterval(this.ticker);
    for (const s of this.sessions.values()) s.close(code, reason);
    this.sessions.clear();
    this.metrics.mediaSessions.set(0);
  }
}
