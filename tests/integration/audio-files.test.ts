import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/api/app';
import { audioFilesRouter, audioMountPath, audioUrlFor } from '../../src/api/audio-files';
import { createMetrics } from '../../src/lib/metrics';
import { buildWav } from '../../src/lib/audio/wav';
import { tone } from '../fakes/fake-kokoro';
import { memoryLogger } from '../support/test-config';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** node:http so the exact path bytes reach the server (URL-normalizing clients would hide traversal). */
function raw(port: number, rawPath: string, opts: { method?: string; headers?: http.OutgoingHttpHeaders } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const json = (r: Raw) => JSON.parse(r.body.toString('utf8')) as { error: string; message: string };

describe('audio files route', () => {
  let root: string;
  let storage: string;
  let server: http.Server;
  let port: number;
  const wav = buildWav(tone(500, 8000), 8000);
  const name = 'Ab3_x-Yz9Q0kLmN1oPqRs2.wav';

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'veralux-audio-route-'));
    storage = path.join(root, 'audio');
    mkdirSync(storage);
    writeFileSync(path.join(storage, name), wav);
    writeFileSync(path.join(storage, 'promptmp3file.mp3'), Buffer.from('ID3fake-mp3-bytes'));
    writeFileSync(path.join(storage, '.hiddenfile1.wav'), wav);
    mkdirSync(path.join(storage, 'directory1.wav'));
    writeFileSync(path.join(root, 'secret12.wav'), Buffer.from('outside the storage dir'));
    // Links planted in the storage dir: to a file outside it, to a system file, to a file inside it.
    symlinkSync(path.join(root, 'secret12.wav'), path.join(storage, 'linkedout1.wav'));
    symlinkSync('/etc/hostname', path.join(storage, 'hostname1.wav'));
    symlinkSync(path.join(storage, name), path.join(storage, 'linkedin12.wav'));
    const app = createApp({
      logger: memoryLogger('silent').logger,
      metrics: createMetrics({ defaultMetrics: false }),
      routers: [audioFilesRouter({ storageDir: storage, publicBaseUrl: 'http://example.test/audio/' })],
    });
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(root, { recursive: true, force: true });
  });

  it('builds public URLs and the mount path from AUDIO_PUBLIC_BASE_URL', () => {
    expect(audioUrlFor('https://h.example/audio/', name)).toBe(`https://h.example/audio/${name}`);
    expect(audioUrlFor('https://h.example/media/tts', name)).toBe(`https://h.example/media/tts/${name}`);
    expect(audioMountPath('http://h/audio')).toBe('/audio');
    expect(audioMountPath('http://h/a/b/')).toBe('/a/b');
    expect(audioMountPath('http://h')).toBe('/');
  });

  it('serves a WAV with type, length and private caching', async () => {
    const r = await raw(port, `/audio/${name}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('audio/wav');
    expect(r.headers['content-length']).toBe(String(wav.length));
    expect(r.headers['cache-control']).toBe('private, max-age=300');
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.body.equals(wav)).toBe(true);
  });

  it('serves mp3 as audio/mpeg', async () => {
    const r = await raw(port, '/audio/promptmp3file.mp3');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('audio/mpeg');
  });

  it('answers HEAD with headers and no body', async () => {
    const r = await raw(port, `/audio/${name}`, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(wav.length));
    expect(r.headers['content-type']).toBe('audio/wav');
    expect(r.body.length).toBe(0);
  });

  it('supports byte ranges', async () => {
    const r = await raw(port, `/audio/${name}`, { headers: { range: 'bytes=44-143' } });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 44-143/${wav.length}`);
    expect(r.headers['content-length']).toBe('100');
    expect(r.body.equals(wav.subarray(44, 144))).toBe(true);
    const bad = await raw(port, `/audio/${name}`, { headers: { range: `bytes=${wav.length + 10}-` } });
    expect(bad.status).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${wav.length}`);
  });

  it('returns a JSON 404 for unknown and invalid names, hidden files and directories', async () => {
    for (const p of ['/audio/NoSuchFile123.wav', '/audio/short.wav', '/audio/name12345.txt', '/audio/.hiddenfile1.wav', '/audio/directory1.wav', `/audio/${name}/`]) {
      const r = await raw(port, p);
      expect({ p, status: r.status }).toEqual({ p, status: 404 });
      expect(json(r).error).toBe('not_found');
    }
  });

  it('never escapes the storage dir: traversal and encoded slashes are 404', async () => {
    const attempts = [
      '/audio/..%2Fsecret12.wav',
      '/audio/..%2fsecret12.wav',
      '/audio/%2e%2e%2fsecret12.wav',
      '/audio/%2E%2E/secret12.wav',
      '/audio/../secret12.wav',
      '/audio/..%5Csecret12.wav',
      '/audio/audio%2F..%2F..%2Fsecret12.wav',
      '/audio/..%252Fsecret12.wav',
      '/audio/%00secret12.wav',
      '/audio//etc/passwd',
      '/audio/..%2F..%2F..%2F..%2Fetc%2Fpasswd',
    ];
    for (const p of attempts) {
      const r = await raw(port, p);
      expect({ p, status: r.status }).toEqual({ p, status: 404 });
      expect(r.body.toString()).not.toContain('outside the storage dir');
    }
  });

  it('never follows a symlink in the storage dir, wherever it points', async () => {
    for (const p of ['/audio/linkedout1.wav', '/audio/hostname1.wav', '/audio/linkedin12.wav']) {
      for (const method of ['GET', 'HEAD']) {
        const r = await raw(port, p, { method });
        expect({ p, method, status: r.status }).toEqual({ p, method, status: 404 });
        expect(r.body.toString()).not.toContain('outside the storage dir');
      }
    }
  });

  it('has no directory listing: the base path is a JSON 404', async () => {
    for (const p of ['/audio', '/audio/']) {
      const r = await raw(port, p);
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toMatch(/application\/json/);
      expect(json(r).error).toBe('not_found');
    }
  });

  it('does not accept writes', async () => {
    const r = await raw(port, `/audio/${name}`, { method: 'DELETE' });
    expect(r.status).toBe(404);
  });
});

describe('audio files mounted at the root', () => {
  it('serves audio names and leaves every other path to the app', async () => {
    const storage = mkdtempSync(path.join(os.tmpdir(), 'veralux-audio-root-'));
    writeFileSync(path.join(storage, 'rootfile1.wav'), buildWav(tone(300, 8000), 8000));
    const app = createApp({
      logger: memoryLogger('silent').logger,
      metrics: createMetrics({ defaultMetrics: false }),
      routers: [audioFilesRouter({ storageDir: storage, publicBaseUrl: 'http://example.test' })],
    });
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      expect((await raw(port, '/rootfile1.wav')).status).toBe(200);
      const other = await raw(port, '/something-else');
      expect(other.status).toBe(404);
      expect(json(other).message).toBe('no route for GET /something-else');
      expect((await raw(port, '/metrics')).status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(storage, { recursive: true, force: true });
    }
  });
});
