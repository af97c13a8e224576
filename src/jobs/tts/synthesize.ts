/**
 * @deprecated Moved to src/lib/tts/synthesize.ts (in-process synthesis is not queue work). This
 * re-export only keeps src/composition/webrtc.ts compiling until its owner imports from lib;
 * delete it then (.dependency-cruiser.js forbids any other importer).
 */
export type { SynthesizeDeps } from '../../lib/tts/synthesize';
