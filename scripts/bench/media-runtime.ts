/**
 * bench:media runtime process (forked by scripts/bench/media.ts): boots ONE real runtime
 * (startRuntime, HTTP + media WebSocket + workers) from the env the parent sends, and answers the
 * parent's IPC probes with what only this process can measure: event-loop delay
 * (perf_hooks.monitorEventLoopDelay, reset per step), event-loop utilisation, CPU, RSS, and the
 * runtime's own media_frames_total counters. Exits on `stop`, on parent disconnect, or at the
 * hard deadline it is given.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/lib/config';
import { createLogger } from '../../src/lib/logger';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime';
import type { CallInputListener } from '../../src/media/ports';

type Msg =
  | { cmd: 'profile-start' }
  | { cmd: 'profile-stop'; file: string }
  | { cmd: 'boot'; env: Record<string, string | undefined>; resolutionMs: number; deadlineMs: number; conversation: boolean; floor?: 'ws' | 'parse' } | { cmd: 'reset' } | { cmd: 'sample'; id: number } | { cmd: 'stop' };

let rt: Runtime | undefined;
let resolutionMs = 10;
let eld = monitorEventLoopDelay({ resolution: resolutionMs });
let cpu0 = process.cpuUsage();
let t0 = performance.now();
let elu0 = performance.eventLoopUtilization();
let logLines = 0;
let inspector: Session | undefined;
/** Floor mode: frames received by the bare WebSocket server (no runtime). */
let floorFrames = 0;

/**
 * Transport floor (--floor): a bare http + ws server with the runtime's WebSocket options that only
 * counts frames ('ws') or also JSON-parses and base64-decodes them ('parse'). What Node + ws cost
 * per frame on this machine before any runtime code runs.
 */
async function startFloor(kind: 'ws' | 'parse'): Promise<string> {
  const server = http.createServer((_req, res) => res.end());
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
  const scratch = Buffer.alloc(4096);
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        if (kind === 'parse') {
          const m = JSON.parse(data.toString()) as { event?: string; media?: { payload?: string } };
          if (m.event !== 'media') return;
          scratch.write(m.media?.payload ?? '', 'base64');
        } else if (data.toString().charCodeAt(10) !== 109) return; // '{"event":"m…' = media
        floorFrames += 1;
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function post<T = unknown>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => inspector!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
}

const send = (m: unknown) => process.send?.(m);

/** Caller-input events the (ingest-only) listener saw. */
const heard: Record<string, number> = {};

/**
 * Ingest-only mode: caller input goes to a counting no-op listener instead of the conversation
 * layer (no brain, TTS or playback), so the bench measures media ingest + STT alone. A Proxy so
 * any method the listener contract grows is a counted no-op too.
 */
const countingListener = new Proxy(
  {},
  {
    get: (_t, prop) => (typeof prop === 'string' ? () => void (heard[prop] = (heard[prop] ?? 0) + 1) : undefined),
  },
);

/** warn+ logs go to stderr (first 30 lines) and are counted: a quiet bench run logs nothing. */
const logSink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      logLines += 1;
      if (logLines <= 30) process.stderr.write(`[runtime log] ${line.slice(0, 400)}\n`);
    }
    cb();
  },
});

async function counters(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (!rt) return { decoded: floorFrames };
  for (const v of (await rt.metrics.mediaFrames.get()).values) out[String(v.labels.outcome)] = v.value;
  return out;
}

async function utteranceCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (!rt) return out;
  for (const v of (await rt.metrics.utterances.get()).values) out[String(v.labels.outcome)] = v.value;
  return out;
}

async function sttCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (!rt?.metrics.sttRequests) return out;
  for (const v of (await rt.metrics.sttRequests.get()).values) {
    if (!String(v.metricName).endsWith('_count')) continue;
    const k = `${v.labels.kind}:${v.labels.outcome}`;
    out[k] = (out[k] ?? 0) + v.value;
  }
  return out;
}

process.on('message', (m: Msg) => {
  void (async () => {
    switch (m.cmd) {
      case 'boot': {
        resolutionMs = m.resolutionMs;
        setTimeout(() => {
          process.stderr.write('bench runtime: hard deadline reached, exiting\n');
          process.exit(3);
        }, m.deadlineMs).unref();
        if (m.floor) {
          const url = await startFloor(m.floor);
          eld = monitorEventLoopDelay({ resolution: resolutionMs });
          eld.enable();
          send({ type: 'booted', url, pid: process.pid, rss: process.memoryUsage().rss, vad: `none (transport floor: ${m.floor})` });
          return;
        }
        const config = loadConfig(m.env as NodeJS.ProcessEnv);
        const opts: RuntimeOptions = { defaultMetrics: false };
        if (!m.conversation) opts.listenerFor = () => countingListener as CallInputListener;
        rt = await startRuntime(config, createLogger({ level: 'warn', destination: logSink }), opts);
        eld = monitorEventLoopDelay({ resolution: resolutionMs });
        eld.enable();
        send({ type: 'booted', url: rt.url, pid: process.pid, rss: process.memoryUsage().rss, vad: config.VAD_MODE });
        return;
      }
      case 'reset':
        eld.reset();
        cpu0 = process.cpuUsage();
        t0 = performance.now();
        elu0 = performance.eventLoopUtilization();
        send({ type: 'reset' });
        return;
      case 'sample': {
        const wallMs = performance.now() - t0;
        const c = process.cpuUsage(cpu0);
        const elu = performance.eventLoopUtilization(elu0);
        const ms = (ns: number) => ns / 1e6;
        const mem = process.memoryUsage();
        send({
          type: 'sample',
          id: m.id,
          wallMs,
          eld: {
            count: eld.count,
            p50: ms(eld.percentile(50)),
            p99: ms(eld.percentile(99)),
            max: ms(eld.max),
            mean: ms(eld.mean),
            resolutionMs,
          },
          cpuPct: ((c.user + c.system) / 1000 / wallMs) * 100,
          userPct: (c.user / 1000 / wallMs) * 100,
          eluPct: elu.utilization * 100,
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          external: mem.external,
          arrayBuffers: mem.arrayBuffers,
          sessions: rt?.liveCalls?.size ?? 0,
          frames: await counters(),
          stt: await sttCounts(),
          utterances: await utteranceCounts(),
          logLines,
          heard: { ...heard },
        });
        return;
      }
      case 'profile-start':
        inspector ??= new Session();
        inspector.connect();
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 1000 });
        await post('Profiler.start');
        send({ type: 'profile-started' });
        return;
      case 'profile-stop': {
        const { profile } = await post<{ profile: unknown }>('Profiler.stop');
        await post('Profiler.disable');
        inspector?.disconnect();
        writeFileSync(m.file, JSON.stringify(profile));
        send({ type: 'profile-stopped', file: m.file });
        return;
      }
      case 'stop': {
        setTimeout(() => process.exit(0), 5000).unref();
        await rt?.close().catch(() => undefined);
        process.exit(0);
      }
    }
  })().catch((err: unknown) => {
    process.stderr.write(`bench runtime: ${(err as Error).stack ?? String(err)}\n`);
    send({ type: 'error', message: String((err as Error).message ?? err) });
  });
});

process.on('disconnect', () => process.exit(0));
