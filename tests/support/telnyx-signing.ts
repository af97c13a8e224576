/** Webhook signing and event envelopes now live in the Telnyx simulator (scripts/sim/signing.ts). */
export * from '../../scripts/sim/signing';
