/** The Kokoro fake now lives in the simulator (src/sim/kokoro.ts, also the demo's TTS stand-in); test names kept. */
export { startKokoroServer as startFakeKokoro, expectedDurationMs, tone, MS_PER_CHAR, MIN_MS } from '../../src/sim/kokoro';
export type { KokoroServer as FakeKokoro, KokoroServerOptions as FakeKokoroOptions, RecordedRequest } from '../../src/sim/kokoro';
