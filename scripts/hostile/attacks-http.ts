/**
 * Hostile HTTP input for the runtime: raw request lines and upgrade targets written straight to a TCP
 * socket (no client library would send them), malformed framing, slow headers, webhook bombs, /audio
 * traversal and symlinks, metric-label floods. Each attack returns what the server answered; the
 * runner (scripts/hostile/run.ts) checks the process after each group.
 */
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import type { KeyObject } from 'node:crypto';
import { makeEvent, newCallControlId, signEd25519 } from '../sim/signing';

/** What one attack got back: the HTTP status, or how the connection ended without one. */
export type Answer = number | 'closed' | 'timeout';

export interface Outcome {
  name: string;
  answer: Answer;
}

export interface HttpTarget {
  host: string;
  port: number;
}

const RAW_TIMEOUT_MS = 5_000;

/** Writes `bytes` to a fresh connection and reads the status line of the answer (or how it ended). */
export function rawExchange(t: HttpTarget, bytes: string | Buffer, timeoutMs = RAW_TIMEOUT_MS): Promise<Answer> {
  return new Promise((resolve) => {
    const sock = net.connect(t.port, t.host);
    let head = '';
    let done = false;
    const finish = (a: Answer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m) finish(Number(m[1]));
      else if (head.length > 4096) finish('closed');
    });
    sock.on('error', () => finish('closed'));
    sock.on('close', () => finish('closed'));
  });
}

const UPGRADE_HEADERS =
  'Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/** Request targets that once killed the process from the upgrade listener, and their relatives. */
export const UPGRADE_TARGETS = [
  '//[',
  'http://[',
  'http://[::1',
  '//[::1]:99999/v1/telnyx/media/x',
  'http://%zz/',
  '*',
  '/v1/telnyx/media/%E0%A4%A',
  '/v1/telnyx/media/abc?token=%zz%',
  `/v1/telnyx/media/${'a'.repeat(6000)}`,
  '/v1/telnyx/media/x?token=' + 'b'.repeat(6000),
  '/\u0000/v1/telnyx/media/x',
];

export async function upgradeTargets(t: HttpTarget): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const target of UPGRADE_TARGETS) {
    out.push({ name: `upgrade ${target.slice(0, 40)}`, answer: await rawExchange(t, `GET ${target} HTTP/1.1\r\n${UPGRADE_HEADERS}`) });
  }
  return out;
}

/** Malformed requests: request lines, header floods, broken framing. */
export async function malformedRequests(t: HttpTarget): Promise<Outcome[]> {
  const cases: [string, string][] = [
    ['request line //[', 'GET //[ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['request line http://[', 'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['binary garbage', '\u0000\u0001\u0002\u00ff garbage\r\n\r\n'],
    ['unknown HTTP version', 'GET /health/live HTTP/9.9\r\nHost: x\r\n\r\n'],
    ['made-up method', 'FROBNICATE /health/live HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['32 KB header', `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`],
    ['2,000 headers', `GET /health/live HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 2000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`],
    ['negative Content-Length', 'POST /v1/telnyx/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}'],
    ['non-numeric Content-Length', 'POST /v1/telnyx/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}'],
    ['two Content-Lengths', 'POST /v1/telnyx/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}'],
    ['huge Content-Length', 'POST /v1/telnyx/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}'],
    ['chunked garbage', 'POST /v1/telnyx/webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n\r\n'],
    ['chunk size overflow', 'POST /v1/telnyx/webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nx\r\n0\r\n\r\n'],
    ['Content-Length and chunked', 'POST /v1/telnyx/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ];
  const out: Outcome[] = [];
  for (const [name, bytes] of cases) out.push({ name, answer: await rawExchange(t, bytes) });
  return out;
}

/**
 * Slow-header connections held open while the caller probes the server: each sends a partial request
 * and trickles a header byte every second. Returns a release function that closes them all.
 */
export async function holdSlowHeaders(t: HttpTarget, count: number): Promise<() => void> {
  const socks: net.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<void>((resolve) => {
        const s = net.connect(t.port, t.host, () => {
          s.write('GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ');
          resolve();
        });
        s.on('error', () => resolve());
        socks.push(s);
        const timer = setInterval(() => {
          if (!s.destroyed) s.write('a');
        }, 1000);
        timer.unref();
        timers.push(timer);
      }),
    ),
  );
  return () => {
    for (const timer of timers) clearInterval(timer);
    for (const s of socks) s.destroy();
  };
}

async function post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<Answer> {
  try {
    const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(RAW_TIMEOUT_MS) });
    await res.arrayBuffer().catch(() => undefined);
    return res.status;
  } catch {
    return 'closed';
  }
}

function nest(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** Webhook bombs: too big, compressed, too deep, wrong types; the deep and typed ones validly signed. */
export async function webhookBombs(t: HttpTarget, privateKey: KeyObject): Promise<Outcome[]> {
  const url = `http://${t.host}:${t.port}/v1/telnyx/webhook`;
  const json = { 'content-type': 'application/json' };
  const signed = (raw: string) => ({ ...json, ...signEd25519(raw, privateKey) });
  const event = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({ ...makeEvent('call.playback.ended', { call_control_id: newCallControlId() }), ...extra });
  const twoMb = Buffer.alloc(2 * 1024 * 1024, 0x20);
  const bomb = gzipSync(Buffer.concat([Buffer.from('{"data":"'), Buffer.alloc(10 * 1024 * 1024, 0x61), Buffer.from('"}')]));
  const deep = event().replace(/^\{/, `{"extra":${nest(10_000)},`);
  const cases: [string, () => Promise<Answer>][] = [
    ['2 MB body, Content-Length', () => post(url, twoMb, json)],
    ['2 MB body, chunked', () => chunkedPost(t, twoMb)],
    ['gzip to 10 MB', () => post(url, bomb, { ...json, 'content-encoding': 'gzip' })],
    ['unsigned', () => post(url, event(), json)],
    ['signed, nested 10,000 deep', () => post(url, deep, signed(deep))],
    ['signed, not JSON', () => post(url, '{"data":', signed('{"data":'))],
    ['signed, data is an array', () => signedPost(url, '{"data":[1,2,3]}', signed)],
    ['signed, id is a number', () => signedPost(url, JSON.stringify({ data: { event_type: 'call.hangup', id: 7, payload: {} } }), signed)],
    ['signed, event_type is an object', () => signedPost(url, JSON.stringify({ data: { event_type: { a: 1 }, id: 'x', payload: {} } }), signed)],
    ['signed, call_control_id is 10 KB', () => signedPost(url, event({}).replace(/"call_control_id":"[^"]*"/, `"call_control_id":"${'c'.repeat(10_000)}"`), signed)],
    ['signed, JSON null', () => signedPost(url, 'null', signed)],
  ];
  const out: Outcome[] = [];
  for (const [name, run] of cases) out.push({ name, answer: await run() });
  return out;
}

function signedPost(url: string, raw: string, signed: (raw: string) => Record<string, string>): Promise<Answer> {
  return post(url, raw, signed(raw));
}

/** A chunked POST with no Content-Length, so the size limit must be enforced while reading. */
function chunkedPost(t: HttpTarget, body: Buffer): Promise<Answer> {
  const chunk = 64 * 1024;
  const parts: Buffer[] = [Buffer.from('POST /v1/telnyx/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')];
  for (let i = 0; i < body.length; i += chunk) {
    const c = body.subarray(i, i + chunk);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return rawExchange(t, Buffer.concat(parts));
}

/** Traversal spellings under the audio mount, and names of symlinks the runner planted in the storage dir. */
export async function audioEscapes(t: HttpTarget, mount: string, linkNames: readonly string[]): Promise<Outcome[]> {
  const paths = [
    `${mount}/..%2F..%2F..%2Fetc%2Fpasswd`,
    `${mount}/%2e%2e%2f%2e%2e%2fetc%2fhostname`,
    `${mount}/..%5C..%5Cetc%5Cpasswd`,
    `${mount}//etc/passwd`,
    `${mount}/%00hostname1.wav`,
    ...linkNames.map((n) => `${mount}/${n}`),
  ];
  const out: Outcome[] = [];
  for (const p of paths) {
    for (const method of ['GET', 'HEAD']) {
      out.push({ name: `${method} ${p}`, answer: await rawExchange(t, `${method} ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`) });
    }
  }
  return out;
}

/** Requests whose path spelling and method vary at random (seeded), to grow metric label sets if they could. */
export async function labelFlood(t: HttpTarget, count: number, seed: number): Promise<Outcome[]> {
  let s = seed >>> 0;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const flip = (x: string) => [...x].map((c) => (rand() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
  const methods = ['GET', 'POST', 'PROPFIND', 'MKCOL', 'PURGE', 'LOCK', 'BREW'];
  const paths = ['/admin/queues', '/health/live', '/audio/abcdefgh12.wav', '/v1/telnyx/webhook', '/metrics', '/no/such/route'];
  const out: Outcome[] = [];
  for (let i = 0; i < count; i += 1) {
    const method = methods[Math.floor(rand() * methods.length)]!;
    const p = `${flip(paths[i % paths.length]!)}${rand() < 0.3 ? `/${i}` : ''}`;
    out.push({ name: `${method} ${p}`, answer: await rawExchange(t, `${method} ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`) });
  }
  return out;
}

/** Statuses by count, e.g. "5×401, 25×429". */
export function statusCounts(outcomes: readonly Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(String(o.answer), (counts.get(String(o.answer)) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${n}×${k}`).join(', ');
}

/** Admin brute force: `count` wrong Basic-auth passwords from one client, as fast as the server answers. */
export async function adminBruteForce(t: HttpTarget, user: string, count: number): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < count; i += 1) {
    const auth = Buffer.from(`${user}:guess-${i}`).toString('base64');
    const answer = await rawExchange(t, `GET /admin/queues/api/queues HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\nConnection: close\r\n\r\n`);
    out.push({ name: `wrong password ${i + 1}`, answer });
  }
  return out;
}

/** Fake two-line SDP offers for a real tenant from one client, as in the attack that once filled a phone line. */
export async function webrtcOfferFlood(t: HttpTarget, origin: string, tenantId: string, count: number): Promise<Outcome[]> {
  const body = JSON.stringify({ tenant_id: tenantId, offer: { type: 'offer', sdp: 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n' } });
  const url = `http://${t.host}:${t.port}/v1/webrtc/offer`;
  return Promise.all(
    Array.from({ length: count }, async (_, i) => ({
      name: `fake offer ${i + 1}`,
      answer: await post(url, body, { 'content-type': 'application/json', origin }),
    })),
  );
}
