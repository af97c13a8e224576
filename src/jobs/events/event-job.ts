import type { TelnyxEvent } from '../../lib/telnyx/webhook-event';

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
