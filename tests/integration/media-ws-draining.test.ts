/**
 * A draining instance that is handing its calls to others refuses new media streams with 503 (the
 * load balancer may still send one here before it has seen /health/ready turn 503); the handoff then
 * re-points the stream. Otherwise the same upgrade is accepted.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { attachMediaServer } from '../../src/api/media-ws';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { mediaTokenFor } from '../../src/lib/telnyx/media-token';
import { mediaPathFor } from '../../src/lib/telnyx/media-route';

const SECRET = 'media-secret';

async function upgrade(accepts: boolean): Promise<number> {
  const server = http.createServer();
  const media = attachMediaServer(server, {
    mediaStreamToken: SECRET,
    calls: { get: async () => undefined },
    liveCalls: { attach: () => ({ receive: () => undefined, socketClosed: () => undefined }) } as never,
    prepareCall: async () => undefined,
    acceptsStreams: () => accepts,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: createLogger({ level: 'silent' }),
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    const url = `ws://127.0.0.1:${port}${mediaPathFor('call-1')}?token=${mediaTokenFor(SECRET, 'call-1')}`;
    return await new Promise<number>((resolve) => {
      const ws = new WebSocket(url);
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => {
        resolve(101);
        ws.terminate();
      });
      ws.on('error', () => undefined);
    });
  } finally {
    media.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

describe('media upgrade while draining', () => {
  it('is refused with 503 while the instance hands its calls to others', async () => {
    expect(await upgrade(false)).toBe(503);
  });
  it('is accepted otherwise', async () => {
    expect(await upgrade(true)).toBe(101);
  });
});
