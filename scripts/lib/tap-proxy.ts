/**
 * A recording pass-through proxy in front of a real service (Whisper, Kokoro, brain) for the demo:
 * the runtime talks to the tap, the tap forwards every request unchanged (streaming both ways, SSE
 * included) to the target origin with the same path and query, and records the JSON request bodies
 * and the text responses it saw, so the demo can show what was transcribed and answered.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface TapRecord {
  /** Date.now() when the request had been received (the record exists from then on). */
  at: number;
  method: string;
  path: string;
  /** 0 until the response is complete. */
  status: number;
  done: boolean;
  /** Request body as text when it was text/JSON (≤ 64 KB), else undefined. */
  request?: string;
  /** Response body as text when it was text/JSON/SSE (≤ 64 KB), else undefined. */
  response?: string;
}

export interface Tap {
  /** The tap's URL standing for `targetUrl` (same path). */
  url: string;
  /** One per request, in arrival order; `response`/`status` are filled in when the response ends. */
  records: TapRecord[];
  /** Called when a record's response is complete. */
  onRecord(fn: (r: TapRecord) => void): void;
  close(): Promise<void>;
}

const LIMIT = 64 * 1024;
const isText = (ct: string | undefined) => !!ct && /json|text|event-stream/i.test(ct);

export async function startTap(targetUrl: string): Promise<Tap> {
  const target = new URL(targetUrl);
  const client = target.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true });
  const records: TapRecord[] = [];
  const listeners: ((r: TapRecord) => void)[] = [];

  const server = http.createServer((req, res) => {
    const reqChunks: Buffer[] = [];
    let reqBytes = 0;
    const rec: TapRecord = { at: 0, method: req.method ?? 'GET', path: req.url ?? '/', status: 0, done: false };
    const headers = { ...req.headers, host: target.host };
    const up = client.request(
      { protocol: target.protocol, hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const resChunks: Buffer[] = [];
        let resBytes = 0;
        const keep = isText(upRes.headers['content-type']);
        upRes.on('data', (c: Buffer) => {
          if (keep && resBytes < LIMIT) resChunks.push(c);
          resBytes += c.length;
          res.write(c);
        });
        upRes.on('end', () => {
          res.end();
          rec.status = upRes.statusCode ?? 0;
          if (keep) rec.response = Buffer.concat(resChunks).toString('utf8');
          rec.done = true;
          for (const l of listeners) l(rec);
        });
        upRes.on('error', () => res.destroy());
      },
    );
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `tap: ${err.message}` }));
      rec.status = 502;
      rec.done = true;
      for (const l of listeners) l(rec);
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.on('data', (c: Buffer) => {
      if (reqBytes < LIMIT) reqChunks.push(c);
      reqBytes += c.length;
      up.write(c);
    });
    req.on('end', () => {
      up.end();
      rec.at = Date.now();
      if (isText(req.headers['content-type'])) rec.request = Buffer.concat(reqChunks).toString('utf8');
      records.push(rec);
      if (records.length > 500) records.shift();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}${target.pathname === '/' ? '' : target.pathname}${target.search}`;
  return {
    url,
    records,
    onRecord: (fn) => void listeners.push(fn),
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
