/** The Whisper fake now lives in the simulator (src/sim/whisper.ts, also the demo's STT stand-in); test names kept. */
export { startWhisperServer as startFakeWhisper, parseMultipartBody } from '../../src/sim/whisper';
export type {
  WhisperServer as FakeWhisper,
  WhisperServerOptions as FakeWhisperOptions,
  SttAnswer as FakeAnswer,
  MultipartPart,
  RecordedSttRequest,
} from '../../src/sim/whisper';
