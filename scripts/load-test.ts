/**
 * npm run load-test — webhook throughput against a running runtime (docs/testing.md §Load tests).
 *
 * Sends PROPERLY signed Telnyx webhooks (Ed25519 over `${timestamp}|${rawBody}` with a private key, or
 * the local HMAC scheme with TELNYX_WEBHOOK_SECRET) from `--concurrency` workers over keep-alive
 * connections for `--duration` seconds, optionally paced to `--rps`. Every `call.initiated` a worker
 * sends is followed by a `call.hangup` for the same call — also after the deadline and after a failed
 * initiated (it may still have been accepted) — so the test leaks no capacity. Any non-2xx answer
 * (401 included), network error or timeout is a failure; exit 1 when more than 10 % failed.
 *
 * Usage: npm run load-test -- [--url URL] [--concurrency 10] [--duration 30] [--rps N]
 *          [--private-key <base64 raw 32-byte seed | PKCS8 PEM file>] [--scheme auto|ed25519|hmac]
 *          [--to +15551234567] [--from +15550001111] [--timeout 10000] [--json FILE]
 */
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { parseArgs } from 'node:util';
import dotenv from 'dotenv';
import { KeepAliveConnection } from './lib/keepalive-http';
import { makeEvent, newCallControlId, signEd25519, signHmac, type SignatureHeaders } from './sim/signing';

export const DEFAULT_URL = 'http://localhost:3000/v1/telnyx/webhook';
/** More failures than this share of all requests fails the run. */
export const MAX_ERROR_RATE = 0.1;
/** Latency samples kept (reservoir): bounded memory for long, fast runs; max and count stay exact. */
const MAX_SAMPLES = 1_000_000;
/** Attempts at the hangup of one call when the runtime did not answer 2xx (a leaked call holds a slot). */
const HANGUP_ATTEMPTS = 3;

export type Signer =
  | { scheme: 'ed25519'; privateKey: KeyObject; publicKeyB64: string }
  | { scheme: 'hmac'; secret: string };

export interface LoadTestOptions {
  url: string;
  concurrency: number;
  durationSec: number;
  rps?: number;
  signer: Signer;
  to: string;
  from: string;
  timeoutMs: number;
  /** Called every few seconds with a progress line (CLI prints it to stderr). */
  onProgress?: (line: string) => void;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadTestResult {
  requests: number;
  succeeded: number;
  failed: number;
  errorRate: number;
  elapsedSec: number;
  reqPerSec: number;
  /** HTTP status code, or `timeout` / a network error code, → count. */
  statuses: Record<string, number>;
  initiated: number;
  hangups: number;
  /** Calls whose hangup never got a 2xx (after retries): they may hold capacity until cleaned up. */
  unconfirmedHangups: number;
  latencyMs: LatencySummary;
  /** The first few distinct failure descriptions, to tell a bad key from a down server. */
  sampleErrors: string[];
  /**
   * This load generator's own CPU time during the run (user + system, every thread), ms: on a shared
   * machine it is CPU the runtime under test did not get.
   */
  loadGeneratorCpuMs: number;
  pass: boolean;
}

class UsageError extends Error {}

/** Reservoir of latency samples (Algorithm R) with exact count, sum and max. */
class LatencyRecorder {
  private readonly samples: number[] = [];
  private seen = 0;
  private sum = 0;
  private max = 0;

  add(ms: number): void {
    this.seen += 1;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (this.samples.length < MAX_SAMPLES) this.samples.push(ms);
    else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < MAX_SAMPLES) this.samples[j] = ms;
    }
  }

  summary(): LatencySummary {
    const s = [...this.samples].sort((a, b) => a - b);
    const pct = (p: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!);
    return { p50: pct(50), p95: pct(95), p99: pct(99), max: this.seen ? this.max : NaN, mean: this.seen ? this.sum / this.seen : NaN };
  }
}

// ---------------------------------------------------------------------------------------------
// Keys

/** DER prefix of an Ed25519 PKCS#8 private key; the raw 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function rawPublicKeyB64(privateKey: KeyObject): string {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url').toString('base64');
}

/**
 * An Ed25519 private key from: a PKCS8 PEM file (or PEM text), the base64 (or hex) of the raw 32-byte
 * seed, or of a 64-byte NaCl secret key (seed ‖ public key). Throws a UsageError saying what it expects.
 */
export function loadEd25519PrivateKey(value: string): KeyObject {
  let text = value.trim();
  let source = 'the --private-key / TELNYX_PRIVATE_KEY value';
  if (text.length < 4096 && existsSync(text) && statSync(text).isFile()) {
    source = `file ${text}`;
    text = readFileSync(text, 'utf8').trim();
  }
  const expected = 'expected the base64 of a raw 32-byte Ed25519 seed or a PKCS8 PEM ("-----BEGIN PRIVATE KEY-----") file';
  let key: KeyObject;
  try {
    if (text.includes('-----BEGIN')) key = createPrivateKey({ key: text, format: 'pem' });
    else {
      let raw: Buffer;
      if (/^[0-9a-fA-F]{64}$/.test(text)) raw = Buffer.from(text, 'hex');
      else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) raw = Buffer.from(text, 'base64');
      else throw new UsageError(`cannot read the Ed25519 private key from ${source}: ${expected}`);
      if (raw.length === 64) raw = raw.subarray(0, 32);
      if (raw.length === 32) key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
      else key = createPrivateKey({ key: raw, format: 'der', type: 'pkcs8' });
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read the Ed25519 private key from ${source} (${(err as Error).message}): ${expected}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new UsageError(`the private key from ${source} is ${key.asymmetricKeyType ?? 'not an asymmetric key'}, not Ed25519`);
  }
  return key;
}

/** Ed25519 when a private key is given (Telnyx's own scheme), else HMAC with TELNYX_WEBHOOK_SECRET. */
export function resolveSigner(opts: { scheme: string; privateKey?: string; secret?: string }): Signer {
  const privateKey = opts.privateKey?.trim() ? opts.privateKey : undefined;
  const secret = opts.secret?.trim() ? opts.secret : undefined;
  const fromKey = (): Signer => {
    const key = loadEd25519PrivateKey(privateKey!);
    return { scheme: 'ed25519', privateKey: key, publicKeyB64: rawPublicKeyB64(key) };
  };
  switch (opts.scheme) {
    case 'ed25519':
      if (!privateKey) throw new UsageError('--scheme ed25519 needs --private-key <base64 seed | PEM file> or TELNYX_PRIVATE_KEY');
      return fromKey();
    case 'hmac':
      if (!secret) throw new UsageError('--scheme hmac needs TELNYX_WEBHOOK_SECRET (the same secret the runtime has)');
      return { scheme: 'hmac', secret };
    case 'auto':
      if (privateKey) return fromKey();
      if (secret) return { scheme: 'hmac', secret };
      throw new UsageError(
        'no signing key: the runtime rejects unsigned webhooks (401). Give one of:\n' +
          '  --private-key <base64 raw 32-byte Ed25519 seed | PKCS8 PEM file>  (or env TELNYX_PRIVATE_KEY;\n' +
          '      the runtime\'s TELNYX_PUBLIC_KEY must be its public key)\n' +
          '  TELNYX_WEBHOOK_SECRET=<secret>  (the local HMAC scheme; the runtime must have the same secret and\n' +
          '      TELNYX_WEBHOOK_HMAC_ENABLED=true, which production refuses)',
      );
    default:
      throw new UsageError(`--scheme must be auto, ed25519 or hmac, got "${opts.scheme}"`);
  }
}

// ---------------------------------------------------------------------------------------------
// The run

interface Outcome {
  ok: boolean;
  key: string;
  ms: number;
  error?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runLoadTest(opts: LoadTestOptions): Promise<LoadTestResult> {
  const target = new URL(opts.url);
  const isHttps = target.protocol === 'https:';
  const agentOpts = { keepAlive: true, maxSockets: opts.concurrency, maxFreeSockets: opts.concurrency };
  const agent = isHttps ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
  const request = isHttps ? https.request : http.request;

  const latency = new LatencyRecorder();
  const statuses: Record<string, number> = {};
  const sampleErrors: string[] = [];
  let requests = 0;
  let succeeded = 0;
  let initiated = 0;
  let hangups = 0;
  let unconfirmedHangups = 0;

  // Plain http goes through one lean keep-alive connection per worker (scripts/lib/keepalive-http.ts):
  // Node's http client would cost this process about as much CPU per request as the runtime spends.
  const connections: KeepAliveConnection[] = [];
  const requestHead = (rawBody: Buffer, headers: SignatureHeaders) => {
    let head = `POST ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\ncontent-type: application/json\r\ncontent-length: ${rawBody.length}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    return `${head}\r\n`;
  };
  const postLean = async (conn: KeepAliveConnection, rawBody: Buffer, headers: SignatureHeaders): Promise<Outcome> => {
    const t0 = performance.now();
    try {
      const res = await conn.request(requestHead(rawBody, headers), rawBody);
      const ok = res.status >= 200 && res.status < 300;
      return { ok, key: String(res.status), ms: performance.now() - t0, error: ok ? undefined : `HTTP ${res.status} ${res.body.toString('utf8').slice(0, 200)}` };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return { ok: false, key: e.code ?? 'error', ms: performance.now() - t0, error: e.code === 'timeout' ? e.message : `${e.code ?? ''} ${e.message}`.trim() };
    }
  };

  const post = (rawBody: Buffer, headers: SignatureHeaders, conn?: KeepAliveConnection): Promise<Outcome> =>
    conn ? postLean(conn, rawBody, headers) : new Promise((resolve) => {
      const t0 = performance.now();
      let settled = false;
      const done = (o: Omit<Outcome, 'ms'>) => {
        if (settled) return;
        settled = true;
        resolve({ ...o, ms: performance.now() - t0 });
      };
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': rawBody.length },
          timeout: opts.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < 512) chunks.push(c);
            size += c.length;
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const ok = status >= 200 && status < 300;
            done({ ok, key: String(status), error: ok ? undefined : `HTTP ${status} ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}` });
          });
          res.on('error', (err) => done({ ok: false, key: (err as NodeJS.ErrnoException).code ?? 'error', error: err.message }));
        },
      );
      req.on('timeout', () => {
        req.destroy();
        done({ ok: false, key: 'timeout', error: `no response within ${opts.timeoutMs} ms` });
      });
      req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, key: err.code ?? 'error', error: `${err.code ?? ''} ${err.message}`.trim() }));
      req.end(rawBody);
    });

  const send = async (eventType: string, payload: Record<string, unknown>, conn?: KeepAliveConnection): Promise<Outcome> => {
    const rawBody = Buffer.from(JSON.stringify(makeEvent(eventType, payload, { deliveredTo: opts.url })));
    const headers = opts.signer.scheme === 'ed25519' ? signEd25519(rawBody, opts.signer.privateKey) : signHmac(rawBody, opts.signer.secret);
    const o = await post(rawBody, headers, conn);
    requests += 1;
    statuses[o.key] = (statuses[o.key] ?? 0) + 1;
    latency.add(o.ms);
    if (o.ok) succeeded += 1;
    else if (o.error && sampleErrors.length < 5 && !sampleErrors.includes(o.error)) sampleErrors.push(o.error);
    return o;
  };

  // Pacing shared by all workers: one slot every 1/rps s; a stall is not made up by a burst.
  const interval = opts.rps ? 1000 / opts.rps : 0;
  let nextSlot = performance.now();
  const pace = async () => {
    if (!interval) return;
    const now = performance.now();
    const due = Math.max(nextSlot, now);
    nextSlot = due + interval;
    if (due > now) await sleep(due - now);
  };

  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + opts.durationSec * 1000;
  const running = () => performance.now() < deadline;

  const worker = async () => {
    const conn = isHttps ? undefined : new KeepAliveConnection({ host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port || 80), timeoutMs: opts.timeoutMs });
    if (conn) connections.push(conn);
    while (running()) {
      await pace();
      if (!running()) break;
      const callId = newCallControlId();
      const call = { call_control_id: callId, call_leg_id: randomUUID(), call_session_id: randomUUID(), from: opts.from, to: opts.to };
      initiated += 1;
      await send('call.initiated', { ...call, state: 'parked' }, conn);
      // Always hang up what we started: even a failed/timed-out initiated may have been accepted.
      let confirmed = false;
      for (let attempt = 1; attempt <= HANGUP_ATTEMPTS && !confirmed; attempt += 1) {
        if (attempt > 1) await sleep(200 * attempt);
        else if (running()) await pace();
        hangups += 1;
        const o = await send('call.hangup', { ...call, state: 'hangup', hangup_cause: 'normal_clearing', hangup_source: 'caller' }, conn);
        confirmed = o.ok;
        // 4xx will not change on retry (bad signature, bad request): stop there.
        if (/^4\d\d$/.test(o.key)) break;
      }
      if (!confirmed) unconfirmedHangups += 1;
    }
  };

  const progress = opts.onProgress
    ? setInterval(() => {
        const t = (performance.now() - started) / 1000;
        opts.onProgress!(`  t=${t.toFixed(0)}s requests=${requests} ok=${succeeded} failed=${requests - succeeded} (${(requests / t).toFixed(1)} req/s)`);
      }, 5000)
    : undefined;
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    if (progress) clearInterval(progress);
    agent.destroy();
    for (const c of connections) c.close();
  }

  const elapsedSec = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const failed = requests - succeeded;
  const errorRate = requests === 0 ? 1 : failed / requests;
  return {
    requests,
    succeeded,
    failed,
    errorRate,
    elapsedSec,
    reqPerSec: requests / elapsedSec,
    statuses,
    initiated,
    hangups,
    unconfirmedHangups,
    latencyMs: latency.summary(),
    sampleErrors,
    loadGeneratorCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    pass: requests > 0 && errorRate <= MAX_ERROR_RATE,
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

const HELP = `npm run load-test -- [options]

Sends signed Telnyx webhooks (call.initiated, then call.hangup for the same call) to a running runtime.

  --url <url>            target (default ${DEFAULT_URL})
  --concurrency <n>      concurrent requests / connections (default 10)
  --duration <seconds>   test duration (default 30)
  --rps <n>              target requests per second, all workers together (default: as fast as possible)
  --private-key <key>    Ed25519 private key: base64 of the raw 32-byte seed, or a PKCS8 PEM file
                         (env TELNYX_PRIVATE_KEY); the runtime's TELNYX_PUBLIC_KEY must be its public key
  --scheme <s>           auto (default: Ed25519 when a private key is given, else HMAC) | ed25519 | hmac
                         HMAC uses env TELNYX_WEBHOOK_SECRET (the runtime must have the same secret and
                         TELNYX_WEBHOOK_HMAC_ENABLED=true, a development switch production refuses)
  --to <number>          dialled number of the simulated calls (default +15551234567; map it to a tenant
                         to exercise tenant lookup and capacity caps)
  --from <number>        caller number (default +15550001111)
  --timeout <ms>         per-request timeout (default 10000)
  --json <file>          also write the result (the LOAD_TEST_RESULT object) to <file>

Exit code 0 when at most 10 % of requests failed (a 401 is a failure), 1 otherwise, 2 on bad usage.`;

function positive(name: string, v: string | undefined, def: number | undefined, integer: boolean): number | undefined {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${v}"`);
  }
  return n;
}

function fmtMs(ms: number): string {
  return Number.isNaN(ms) ? '-' : `${ms.toFixed(2)} ms`;
}

export function formatReport(r: LoadTestResult): string {
  const pct = (n: number) => (r.requests ? ((100 * n) / r.requests).toFixed(2) : '0.00');
  const statusLine = Object.entries(r.statuses)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} × ${n}`)
    .join(', ');
  const l = r.latencyMs;
  const lines = [
    '',
    `Requests:  ${r.requests} in ${r.elapsedSec.toFixed(2)} s  →  ${r.reqPerSec.toFixed(1)} req/s`,
    `Succeeded: ${r.succeeded} (${pct(r.succeeded)} %)   Failed: ${r.failed} (${pct(r.failed)} %)`,
    `Status:    ${statusLine || '-'}`,
    `Calls:     ${r.initiated} call.initiated, ${r.hangups} call.hangup${r.unconfirmedHangups ? `  (${r.unconfirmedHangups} hangups never acknowledged)` : ''}`,
    `Latency:   p50 ${fmtMs(l.p50)}  p95 ${fmtMs(l.p95)}  p99 ${fmtMs(l.p99)}  max ${fmtMs(l.max)}  (mean ${fmtMs(l.mean)})`,
    `Load generator CPU: ${r.loadGeneratorCpuMs} ms${r.requests ? ` (${((r.loadGeneratorCpuMs / r.requests) * 1000).toFixed(0)} µs per request)` : ''}`,
  ];
  if (r.sampleErrors.length) lines.push('Errors:', ...r.sampleErrors.map((e) => `  ${e}`));
  if (r.statuses['401']) {
    lines.push('Hint: 401 = the runtime rejected the signature: its TELNYX_PUBLIC_KEY must match --private-key, or its TELNYX_WEBHOOK_SECRET this one (with TELNYX_WEBHOOK_HMAC_ENABLED=true).');
  }
  lines.push(
    `Result:    ${r.pass ? 'PASS' : 'FAIL'} (error rate ${(r.errorRate * 100).toFixed(2)} %, limit ${MAX_ERROR_RATE * 100} %${r.requests === 0 ? ', no request completed' : ''})`,
  );
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  dotenv.config({ quiet: true });
  let opts: LoadTestOptions;
  let jsonFile: string | undefined;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        concurrency: { type: 'string' },
        duration: { type: 'string' },
        rps: { type: 'string' },
        'private-key': { type: 'string' },
        scheme: { type: 'string' },
        to: { type: 'string' },
        from: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const url = values.url ?? DEFAULT_URL;
    let parsedUrl: URL;
    try {
      parsedUrl = new URL(url);
    } catch {
      throw new UsageError(`--url is not a URL: "${url}"`);
    }
    if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') throw new UsageError(`--url must be http(s), got "${url}"`);
    const concurrency = positive('concurrency', values.concurrency, 10, true)!;
    if (concurrency > 10_000) throw new UsageError('--concurrency must be <= 10000');
    opts = {
      url,
      concurrency,
      durationSec: positive('duration', values.duration, 30, false)!,
      rps: positive('rps', values.rps, undefined, false),
      signer: resolveSigner({
        scheme: values.scheme ?? 'auto',
        privateKey: values['private-key'] ?? process.env.TELNYX_PRIVATE_KEY,
        secret: process.env.TELNYX_WEBHOOK_SECRET,
      }),
      to: values.to ?? '+15551234567',
      from: values.from ?? '+15550001111',
      timeoutMs: positive('timeout', values.timeout, 10_000, true)!,
      onProgress: (line) => console.error(line),
    };
    jsonFile = values.json;
  } catch (err) {
    const usage = err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    if (!usage) throw err;
    console.error(`load-test: ${(err as Error).message}\n(npm run load-test -- --help for usage)`);
    return 2;
  }

  const s = opts.signer;
  const signing = s.scheme === 'ed25519' ? `Ed25519 (public key ${s.publicKeyB64})` : 'HMAC (TELNYX_WEBHOOK_SECRET)';
  console.log(
    `load-test: POST ${opts.url} for ${opts.durationSec} s, concurrency ${opts.concurrency}, ` +
      `${opts.rps ? `target ${opts.rps} req/s` : 'no rate limit'}, signing ${signing}, calls to ${opts.to}`,
  );
  const envPublic = process.env.TELNYX_PUBLIC_KEY?.trim();
  if (s.scheme === 'ed25519' && envPublic && envPublic !== s.publicKeyB64) {
    console.error(`warning: TELNYX_PUBLIC_KEY in this environment (${envPublic}) is not the private key's public key: a runtime using it answers 401`);
  }
  const result = await runLoadTest(opts);
  console.log(formatReport(result));
  console.log(`LOAD_TEST_RESULT ${JSON.stringify(result)}`);
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  return result.pass ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`load-test: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exitCode = 1;
    },
  );
}
