/**
 * Loads werift, the WebRTC stack, on first use. A dynamic import so a PSTN-only process never
 * pays for it (werift + its DTLS/SCTP/crypto modules take ~150 ms and ~20 MB to load), and so a
 * broken install answers `webrtc_init_failed` on the WebRTC routes instead of failing the boot.
 */
import { AppError, errorMessage } from '../../lib/errors';

export type Werift = typeof import('werift');

/** Loads the library (cached, also when it failed: a broken install does not fix itself). */
export type WebrtcLibraryLoader = () => Promise<Werift>;

export function webrtcInitFailed(reason: string, cause?: unknown): AppError {
  return new AppError('webrtc_init_failed', `WebRTC is unavailable on this server: ${reason}`, { status: 503, cause });
}

/** `load` defaults to `import('werift')`; tests hand in a failing one. */
export function weriftLoader(load: () => Promise<Werift> = () => import('werift')): WebrtcLibraryLoader {
  let loaded: Promise<Werift> | undefined;
  return () =>
    (loaded ??= load().then(
      (lib) => {
        if (typeof lib?.RTCPeerConnection !== 'function') throw webrtcInitFailed('the werift package has no RTCPeerConnection');
        return lib;
      },
      (err: unknown) => {
        throw webrtcInitFailed(`the werift package could not be loaded (${errorMessage(err)})`, err);
      },
    ));
}
