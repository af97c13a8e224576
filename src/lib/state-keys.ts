/** The runtime's own per-call Redis keys, all under STATE_PREFIX (built in one place). */
export const stateKeys = (prefix: string) => ({
  /** Hash: the call's lifecycle state, shared by every instance. */
  call: (callId: string) => `${prefix}:call:${callId}`,
  /** Webhook dedupe marker per Telnyx event id (data.id). */
  eventSeen: (eventId: string) => `${prefix}:evt:${eventId}`,
  /** Per-call sequence counters: events and commands are each processed in arrival/issue order. */
  seq: (scope: OrderScope, callId: string) => `${prefix}:call:${callId}:${scope}:seq`,
  done: (scope: OrderScope, callId: string) => `${prefix}:call:${callId}:${scope}:done`,
});

export type OrderScope = 'ev' | 'cmd';
export type StateKeys = ReturnType<typeof stateKeys>;
