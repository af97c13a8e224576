/**
 * Keeps this instance's capacity leases alive. Leases expire (so a crashed instance frees its
 * slots), which means a live call longer than the lease must be refreshed: every leaseMs/3, so two
 * consecutive refreshes can fail before a lease lapses. Refresh errors are logged and retried on
 * the next tick, never thrown: a Redis blip must not end calls.
 */
import { errorMessage } from '../errors';
import type { Logger } from '../logger';
import { type CancelTimer, realTimers, type Timers } from '../timers';
import type { Capacity } from './capacity';
import type { LeaseEntry } from './types';

export interface LeaseKeeperOptions {
  capacity: Pick<Capacity, 'refresh'>;
  leaseMs: number;
  logger: Logger;
  /** Default realTimers (unref'd, so a forgotten keeper never keeps the process alive). */
  timers?: Timers;
  /** Called for each call whose lease was found gone (expired or released elsewhere). */
  onLost?: (entry: LeaseEntry) => void;
}

export class LeaseKeeper {
  private readonly held = new Map<string, LeaseEntry>();
  private readonly capacity: Pick<Capacity, 'refresh'>;
  private readonly leaseMs: number;
  private readonly logger: Logger;
  private readonly onLost?: (entry: LeaseEntry) => void;
  private readonly cancelTimer: CancelTimer;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(opts: LeaseKeeperOptions) {
    this.capacity = opts.capacity;
    this.leaseMs = opts.leaseMs;
    this.logger = opts.logger;
    this.onLost = opts.onLost;
    const timers = opts.timers ?? realTimers;
    this.cancelTimer = timers.every(Math.max(1, Math.floor(opts.leaseMs / 3)), () => void this.refreshNow());
  }

  get size(): number {
    return this.held.size;
  }

  has(callId: string): boolean {
    return this.held.has(callId);
  }

  add(callId: string, tenantId: string): void {
    this.held.set(callId, { callId, tenantId });
  }

  /** Stops refreshing the call (after releasing it); true when it was tracked. */
  remove(callId: string): boolean {
    return this.held.delete(callId);
  }

  /**
   * One refresh round (the timer calls it; tests and shutdown may too). A round still running is
   * joined rather than overlapped, so a slow Redis cannot pile up refreshes.
   */
  refreshNow(): Promise<void> {
    if (this.stopped || this.held.size === 0) return Promise.resolve();
    this.inFlight ??= this.round().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Stops the timer and waits for a running round; leases are left to the caller to release. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelTimer();
    await this.inFlight;
  }

  private async round(): Promise<void> {
    const snapshot = [...this.held.values()];
    let gone: string[];
    try {
      gone = await this.capacity.refresh(snapshot, this.leaseMs);
    } catch (err) {
      this.logger.error({ err: errorMessage(err), calls: snapshot.length }, 'capacity lease refresh failed; retrying next tick');
      return;
    }
    const refreshed = new Map(snapshot.map((e) => [e.callId, e]));
    const lost: LeaseEntry[] = [];
    for (const callId of gone) {
      const entry = refreshed.get(callId);
      // Drop only the entry this round refreshed: the call may have been removed and re-added since.
      if (entry && this.held.get(callId) === entry) {
        this.held.delete(callId);
        lost.push(entry);
      }
    }
    if (lost.length === 0) return;
    this.logger.warn({ calls: lost.map((e) => e.callId) }, 'capacity leases lost (expired or released elsewhere)');
    for (const entry of lost) {
      try {
        this.onLost?.(entry);
      } catch (err) {
        this.logger.error({ err: errorMessage(err), callId: entry.callId }, 'capacity onLost handler failed');
      }
    }
  }
}
