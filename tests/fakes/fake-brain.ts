/** The brain fake now lives in the simulator (scripts/sim/brain.ts, also the demo's brain stand-in); test names kept. */
export { startBrainServer as startFakeBrain, DEFAULT_TOKENS } from '../../scripts/sim/brain';
export type {
  BrainServer as FakeBrain,
  BrainServerOptions as FakeBrainOptions,
  BrainServerMode as FakeBrainMode,
  BrainScript as FakeBrainScript,
  RecordedBrainRequest,
} from '../../scripts/sim/brain';
