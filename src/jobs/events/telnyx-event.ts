/**
 * @deprecated The webhook envelope moved to src/lib/telnyx/webhook-event.ts, the events queue's job
 * data to ./event-job.ts. This re-export only keeps src/jobs/calls/call-flow.ts compiling until its
 * owner imports from lib; delete it then (.dependency-cruiser.js forbids any other importer).
 */
export type { TelnyxEvent } from '../../lib/telnyx/webhook-event';
