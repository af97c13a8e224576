/**
 * bench:turn runtime process (forked by scripts/bench/turn.ts): boots ONE real runtime
 * (startRuntime: HTTP + media WebSocket + BullMQ workers) from the env the parent sends, so the
 * runtime has its event loop to itself as in production, while the caller simulation and the
 * instant fakes run in the parent.
 *
 * Stage timestamps without touching src/: after boot it wraps a few instance methods (the
 * conversation registry's attach/onBus, the TTS queue's add) and the per-call socket's send, and
 * records high-resolution epoch times (performance.timeOrigin + performance.now(), comparable with
 * the parent's) into an in-memory list the parent fetches at the end (`dump`), so nothing is sent
 * over IPC on the measured path. Also: the 'turn' log lines, the event-loop delay, Silero stats,
 * and an optional CPU profile (inspector). Exits on `stop`, parent disconnect, or its hard deadline.
 */
import { writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/lib/config';
import { createLogger } from '../../src/lib/logger';
import type { BusMessage } from '../../src/lib/call-bus';
import { startRuntime, type Runtime } from '../../src/runtime';

type Msg =
  | { cmd: 'boot'; env: Record<string, string | undefined>; deadlineMs: number; profile?: boolean }
  | { cmd: 'dump' }
  | { cmd: 'profile-stop'; file: string }
  | { cmd: 'stop' };

export type StageEvent =
  | { type: 'final'; id: string; at: number; endpointAt: number; speechEndAt: number; transcriptAt: number }
  | { type: 'speechStarted'; id: string; at: number }
  | { type: 'ttsAdd'; id: string; turnId: number; index: number; at: number; doneAt: number }
  | { type: 'ttsReady'; id: string; turnId: number; index: number; fileName: string; at: number }
  | { type: 'mediaSent'; id: string; at: number }
  | { type: 'clearSent'; id: string; at: number }
  /** A Redis command on the runtime's request connection or a file operation (start `at`, end `doneAt`). */
  | { type: 'op'; id: ''; op: string; what: string; at: number; doneAt: number };

const hr = () => performance.timeOrigin + performance.now();
const send = (m: unknown) => process.send?.(m);

let rt: Runtime | undefined;
let inspector: Session | undefined;
const events: StageEvent[] = [];
const turnLogs: Record<string, unknown>[] = [];
const warnings: string[] = [];
let vadFellBack = false;
const eld = monitorEventLoopDelay({ resolution: 1 });

/** info logs: 'turn' lines kept for the parent; warn+ kept (first 50) and flagged. */
const logSink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        if (o.msg === 'turn') turnLogs.push(o);
        if (o.msg === 'Silero VAD degraded' && String(o.reason).includes('energy VAD')) vadFellBack = true;
        if (o.level === 'warn' || o.level === 'error' || o.level === 'fatal') {
          if (warnings.length < 50) warnings.push(line.slice(0, 400));
        }
      } catch {
        /* not JSON */
      }
    }
    cb();
  },
});

function post<T = unknown>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => inspector!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
}

/** Wraps instance methods (looked up at call time by the runtime's closures) to timestamp stages. */
function instrument(r: Runtime): void {
  const conv = r.conversations!;
  const attach = conv.attach.bind(conv);
  conv.attach = (call, tenant, socket, speech) => {
    const id = call.callControlId;
    const wrapped = {
      send(text: string) {
        // Exact prefixes of buildMedia / buildClear (src/lib/telnyx/media-protocol.ts).
        if (text.startsWith('{"event":"media"')) {
          const t = hr();
          const last = lastMediaAt.get(id);
          // Only the first message of a burst is interesting (gap > 150 ms: a new reply or resumed audio).
          if (last === undefined || t - last > 150) events.push({ type: 'mediaSent', id, at: t });
          lastMediaAt.set(id, t);
        } else if (text === '{"event":"clear"}') events.push({ type: 'clearSent', id, at: hr() });
        socket.send(text);
      },
    };
    const l = attach(call, tenant, wrapped, speech);
    const final = l.final;
    l.final = (text, timings) => {
      events.push({ type: 'final', id, at: hr(), endpointAt: timings.endpointAt, speechEndAt: timings.speechEndAt, transcriptAt: timings.transcriptAt });
      final(text, timings);
    };
    const started = l.speechStarted;
    l.speechStarted = (...a: Parameters<typeof started>) => {
      events.push({ type: 'speechStarted', id, at: hr() });
      started(...a);
    };
    return l;
  };
  const lastMediaAt = new Map<string, number>();
  const onBus = conv.onBus.bind(conv);
  conv.onBus = (m: BusMessage) => {
    if (m.type === 'tts_ready') events.push({ type: 'ttsReady', id: m.callId, turnId: m.turnId, index: m.index, fileName: m.fileName, at: hr() });
    onBus(m);
  };
  // Redis commands of the TTS path on the shared request connection (cache GET/SET, bus PUBLISH).
  const redis = r.redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const op of ['get', 'set', 'publish'] as const) {
    const orig = redis[op]!.bind(r.redis);
    redis[op] = (...a: unknown[]) => {
      const key = String(a[0]);
      if (op !== 'publish' && !key.includes(':tts:')) return orig(...a);
      // set/publish: the value names the segment's file (attribution); get: the key.
      const what = op === 'get' ? key : String(a[1]).slice(0, 400);
      const at = hr();
      const p = orig(...a);
      void p.then(
        () => events.push({ type: 'op', id: '', op, what, at, doneAt: hr() }),
        () => undefined,
      );
      return p;
    };
  }
  // File operations of the TTS path (synthesize.ts writes, stream-voice.ts reads): the modules call
  // them through the fs/promises module object, so patching its properties reaches them.
  const fsMod = fsp as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const op of ['writeFile', 'rename', 'readFile', 'mkdir'] as const) {
    const orig = fsMod[op]!;
    fsMod[op] = (...a: unknown[]) => {
      const at = hr();
      const p = orig(...a);
      void p.then(
        () => events.push({ type: 'op', id: '', op, what: path.basename(String(a[0])), at, doneAt: hr() }),
        () => undefined,
      );
      return p;
    };
  }
  const q = r.queues.tts;
  const add = q.add.bind(q) as (...a: unknown[]) => Promise<unknown>;
  (q as unknown as { add: (...a: unknown[]) => Promise<unknown> }).add = async (...a: unknown[]) => {
    const at = hr();
    const res = await add(...a);
    const d = a[1] as { callControlId?: string; turnId?: number; index?: number };
    if (typeof d?.turnId === 'number') events.push({ type: 'ttsAdd', id: String(d.callControlId), turnId: d.turnId, index: d.index ?? 0, at, doneAt: hr() });
    return res;
  };
}

process.on('message', (m: Msg) => {
  void (async () => {
    switch (m.cmd) {
      case 'boot': {
        setTimeout(() => {
          process.stderr.write('bench:turn runtime: hard deadline reached, exiting\n');
          process.exit(3);
        }, m.deadlineMs).unref();
        const config = loadConfig(m.env as NodeJS.ProcessEnv);
        rt = await startRuntime(config, createLogger({ level: config.LOG_LEVEL, destination: logSink }), { defaultMetrics: false });
        instrument(rt);
        if (m.profile) {
          inspector = new Session();
          inspector.connect();
          await post('Profiler.enable');
          await post('Profiler.setSamplingInterval', { interval: 250 });
          await post('Profiler.start');
        }
        eld.enable();
        send({ type: 'booted', url: rt.url, pid: process.pid, vadMode: config.VAD_MODE, vadFellBack });
        return;
      }
      case 'dump': {
        let silero: Record<string, number> | undefined;
        const vadFrames = rt ? await rt.metrics.registry.getSingleMetric('vad_frames_total')?.get() : undefined;
        // Counted as streams end (vad_frames_total): the calls of this run have ended by the dump.
        if (vadFrames) silero = Object.fromEntries(vadFrames.values.map((v) => [String(v.labels.outcome), v.value]));
        const metrics = rt ? await rt.metrics.registry.getSingleMetricAsString('turn_latency_seconds') : '';
        send({
          type: 'dump',
          events,
          turnLogs,
          warnings,
          vadFellBack,
          silero,
          metrics,
          eld: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6, mean: eld.mean / 1e6 },
        });
        return;
      }
      case 'profile-stop': {
        if (!inspector) return send({ type: 'profile-stopped' });
        const { profile } = await post<{ profile: unknown }>('Profiler.stop');
        await post('Profiler.disable');
        inspector.disconnect();
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
    process.stderr.write(`bench:turn runtime: ${(err as Error).stack ?? String(err)}\n`);
    send({ type: 'error', message: String((err as Error).message ?? err) });
  });
});

process.on('disconnect', () => process.exit(0));
