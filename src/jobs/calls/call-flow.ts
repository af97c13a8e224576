import type { Queue } from 'bullmq';
import type { Capacity, LeaseKeeper } from '../../lib/capacity';
import { resolveTenantLimits } from '../../lib/capacity';
import type { CallRecord, CallStore, RejectReason } from '../../lib/calls/call-store';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { TenantResolver } from '../../lib/tenants/tenant-resolver';
import type { Redis } from 'ioredis';
import type { CallBus } from '../../lib/call-bus';
import type { CommandProducer } from '../call-control/command-producer';
import type { TelnyxEvent } from '../events/telnyx-event';
import { hangupFallbackJobId } from '../tts/prompt-processor';
import { answerWithStream, type StreamSettings } from '../../lib/telnyx/stream-params';
import { callJobId, encodeClientState } from './ids';
import { PROMPTS } from '../../lib/calls/prompts';
import type { PromptSpeaker } from './prompt-speaker';

export interface CallFlowDeps {
  calls: CallStore;
  tenants: TenantResolver;
  capacity: Capacity;
  leases: LeaseKeeper;
  commands: CommandProducer;
  prompts: PromptSpeaker;
  maintenance: Queue;
  redis: Redis;
  stream: StreamSettings;
  limits: { globalMax: number; tenantMax: number; tenantPerMinute: number; tenantmapPrefix: string; leaseMs: number };
  maxCallDurationMs: number;
  instanceId: string;
  /** Forwards events to the instance holding the call's live media session. */
  bus: CallBus;
  metrics: Metrics;
  logger: Logger;
}

export const MAX_DURATION_JOB = 'call-max-duration';
export const maxDurationJobId = (callControlId: string) => callJobId('maxdur', callControlId);

/**
 * What the runtime does for each Telnyx call event (design.md §4). Runs one event of a call at a
 * time (the event processor orders them), on whichever instance picked the job.
 */
export class CallFlow {
  constructor(private readonly d: CallFlowDeps) {}

  /** Events the live session acts on (playback state, DTMF, hangup, stream state). */
  private static readonly FORWARDED = new Set([
    'call.playback.started',
    'call.playback.ended',
    'call.speak.started',
    'call.speak.ended',
    'call.dtmf.received',
    'call.hangup',
    'streaming.started',
    'streaming.stopped',
    'streaming.failed',
  ]);

  async handle(event: TelnyxEvent): Promise<void> {
    const callId = event.payload.call_control_id!;
    if (CallFlow.FORWARDED.has(event.event_type)) await this.forward(callId, event.event_type, event.payload);
    switch (event.event_type) {
      case 'call.initiated':
        return this.onInitiated(callId, event);
      case 'call.answered':
        return this.onAnswered(callId);
      case 'call.playback.ended':
      case 'call.speak.ended':
        return this.onPromptEnded(callId);
      case 'call.hangup':
        return this.onHangup(callId, event);
      default:
        return;
    }
  }

  private async onInitiated(callId: string, event: TelnyxEvent): Promise<void> {
    const p = event.payload;
    if (p.direction && p.direction !== 'incoming') return; // our own outbound legs (transfers) need no setup
    const base: CallRecord = { callControlId: callId, phase: 'answering', did: p.to, from: p.from, startedAt: Date.now(), owner: this.d.instanceId };
    let resolution;
    try {
      resolution = await this.d.tenants.resolve(p.to);
    } catch (err) {
      this.d.logger.error({ callControlId: callId, err: errorMessage(err) }, 'tenant lookup failed');
      return this.reject(base, 'capacity_error');
    }
    if (resolution.kind === 'not_configured') return this.reject(base, 'not_configured');
    if (resolution.kind === 'invalid_config') {
      this.d.logger.warn({ callControlId: callId, tenantId: resolution.tenantId, problems: resolution.problems }, 'tenant config invalid');
      return this.reject({ ...base, tenantId: resolution.tenantId }, 'invalid_config');
    }
    const { tenantId, config } = resolution;
    const rec = { ...base, tenantId };
    try {
      const limits = await resolveTenantLimits({
        redis: this.d.redis,
        tenantmapPrefix: this.d.limits.tenantmapPrefix,
        tenantId,
        tenantCaps: config.caps,
        defaults: this.d.limits,
      });
      const acquired = await this.d.capacity.acquire(callId, tenantId, limits, this.d.limits.leaseMs);
      if (!acquired.ok) {
        this.d.metrics.capDenials.inc({ reason: acquired.reason });
        this.d.logger.info({ callControlId: callId, tenantId, reason: acquired.reason, limits }, 'call refused: capacity');
        return this.reject(rec, 'at_capacity');
      }
    } catch (err) {
      this.d.metrics.capDenials.inc({ reason: 'capacity_error' });
      this.d.logger.error({ callControlId: callId, tenantId, err: errorMessage(err) }, 'capacity check failed');
      return this.reject(rec, 'capacity_error');
    }
    if (!(await this.d.calls.create({ ...rec, capHeld: true }))) return; // already set up (event re-run)
    this.d.leases.add(callId, tenantId);
    this.d.metrics.activeCalls.set(this.d.leases.size);
    this.d.metrics.calls.inc({ outcome: 'accepted' });
    await this.d.commands.issue(callId, 'answer', answerWithStream(this.d.stream, callId, encodeClientState({ tenantId })));
    await this.d.maintenance.add(MAX_DURATION_JOB, { callControlId: callId }, { jobId: maxDurationJobId(callId), delay: this.d.maxCallDurationMs });
    this.d.logger.info({ callControlId: callId, tenantId, did: resolution.did }, 'call accepted');
  }

  private async forward(callId: string, eventType: string, payload: Record<string, unknown>): Promise<void> {
    const call = await this.d.calls.get(callId);
    if (!call?.mediaInstance) return;
    await this.d.bus.publish(call.mediaInstance, { type: 'webhook', callId, eventType, payload }).catch((err: unknown) => {
      this.d.logger.warn({ callControlId: callId, eventType, err: errorMessage(err) }, 'could not forward event to the media session');
    });
  }

  /** Refusal: answer (no stream), say why once answered, hang up after it has played. */
  private async reject(rec: CallRecord, reason: RejectReason): Promise<void> {
    if (!(await this.d.calls.create({ ...rec, phase: 'rejecting', reason, prompt: PROMPTS[reason] }))) return;
    this.d.metrics.calls.inc({ outcome: reason });
    this.d.logger.info({ callControlId: rec.callControlId, tenantId: rec.tenantId, reason }, 'call refused');
    await this.d.commands.issue(rec.callControlId, 'answer', { client_state: encodeClientState({ tenantId: rec.tenantId }) });
  }

  private async onAnswered(callId: string): Promise<void> {
    const call = await this.d.calls.get(callId);
    if (!call) return;
    if (call.phase === 'rejecting' && call.prompt) {
      await this.d.calls.update(callId, { phase: 'ending' });
      await this.d.prompts.say(callId, call.prompt, { hangupAfter: true });
    } else if (call.phase === 'answering') {
      await this.d.calls.update(callId, { phase: 'active' });
    }
  }

  /** A refusal/goodbye prompt finished playing: now hang up (not before — §6). */
  private async onPromptEnded(callId: string): Promise<void> {
    const call = await this.d.calls.get(callId);
    if (call?.phase !== 'ending') return;
    await this.d.commands.cancel(hangupFallbackJobId(callId));
    await this.d.commands.issue(callId, 'hangup');
  }

  /** Hangup from either side: release the slot, stop timers, mark ended (pending commands then skip). */
  private async onHangup(callId: string, event: TelnyxEvent): Promise<void> {
    const call = await this.d.calls.get(callId);
    if (!call || call.phase === 'ended') return;
    await this.d.calls.update(callId, { phase: 'ended', reason: call.reason ?? String(event.payload.hangup_cause ?? 'hangup') });
    if (call.capHeld && call.tenantId) {
      await this.d.capacity.release(callId, call.tenantId);
      this.d.leases.remove(callId);
      this.d.metrics.activeCalls.set(this.d.leases.size);
    }
    await Promise.all([
      this.d.commands.cancel(hangupFallbackJobId(callId)),
      this.d.maintenance.getJob(maxDurationJobId(callId)).then((j) => j?.remove()).catch(() => undefined),
    ]);
    this.d.logger.info({ callControlId: callId, tenantId: call.tenantId, durationMs: Date.now() - call.startedAt }, 'call ended');
  }

  /** MAX_CALL_DURATION_MS reached: a polite goodbye, then hangup once it has played. */
  async onMaxDuration(callId: string): Promise<void> {
    const call = await this.d.calls.get(callId);
    if (!call || (call.phase !== 'active' && call.phase !== 'answering')) return;
    await this.d.calls.update(callId, { phase: 'ending', reason: 'max_duration' });
    this.d.logger.info({ callControlId: callId, tenantId: call.tenantId }, 'maximum call duration reached');
    // The live session stops talking and listening; the goodbye below is played by URL.
    await this.forward(callId, 'runtime.max_duration', {});
    await this.d.prompts.say(callId, PROMPTS.max_duration, { hangupAfter: true });
  }
}
