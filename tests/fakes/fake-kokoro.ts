/** The Kokoro fake now lives in the simulator (scripts/sim/kokoro.ts, also the demo's TTS stand-in); test names kept. */
export { startKokoroServer as startFakeKokoro, expectedDurationMs, tone, MS_PER_CHAR, MIN_MS } from '../../scripts/sim/kokoro';
export type { KokoroServer as FakeKokoro, KokoroServerOptions as FakeKokoroOptions, RecordedRequest } from '../../scripts/sim/kokoro';
