/** The Telnyx media-stream client now lives in the simulator (scripts/sim/media-client.ts); test names kept. */
export { MediaStreamClient as FakeMediaClient } from '../../scripts/sim/media-client';
export type { MediaClientOptions as FakeMediaClientOptions, ReceivedMessage } from '../../scripts/sim/media-client';
