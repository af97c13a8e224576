/** Webhook signing and event envelopes now live in the Telnyx simulator (src/sim/signing.ts). */
export * from '../../src/sim/signing';
