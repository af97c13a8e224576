/** The Whisper fake now lives in the simulator (scripts/sim/whisper.ts, also the demo's STT stand-in); test names kept. */
export { startWhisperServer as startFakeWhisper, parseMultipartBody } from '../../scripts/sim/whisper';
export type {
  WhisperServer as FakeWhisper,
  WhisperServerOptions as FakeWhisperOptions,
  SttAnswer as FakeAnswer,
  MultipartPart,
  RecordedSttRequest,
} from '../../scripts/sim/whisper';
