import { Router } from 'express';

/**
 * WebRTC HD (TRANSPORT_MODE=webrtc_hd) is not built yet. The original product answered
 * `webrtc_init_failed` when its WebRTC library was missing; we answer the same, so browser
 * clients and operators get a clear error instead of a 404 while PSTN keeps working.
 */
export function webrtcUnavailableRouter(): Router {
  const router = Router();
  const refuse = (_req: unknown, res: { status(n: number): { json(b: unknown): void } }) =>
    res.status(503).json({ error: 'webrtc_init_failed', message: 'WebRTC HD transport is not available in this build' });
  router.post('/v1/webrtc/offer', refuse);
  router.post('/v1/webrtc/hangup', refuse);
  router.get('/hd-call', refuse);
  return router;
}
