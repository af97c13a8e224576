import type { Queue } from 'bullmq';
import type { CallBus } from '../../lib/call-bus';
import type { AdmissionOutcome, CallAdmission } from '../../lib/calls/admission';
import { callStateOf, callStatePatch, recordOf, transition, type CallCommand, type CallEvent, type CallNotification, type CallStep } from '../../lib/calls/call-lifecycle';
import type { CallRecord, CallStore } from '../../lib/calls/call-store';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { answerWithStream, type StreamSettings } from '../../lib/telnyx/stream-params';
import type { TelnyxEvent } from '../../lib/telnyx/webhook-event';
import type { CommandProducer } from '../call-control/command-producer';
import { hangupFallbackJobId } from '../tts/prompt-job';
import { callJobId, encodeClientState } from './ids';
import type { PromptSpeaker } from './prompt-speaker';

export interface CallFlowDeps {
  calls: CallStore;
  /** The phone line's admission (its key space, caps and lease keeper). */
  admission: Pick<CallAdmission, 'admit' | 'held'>;
  commands: CommandProducer;
  prompts: PromptSpeaker;
  maintenance: Queue;
  stream: StreamSettings;
  maxCallDurationMs: number;
  instanceId: string;
  /** Forwards events to the instance holding the call's live media session. */
  bus: CallBus;
  metrics: Metrics;
  logger: Logger;
}

export const MAX_DURATION_JOB = 'call-max-duration';
export const maxDurationJobId = (callControlId: string) => callJobId('maxdur', callControlId);

/** Telnyx events that move the call's lifecycle (call.initiated is handled apart: it needs admission first). */
const LIFECYCLE_EVENTS: Record<string, (e: TelnyxEvent) => CallEvent> = {
  'call.answered': () => ({ type: 'answered' }),
  'call.playback.ended': () => ({ type: 'prompt_ended' }),
  'call.speak.ended': () => ({ type: 'prompt_ended' }),
  'call.hangup': (e) => ({ type: 'hangup', cause: e.payload.hangup_cause === undefined || e.payload.hangup_cause === null ? undefined : String(e.payload.hangup_cause), at: Date.now() }),
};

/** Events the live session acts on (playback state, DTMF, hangup, stream state). */
const FORWARDED = new Set([
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

/**
 * What the runtime does for each Telnyx call event. Runs one event of a call at a time (the event
 * processor orders them), on whichever instance picked the job: load the call record, transition
 * (lib/calls/call-lifecycle.ts), persist what changed, then issue the commands the transition
 * returned.
 */
export class CallFlow {
  constructor(private readonly d: CallFlowDeps) {}

  async handle(event: TelnyxEvent): Promise<void> {
    const callId = event.payload.call_control_id!;
    if (event.event_type === 'call.initiated') return this.onInitiated(callId, event);
    const toLifecycle = LIFECYCLE_EVENTS[event.event_type];
    const forwarded = FORWARDED.has(event.event_type);
    if (!toLifecycle && !forwarded) return;
    const record = await this.d.calls.get(callId);
    if (!record) return;
    if (forwarded) await this.forward(record, event.event_type, event.payload);
    if (toLifecycle) await this.apply(record, toLifecycle(event));
  }

  /** MAX_CALL_DURATION_MS reached: a polite goodbye, then hangup once it has played. */
  async onMaxDuration(callId: string): Promise<void> {
    const record = await this.d.calls.get(callId);
    if (record) await this.apply(record, { type: 'max_duration' });
  }

  /**
   * A command failed for good (command-processor.ts). An `answer` that never went through ends the
   * call here: slot released, record ended, hangup attempted. Other commands change no state.
   */
  async onCommandFailed(callId: string, action: string): Promise<void> {
    if (action !== 'answer') return;
    const record = await this.d.calls.get(callId);
    if (record) await this.apply(record, { type: 'answer_failed', at: Date.now() });
  }

  private async onInitiated(callId: string, event: TelnyxEvent): Promise<void> {
    const p = event.payload;
    if (p.direction && p.direction !== 'incoming') return; // our own outbound legs (transfers) need no setup
    // Set up already (a re-run of this event): the lifecycle would ignore it, and no slot is taken again.
    if (await this.d.calls.get(callId)) return;
    const at = Date.now();
    const admission = await this.d.admission.admit(callId, { did: p.to });
    if (admission.kind === 'invalid_config') {
      this.d.logger.warn({ callControlId: callId, tenantId: admission.tenantId, problems: admission.problems }, 'tenant config invalid');
    }
    const step = transition(undefined, { type: 'initiated', call: { callControlId: callId, did: p.to, from: p.from, owner: this.d.instanceId }, admission, at });
    const record = recordOf(step.state!);
    let created: boolean;
    try {
      created = await this.d.calls.create(record);
    } catch (err) {
      // Not set up: give the slot back now rather than when its lease expires (the event is retried).
      await releaseIfAdmitted(admission);
      throw err;
    }
    if (!created) return; // set up meanwhile by a re-run of this event, which owns what follows
    await this.execute(record, step);
  }

  private async apply(record: CallRecord, event: CallEvent): Promise<void> {
    const before = callStateOf(record);
    const step = transition(before, event);
    if (step.state === before || !step.state) return;
    await this.d.calls.update(record.callControlId, callStatePatch(before, step.state));
    await this.execute(record, step);
  }

  private async execute(record: CallRecord, step: CallStep): Promise<void> {
    for (const n of step.notifications) this.notify(record, n);
    for (const c of step.commands) await this.run(record, c);
  }

  private async run(record: CallRecord, c: CallCommand): Promise<void> {
    const callId = record.callControlId;
    switch (c.type) {
      case 'answer': {
        const clientState = encodeClientState({ tenantId: c.tenantId });
        await this.d.commands.issue(callId, 'answer', c.stream ? answerWithStream(this.d.stream, callId, clientState) : { client_state: clientState });
        return;
      }
      case 'schedule_max_duration':
        await this.d.maintenance.add(MAX_DURATION_JOB, { callControlId: callId }, { jobId: maxDurationJobId(callId), delay: this.d.maxCallDurationMs });
        return;
      case 'cancel_max_duration':
        await this.d.maintenance
          .getJob(maxDurationJobId(callId))
          .then((j) => j?.remove())
          .catch(() => undefined);
        return;
      case 'say':
        await this.d.prompts.say(callId, c.text, { hangupAfter: c.hangupAfter });
        return;
      case 'cancel_fallback_hangup':
        await this.d.commands.cancel(hangupFallbackJobId(callId));
        return;
      case 'hangup':
        await this.d.commands.issue(callId, 'hangup');
        return;
      case 'release_slot':
        await this.d.admission.held(callId, c.tenantId).release();
        return;
      case 'tell_session':
        await this.forward(record, c.eventType, {});
        return;
    }
  }

  private notify(record: CallRecord, n: CallNotification): void {
    const callControlId = record.callControlId;
    switch (n.type) {
      case 'accepted':
        this.d.metrics.calls.inc({ outcome: 'accepted' });
        this.d.logger.info({ callControlId, tenantId: n.tenantId, did: n.did }, 'call accepted');
        return;
      case 'refused':
        this.d.metrics.calls.inc({ outcome: n.reason });
        this.d.logger.info({ callControlId, tenantId: n.tenantId, reason: n.reason }, 'call refused');
        return;
      case 'max_duration_reached':
        this.d.logger.info({ callControlId, tenantId: n.tenantId }, 'maximum call duration reached');
        return;
      case 'ended':
        this.d.logger.info({ callControlId, tenantId: n.tenantId, durationMs: n.durationMs }, 'call ended');
        return;
    }
  }

  private async forward(record: CallRecord, eventType: string, payload: Record<string, unknown>): Promise<void> {
    const callId = record.callControlId;
    if (!record.mediaInstance) return;
    await this.d.bus.publish(record.mediaInstance, { type: 'webhook', callId, eventType, payload }).catch((err: unknown) => {
      this.d.logger.warn({ callControlId: callId, eventType, err: errorMessage(err) }, 'could not forward event to the media session');
    });
  }
}

async function releaseIfAdmitted(a: AdmissionOutcome): Promise<void> {
  if (a.kind === 'admitted') await a.call.release();
}
