/**
 * An instant Kokoro for latency benches: the OpenAI / Kokoro-FastAPI shape of tests/fakes/fake-kokoro.ts
 * (POST …/v1/audio/speech `{model, input, voice, response_format, speed}` → WAV at the server's rate,
 * the same 440 Hz tone of MS_PER_CHAR per character, MIN_MS at least), but with the audio cut from
 * one tone generated at start-up, so answering costs a header and a zero-copy slice, not a tone
 * synthesis per request: the fake's own CPU time must not show up in the runtime's latency.
 * Records each request's arrival and the moment its answer was handed to the socket (hr epoch ms).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { expectedDurationMs, tone } from '../../tests/fakes/fake-kokoro';

export interface InstantKokoroRequest {
  path: string;
  text: string;
  at: number;
  answeredAt?: number;
}

export interface InstantKokoro {
  url: string;
  speechUrl: string;
  requests: InstantKokoroRequest[];
  close(): Promise<void>;
}

const hr = () => performance.timeOrigin + performance.now();

function wavHeader(samples: number, rate: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + samples * 2, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(samples * 2, 40);
  return h;
}

export async function startInstantKokoro(opts: { sampleRate: number; maxMs?: number }): Promise<InstantKokoro> {
  const rate = opts.sampleRate;
  const pcm = tone(opts.maxMs ?? 30_000, rate);
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength); // little-endian host
  const requests: InstantKokoroRequest[] = [];
  const server = http.createServer((req, res) => {
    const at = hr();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: { input?: unknown; speed?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad json"}');
        return;
      }
      const text = typeof body.input === 'string' ? body.input : '';
      const rec: InstantKokoroRequest = { path: (req.url ?? '/').split('?')[0]!, text, at };
      requests.push(rec);
      if (!text.trim()) {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"input is required"}');
        return;
      }
      const speed = typeof body.speed === 'number' ? body.speed : 1;
      const n = Math.min(pcm.length, Math.round((expectedDurationMs(text, speed) / 1000) * rate));
      const head = wavHeader(n, rate);
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(44 + n * 2) });
      res.write(head);
      res.end(bytes.subarray(0, n * 2));
      rec.answeredAt = hr();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    speechUrl: `${url}/v1/audio/speech`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
