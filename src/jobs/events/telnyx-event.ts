import { z } from 'zod';

/**
 * Telnyx webhook envelope (design.md §2). Only the fields the runtime relies on are checked;
 * everything else is kept as sent.
 */
export const telnyxEnvelopeSchema = z.object({
  data: z
    .object({
      event_type: z.string().min(1),
      id: z.string().min(1).max(200),
      occurred_at: z.string().optional(),
      record_type: z.string().optional(),
      payload: z
        .object({
          call_control_id: z.string().min(1).max(500).optional(),
          call_leg_id: z.string().optional(),
          call_session_id: z.string().optional(),
          connection_id: z.string().optional(),
          direction: z.string().optional(),
          from: z.string().optional(),
          to: z.string().optional(),
          state: z.string().optional(),
          client_state: z.string().nullable().optional(),
        })
        .passthrough()
        .default({}),
    })
    .passthrough(),
  meta: z.object({ attempt: z.number().optional(), delivered_to: z.string().optional() }).passthrough().optional(),
});

export type TelnyxEnvelope = z.output<typeof telnyxEnvelopeSchema>;
export type TelnyxEvent = TelnyxEnvelope['data'];

/** Events the call flow acts on; anything else is acknowledged and ignored. */
export const HANDLED_EVENTS = new Set([
  'call.initiated',
  'call.answered',
  'call.hangup',
  'call.playback.started',
  'call.playback.ended',
  'call.speak.started',
  'call.speak.ended',
  'call.dtmf.received',
  'call.bridged',
  'streaming.started',
  'streaming.stopped',
  'streaming.failed',
]);

/** Job data of the `telnyx-events` queue. */
export interface EventJobData {
  event: TelnyxEvent;
  /** Position of this event in its call's order. */
  seq: number;
  receivedAt: number;
}
