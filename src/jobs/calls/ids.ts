export { callJobId } from '../call-job-id';

/** client_state round-trips through Telnyx as base64; we keep the tenant id in it. */
export function encodeClientState(state: { tenantId?: string }): string {
  return Buffer.from(JSON.stringify(state)).toString('base64');
}
