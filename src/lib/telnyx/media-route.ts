/**
 * The one definition of where Telnyx opens a call's media stream on our server:
 * `/v1/telnyx/media/{callControlId}`. The stream_url we hand Telnyx (stream-params.ts) and the
 * WebSocket upgrade route (api/media-ws.ts) both come from here, so they cannot drift apart.
 */
const MEDIA_ROUTE_PREFIX = '/v1/telnyx/media/';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Matches a media-stream path; group 1 is the call control id, still percent-encoded. */
export const MEDIA_PATH = new RegExp(`^${escapeRegExp(MEDIA_ROUTE_PREFIX)}([^/?#]+)$`);

/** The media-stream path of a call (the id percent-encoded: Telnyx ids contain ':' and may contain '/'). */
export function mediaPathFor(callControlId: string): string {
  return `${MEDIA_ROUTE_PREFIX}${encodeURIComponent(callControlId)}`;
}
