/** The Telnyx media-stream client now lives in the simulator (src/sim/media-client.ts); test names kept. */
export { MediaStreamClient as FakeMediaClient } from '../../src/sim/media-client';
export type { MediaClientOptions as FakeMediaClientOptions, ReceivedMessage } from '../../src/sim/media-client';
