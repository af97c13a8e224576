/**
 * What a live call's conversation needs to go on in another instance (deploy handoff, crash
 * takeover): the history the brain gets, the dead-air count and deadline, digits typed but not yet
 * sent, and the reply the caller was in the middle of hearing. Written by the instance that owns the call at every
 * turn boundary and just before a handoff; read once by the instance the stream moves to.
 *
 * The stored value is JSON in one Redis string per call, validated and bounded on the way in AND out
 * (a snapshot is only as trustworthy as the Redis it sits in: a bad one restores nothing instead of
 * throwing).
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { BrainHistoryEntry } from '../brain/port';

/** Bounds: the history itself keeps ≤ 20 entries / 4000 chars (CallHistory); these are only the outer fence. */
const MAX_ENTRIES = 64;
const MAX_CONTENT = 8000;
const MAX_REPLY = 8000;
const MAX_JSON_BYTES = 256 * 1024;

export interface CallSnapshot {
  v: 1;
  /** ms epoch when it was taken. */
  savedAt: number;
  history: BrainHistoryEntry[];
  /** Unanswered "Are you still there?" prompts so far. */
  deadAirPrompts: number;
  /**
   * While the agent was listening: when the next "Are you still there?" is due (ms epoch). The new
   * owner keeps it, so moving a silent call does not restart its dead-air count.
   */
  deadAirDueAt?: number;
  /** DTMF digits collected but not yet sent as a turn. */
  dtmf: string;
  /**
   * The agent reply in progress when the snapshot was taken (not yet in history): the new owner says
   * it again, so a caller cut off mid-reply hears the question they were asked.
   */
  pendingReply?: string;
  /** The conversation had handed the call to a human (transfer sent): the new owner only listens. */
  transferring?: boolean;
}

const snapshotSchema = z
  .object({
    v: z.literal(1),
    savedAt: z.number().int().nonnegative(),
    history: z
      .array(
        z.object({
          role: z.enum(['user', 'assistant', 'system']),
          content: z.string().max(MAX_CONTENT),
          timestamp: z.number().int().nonnegative(),
        }),
      )
      .max(MAX_ENTRIES),
    deadAirPrompts: z.number().int().min(0).max(100),
    deadAirDueAt: z.number().int().nonnegative().optional(),
    dtmf: z.string().max(64).regex(/^[0-9A-D*#]*$/),
    pendingReply: z.string().max(MAX_REPLY).optional(),
    transferring: z.boolean().optional(),
  })
  .strip();

/** A snapshot from untrusted JSON text, or undefined when it is not one. */
export function parseSnapshot(text: string | null | undefined): CallSnapshot | undefined {
  if (!text || text.length > MAX_JSON_BYTES) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = snapshotSchema.safeParse(raw);
  return r.success ? (r.data as CallSnapshot) : undefined;
}

/** The snapshot cut to the bounds (oldest history first out), so a save never fails validation on load. */
export function boundSnapshot(s: CallSnapshot): CallSnapshot {
  const history = s.history.slice(-MAX_ENTRIES).map((e) => (e.content.length > MAX_CONTENT ? { ...e, content: e.content.slice(0, MAX_CONTENT) } : e));
  const out: CallSnapshot = { ...s, history, dtmf: s.dtmf.slice(0, 64) };
  if (out.pendingReply !== undefined) out.pendingReply = out.pendingReply.slice(0, MAX_REPLY);
  return out;
}

export class SnapshotStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Snapshots outlive the longest call by a margin; a call that ends deletes its own. */
    private readonly ttlSec: number,
  ) {}

  key(callControlId: string): string {
    return `${this.prefix}:call:${callControlId}:snapshot`;
  }

  async save(callControlId: string, snap: CallSnapshot): Promise<void> {
    await this.redis.set(this.key(callControlId), JSON.stringify(boundSnapshot(snap)), 'EX', this.ttlSec);
  }

  async load(callControlId: string): Promise<CallSnapshot | undefined> {
    return parseSnapshot(await this.redis.get(this.key(callControlId)));
  }

  async delete(callControlId: string): Promise<void> {
    await this.redis.del(this.key(callControlId));
  }
}

/**
 * Saves a call's snapshots in order without piling up: one write in flight per call, and while it
 * runs only the newest snapshot waits (older ones are superseded). `flush` resolves once what was
 * asked so far is stored (the handoff awaits it before re-pointing the stream).
 */
export class SnapshotWriter {
  private inFlight: Promise<void> | undefined;
  private next: CallSnapshot | undefined;

  constructor(
    private readonly store: Pick<SnapshotStore, 'save'>,
    private readonly callControlId: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  write(snap: CallSnapshot): void {
    this.next = snap;
    this.inFlight ??= this.drain();
  }

  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private async drain(): Promise<void> {
    try {
      while (this.next) {
        const snap = this.next;
        this.next = undefined;
        try {
          await this.store.save(this.callControlId, snap);
        } catch (err) {
          this.onError(err);
        }
      }
    } finally {
      this.inFlight = undefined;
    }
  }
}
