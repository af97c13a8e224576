import type { Redis } from 'ioredis';
import type { StateKeys } from '../state-keys';

/**
 * A call as every instance sees it (a Redis hash). Its lifecycle fields are changed only by the
 * event processor through call-lifecycle.ts, one event of a call at a time (see CallOrder), so
 * read-modify-write is safe:
 *   answering → active → ending → ended        (accepted call)
 *   rejecting → ending → ended                 (refused call: message played, then hangup)
 */
export type CallPhase = 'answering' | 'active' | 'rejecting' | 'ending' | 'ended';

export type RejectReason = 'not_configured' | 'invalid_config' | 'at_capacity' | 'capacity_error';

export interface CallRecord {
  callControlId: string;
  phase: CallPhase;
  tenantId?: string;
  did?: string;
  from?: string;
  /** Set while the call is being refused or wound down: the text to say before hanging up. */
  prompt?: string;
  reason?: string;
  /** Whether this call holds a capacity lease that must be released. */
  capHeld?: boolean;
  /** Ending: the hangup after the last prompt was sent (absent in records of earlier versions). */
  hangupRequested?: boolean;
  startedAt: number;
  /** Instance that set the call up (owner of its capacity lease refresh). */
  owner?: string;
  /** Instance holding the call's media socket (live session); receives its call-bus messages. */
  mediaInstance?: string;
}

export class CallStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StateKeys,
    /** Call records outlive the longest call so late webhooks still find the record. */
    private readonly ttlSec: number,
  ) {}

  async get(callControlId: string): Promise<CallRecord | undefined> {
    const h = await this.redis.hgetall(this.keys.call(callControlId));
    if (!h.phase) return undefined;
    return {
      callControlId,
      phase: h.phase as CallPhase,
      tenantId: h.tenantId || undefined,
      did: h.did || undefined,
      from: h.from || undefined,
      prompt: h.prompt || undefined,
      reason: h.reason || undefined,
      capHeld: h.capHeld === '1',
      hangupRequested: h.hangupRequested === '1',
      startedAt: Number(h.startedAt ?? 0),
      owner: h.owner || undefined,
      mediaInstance: h.mediaInstance || undefined,
    };
  }

  /** Creates the record; false when it already exists (a re-processed call.initiated). */
  async create(rec: CallRecord): Promise<boolean> {
    const key = this.keys.call(rec.callControlId);
    const created = await this.redis.hsetnx(key, 'phase', rec.phase);
    if (!created) return false;
    await this.update(rec.callControlId, { ...rec });
    return true;
  }

  async update(callControlId: string, patch: Partial<CallRecord>): Promise<void> {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || k === 'callControlId') continue;
      fields[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    }
    const key = this.keys.call(callControlId);
    await this.redis.multi().hset(key, fields).expire(key, this.ttlSec).exec();
  }

  async isEnded(callControlId: string): Promise<boolean> {
    return (await this.redis.hget(this.keys.call(callControlId), 'phase')) === 'ended';
  }
}
