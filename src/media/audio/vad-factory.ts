/**
 * @deprecated Moved to src/media/vad/vad-factory.ts with the rest of the VAD runtime. This re-export
 * only keeps src/composition/webrtc.ts compiling until its owner imports from media/vad; delete it
 * then (.dependency-cruiser.js forbids any other importer).
 */
export type { VadFactory } from '../vad/vad-factory';
