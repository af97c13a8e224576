/**
 * Telnyx simulator and local stand-ins (see simulator.ts): everything `npm run demo`,
 * `npm run load-test:calls` and the tests need to play Telnyx, a caller, Whisper, Kokoro and a
 * brain on loopback. Not used by the runtime itself.
 */
export { TelnyxSimulator, SimCall, SIM_CODECS, callerRate } from './simulator';
export type { SimCodec, CallerStep, CallerAudio, PlaceCallOptions, SimEvent, SimulatorOptions, WebhookResult } from './simulator';
export { MediaStreamClient } from './media-client';
export { startCallControlApi, type CallControlApi, type RecordedCommand } from './call-control-api';
export { startStandIns, type StandIns, type StandInsOptions } from './stand-ins';
export { startRedisServer, freePort, type RedisServerHandle } from './redis-server';
export { loadBundledSpeech, espeakAvailable, espeakSynthesize, createUtteranceMatcher, type BundledSpeech } from './speech';
export { CallRecorder } from './recording';
export * from './script';
export { generateTestKeyPair, makeEvent, newCallControlId, signedWebhook, signEd25519, signHmac } from './signing';
