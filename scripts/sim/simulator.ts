/**
 * Telnyx simulator: plays the Telnyx side of phone calls against a runtime, on loopback.
 *
 * - **Call Control API** (call-control-api.ts): records every command and answers like Telnyx
 *   (`{"data":{"result":"ok"}}`, 422/90018 once a call has ended), then posts the follow-up
 *   webhooks Telnyx would: `call.answered` after `answer` (plus `streaming.started` once the media
 *   stream is up), `call.playback.started/ended` after `playback_start` (the audio_url is fetched and
 *   its WAV parsed: the end comes after its real duration; queued like Telnyx, `stop` honoured),
 *   `call.playback.ended` at once on `playback_stop`, `call.speak.started/ended` for `speak`
 *   (duration from the text, or a synthesizer), `call.hangup` after `hangup`; `streaming_start`
 *   reconnects the media stream (new codec), `streaming_stop` closes it.
 * - **Webhooks** are signed with Ed25519 (`telnyx-signature-ed25519` over `${timestamp}|${body}`) with
 *   the simulator's key (pass `publicKeyB64` as the runtime's TELNYX_PUBLIC_KEY) and optionally the
 *   local HMAC scheme too; posted in order per call, retried like Telnyx on network errors/5xx
 *   (same `data.id`, `meta.attempt` + 1).
 * - **Media**: connects to the `stream_url` of `answer`, sends `connected` + `start`, then streams
 *   the caller's audio in real time (20 ms frames on absolute due times shared by all calls) in the
 *   call's codec (PCMU/PCMA 8 kHz, G722/OPUS/L16 16 kHz), plays back what the runtime sends
 *   (media-client.ts: marks echoed once played, clear obeyed) and can record both sides.
 * - **Callers** follow a script: say an utterance, pause, wait until the agent has answered and
 *   gone quiet, hang up. `placeCall()` sends `call.initiated` and resolves once the call is answered
 *   and its media stream is up.
 *
 * The call itself and its types are in sim-call.ts, the caller's script runner in caller-runner.ts.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { createEncoder, nativeRate, normalizeEncoding } from '../../src/media/audio/codecs';
import { parseWav } from '../../src/lib/audio/wav';
import { CallerRunner } from './caller-runner';
import { startCallControlApi, type CallControlApi, type RecordedCommand } from './call-control-api';
import { MediaStreamClient } from './media-client';
import { generateTestKeyPair, newCallControlId, signEd25519, signHmac, type TestKeyPair } from './signing';
import { callerRate, FRAME_MS, SIM_CODECS, SimCall, type CallHost, type Playback, type PlaceCallOptions, type SimCodec, type SimEvent, type WebhookResult } from './sim-call';

export { callerRate, SIM_CODECS, SimCall } from './sim-call';
export type { CallerAudio, CallerStep, PlaceCallOptions, SimCodec, SimEvent, WebhookResult } from './sim-call';

/** The pacer wakes this often and sends every frame that is due. */
const TICK_MS = 5;
/** A call more than this behind (event-loop stall) skips ahead instead of bursting. */
const MAX_BEHIND_MS = 500;

export interface SimulatorOptions {
  /** The runtime's webhook URL, e.g. http://127.0.0.1:3000/v1/telnyx/webhook */
  webhookUrl: string;
  /** Signing key; default: a fresh one, or deterministic from `keySeedHex` (32 bytes hex). */
  keys?: TestKeyPair;
  keySeedHex?: string;
  /** Also sign with the local HMAC scheme (the runtime's TELNYX_WEBHOOK_SECRET). */
  hmacSecret?: string;
  /** Bearer key the Call Control API accepts (the runtime's TELNYX_API_KEY; default KEY_sim). */
  apiKey?: string;
  /** Call Control API listen address (default 127.0.0.1:0). */
  host?: string;
  port?: number;
  /** Origin (http://host:port) replacing the origin of stream_url / audio_url (a runtime behind a public URL). */
  runtimeOrigin?: string;
  /** Header carrying the media token when a stream_url has none (`x-telnyx-streaming-auth-token`). */
  mediaToken?: string;
  connectionId?: string;
  /** Synthesizes `speak` payloads for recordings (default: silence of the estimated length). */
  speakSynth?: (text: string) => Promise<{ samples: Int16Array; sampleRate: number }>;
  webhookTimeoutMs?: number;
  webhookRetries?: number;
  /** Keep at most this many recorded commands in `api.requests` (load tests). */
  maxRecordedCommands?: number;
}

export class TelnyxSimulator implements CallHost {
  readonly api: CallControlApi;
  readonly keys: TestKeyPair;
  readonly calls = new Map<string, SimCall>();
  private readonly listeners = new Set<(e: SimEvent) => void>();
  private readonly streaming = new Set<SimCall>();
  private pacer: NodeJS.Timeout | undefined;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private closed = false;

  private constructor(
    private readonly opts: SimulatorOptions,
    api: CallControlApi,
    keys: TestKeyPair,
  ) {
    this.api = api;
    this.keys = keys;
  }

  static async start(opts: SimulatorOptions): Promise<TelnyxSimulator> {
    const keys = opts.keys ?? generateTestKeyPair(opts.keySeedHex);
    const api = await startCallControlApi({ apiKey: opts.apiKey ?? 'KEY_sim', host: opts.host, port: opts.port, maxRecorded: opts.maxRecordedCommands });
    const sim = new TelnyxSimulator(opts, api, keys);
    api.setOnAction((cmd) => sim.onCommand(cmd));
    return sim;
  }

  /** TELNYX_API_BASE_URL for the runtime. */
  get apiBaseUrl(): string {
    return this.api.baseUrl;
  }

  /** TELNYX_API_KEY for the runtime. */
  get apiKey(): string {
    return this.api.apiKey;
  }

  /** TELNYX_PUBLIC_KEY for the runtime. */
  get publicKeyB64(): string {
    return this.keys.publicKeyB64;
  }

  onEvent(listener: (e: SimEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: SimEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        console.error('telnyx simulator: event listener failed', err);
      }
    }
    e.call.emit(e.type, e);
  }

  /**
   * Places an inbound call: signed `call.initiated` → waits for `answer` → `call.answered` and the
   * media stream (connected + start, then the caller's audio in real time). Resolves with the call
   * once answered (with its stream up, when the answer asked for one); rejects when the webhook is
   * refused or no answer comes. A call answered without a stream (a refusal message) resolves too.
   */
  async placeCall(o: PlaceCallOptions): Promise<SimCall> {
    if (this.closed) throw new Error('simulator closed');
    const codec = o.codec ?? 'PCMU';
    if (!SIM_CODECS.includes(codec)) throw new Error(`unsupported codec ${codec} (use ${SIM_CODECS.join('/')})`);
    const call = new SimCall(newCallControlId(), { ...o, codec }, this);
    this.calls.set(call.id, call);
    const timeoutMs = o.answerTimeoutMs ?? 15_000;
    const answered = new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        clearTimeout(timer);
        call.off('answered_internal', onAnswered);
        call.off('ended', onEnded);
        if (err) reject(err);
        else resolve();
      };
      const onAnswered = () => settle();
      const onEnded = () => settle(new Error(`call ${call.id} ended before it was answered`));
      const timer = setTimeout(() => settle(new Error(`no answer for ${call.id} within ${timeoutMs} ms`)), timeoutMs);
      call.on('answered_internal', onAnswered);
      call.on('ended', onEnded);
    });
    answered.catch(() => undefined);
    call.initiatedAt = performance.now();
    const r = await this.webhook(call, 'call.initiated', { state: 'parked', start_time: new Date().toISOString() });
    if (r.status < 200 || r.status >= 300) {
      this.forget(call);
      throw new Error(`call.initiated refused: ${r.status}${r.error ? ` ${r.error}` : ''}`);
    }
    try {
      await answered;
    } catch (err) {
      if (call.isUp) await this.endCall(call, 'caller').catch(() => undefined);
      throw err;
    }
    return call;
  }

  /** Posts a signed webhook for a call (in order with the call's others). Exposed for tests (e.g. call.dtmf.received). */
  webhook(call: SimCall, eventType: string, payload: Record<string, unknown> = {}): Promise<WebhookResult> {
    const body = {
      data: {
        event_type: eventType,
        id: randomUUID(),
        occurred_at: new Date().toISOString(),
        payload: {
          call_control_id: call.id,
          call_leg_id: call.legId,
          call_session_id: call.sessionId,
          connection_id: this.opts.connectionId ?? '1494404757140276705',
          direction: 'incoming',
          from: call.from,
          to: call.to,
          state: call.state === 'initiated' ? 'parked' : call.state === 'ended' ? 'hangup' : 'answered',
          ...(call.clientState !== undefined ? { client_state: call.clientState } : {}),
          ...payload,
        },
        record_type: 'event',
      },
      meta: { attempt: 1, delivered_to: this.opts.webhookUrl },
    };
    const p = call.webhookChain.then(() => this.deliver(call, eventType, body));
    call.webhookChain = p.catch(() => undefined);
    return p;
  }

  private async deliver(call: SimCall, eventType: string, event: { meta: { attempt: number } }): Promise<WebhookResult> {
    const retries = this.opts.webhookRetries ?? 3;
    const t0 = performance.now();
    let last: WebhookResult = { status: 0, ms: 0, attempts: 0 };
    for (let attempt = 1; attempt <= retries + 1; attempt += 1) {
      event.meta.attempt = attempt;
      const raw = Buffer.from(JSON.stringify(event));
      const headers: Record<string, string> = { 'content-type': 'application/json', ...signEd25519(raw, this.keys.privateKey) };
      if (this.opts.hmacSecret) Object.assign(headers, signHmac(raw, this.opts.hmacSecret, Number(headers['telnyx-timestamp'])));
      const started = performance.now();
      let status = 0;
      let error: string | undefined;
      try {
        status = await this.post(raw, headers);
      } catch (err) {
        error = (err as Error).message;
      }
      call.webhooksSent += 1;
      last = { status, ms: performance.now() - t0, attempts: attempt, ...(error ? { error } : {}) };
      this.emit({ type: 'webhook', call, eventType, status, ms: performance.now() - started, attempt, ...(error ? { error } : {}) });
      const retryable = status === 0 || status >= 500 || status === 408 || status === 429;
      if (!retryable || attempt > retries || this.closed) break;
      await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
    }
    if (last.status < 200 || last.status >= 300) call.webhookFailures += 1;
    return last;
  }

  private post(raw: Buffer, headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request(this.opts.webhookUrl, { method: 'POST', agent: this.agent, headers: { ...headers, 'content-length': String(raw.length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.setTimeout(this.opts.webhookTimeoutMs ?? 10_000, () => req.destroy(new Error('webhook timed out')));
      req.on('error', reject);
      req.end(raw);
    });
  }

  // --- Call Control commands -------------------------------------------------------------------

  private async onCommand(cmd: RecordedCommand): Promise<void> {
    const call = this.calls.get(cmd.callControlId);
    if (!call || cmd.status !== 200) return;
    call.commands.push(cmd);
    if (typeof cmd.body.client_state === 'string') call.clientState = cmd.body.client_state;
    this.emit({ type: 'command', call, action: cmd.action, body: cmd.body });
    if (!call.isUp) return;
    switch (cmd.action) {
      case 'answer':
        return this.onAnswer(call, cmd);
      case 'playback_start':
        return this.onPlaybackStart(call, cmd.body);
      case 'playback_stop':
        return this.onPlaybackStop(call, cmd.body);
      case 'speak':
        return this.onSpeak(call, cmd.body);
      case 'hangup':
        return this.endCall(call, 'runtime');
      case 'streaming_start':
        await this.connectMedia(call, cmd.body, true);
        return;
      case 'streaming_stop':
        this.closeMedia(call);
        await this.webhook(call, 'streaming.stopped', {});
        return;
      default:
        return; // transfer, send_dtmf, gather, record_*: recorded only
    }
  }

  private async onAnswer(call: SimCall, cmd: RecordedCommand): Promise<void> {
    if (call.state !== 'initiated') return; // a repeated answer (same command_id) changes nothing
    call.state = 'answered';
    call.answerAt = cmd.at;
    if (call.initiatedAt !== undefined) call.setupMs = cmd.at - call.initiatedAt;
    const answered = this.webhook(call, 'call.answered', { start_time: new Date().toISOString() });
    if (typeof cmd.body.stream_url === 'string') {
      await this.connectMedia(call, cmd.body, false);
    }
    await answered;
    call.emit('answered_internal');
  }

  private rewrite(url: string, ws: boolean): string {
    const origin = this.opts.runtimeOrigin;
    if (!origin) return url;
    const u = new URL(url);
    const o = new URL(origin);
    const tls = o.protocol === 'https:' || o.protocol === 'wss:';
    u.protocol = ws ? (tls ? 'wss:' : 'ws:') : tls ? 'https:' : 'http:';
    u.host = o.host;
    return u.toString();
  }

  private async connectMedia(call: SimCall, body: Record<string, unknown>, restart: boolean): Promise<void> {
    const streamUrl = typeof body.stream_url === 'string' ? body.stream_url : undefined;
    if (!streamUrl) return;
    const requested = normalizeEncoding(String(body.stream_codec ?? ''));
    const codec: SimCodec = requested && (SIM_CODECS as readonly string[]).includes(requested) ? (requested as SimCodec) : call.codec;
    const bidi = normalizeEncoding(String(body.stream_bidirectional_codec ?? '')) ?? codec;
    const bidiRate = typeof body.stream_bidirectional_sampling_rate === 'number' ? body.stream_bidirectional_sampling_rate : undefined;
    const url = this.rewrite(streamUrl, true);
    const headers = !new URL(url).searchParams.has('token') && this.opts.mediaToken ? { 'x-telnyx-streaming-auth-token': this.opts.mediaToken } : undefined;
    const t0 = performance.now();
    let client: MediaStreamClient | undefined;
    let lastErr = '';
    for (let attempt = 0; attempt < 2 && call.isUp && !client; attempt += 1) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 500));
      try {
        client = await MediaStreamClient.connect({
          url,
          headers,
          callControlId: call.id,
          encoding: codec,
          sampleRate: callerRate(codec),
          playback: true,
          from: call.from,
          to: call.to,
          callSessionId: call.sessionId,
          clientState: call.clientState,
          agentEncoding: bidi,
          agentSampleRate: bidi === 'L16' && bidiRate ? bidiRate : nativeRate(bidi),
          keepAgentAudio: false,
          onAgentAudio: (pcm, rate, playAt) => {
            call.lastAgentAudioAt = performance.now();
            if (playAt > call.agentBusyUntil + 50) this.agentSpurt(call, playAt);
            const ms = (pcm.length * 1000) / rate;
            call.agentBusyUntil = Math.max(call.agentBusyUntil, playAt + ms);
            call.agentAudioMs += ms;
            call.recorder?.agent.add(pcm, rate, playAt);
          },
          onClear: (at) => {
            call.agentBusyUntil = at;
            call.recorder?.agent.truncateAfter(at);
          },
        });
      } catch (err) {
        lastErr = (err as Error).message;
      }
    }
    if (!client) {
      call.mediaErrors.push(lastErr);
      this.emit({ type: 'media_failed', call, error: lastErr });
      await this.webhook(call, 'streaming.failed', { failure_reason: lastErr, stream_params: { stream_url: streamUrl } });
      return;
    }
    if (!call.isUp) {
      client.terminate();
      return;
    }
    const old = call.media;
    call.media = client;
    call.mediaStreams += 1;
    call.mediaCodec = codec;
    call.agentCodec = bidi;
    call.encoder?.close();
    call.encoder = createEncoder(codec, { sampleRate: callerRate(codec) });
    const c = client;
    client.ws.on('close', (code, reason) => {
      const expected = call.media !== c || !call.isUp;
      if (!expected) {
        call.unexpectedCloses.push({ code, reason: reason.toString() });
        call.media = undefined;
        this.streaming.delete(call);
        this.collectMediaStats(call, c);
      }
      this.emit({ type: 'media_closed', call, code, reason: reason.toString(), expected });
    });
    if (old) {
      old.stop();
      void old.close().then(() => this.collectMediaStats(call, old));
    }
    client.start();
    const now = performance.now();
    call.mediaOpenAt ??= now;
    if (!restart && call.answerAt !== undefined) call.mediaConnectMs = now - call.answerAt;
    this.emit({ type: 'media_connected', call, codec, ms: now - t0, restart });
    if (!call.runner) {
      call.runner = new CallerRunner(call.callerAudio, callerRate(codec), call, (e) => this.emit(e));
      if (call.recorder) call.recorder.t0 = now;
      const max = call.maxDurationMs;
      if (max !== undefined) call.later(max, () => void this.endCall(call, 'caller'));
    } else {
      call.runner.setRate(callerRate(codec));
    }
    call.nextFrameAt = now;
    this.streaming.add(call);
    this.ensurePacer();
    void this.webhook(call, 'streaming.started', { stream_url: streamUrl });
  }

  private agentSpurt(call: SimCall, at: number): void {
    call.agentSpurts.push(at);
    this.emit({ type: 'agent_audio', call, at });
  }

  private closeMedia(call: SimCall): void {
    this.streaming.delete(call);
    const m = call.media;
    call.media = undefined;
    if (m) {
      m.stop();
      void m.close().then(() => this.collectMediaStats(call, m));
    }
  }

  /** Adds a finished stream's counters to the call's. */
  private collectMediaStats(call: SimCall, m: MediaStreamClient): void {
    call.marksReceived += m.marksReceived;
    call.marksEchoed += m.marksEchoed;
    call.clears += m.clears;
    call.agentMessages += m.agentMessages;
  }

  // --- caller audio pacing -------------------------------------------------------------------------

  private ensurePacer(): void {
    if (this.pacer || this.closed) return;
    this.pacer = setInterval(() => this.tick(), TICK_MS);
  }

  private tick(): void {
    const now = performance.now();
    for (const call of this.streaming) {
      const m = call.media;
      const enc = call.encoder;
      if (!m || !enc || !call.runner || !m.isOpen) continue;
      if (now - call.nextFrameAt > MAX_BEHIND_MS) {
        const skip = Math.floor((now - call.nextFrameAt) / FRAME_MS);
        call.framesSkipped += skip;
        call.nextFrameAt += skip * FRAME_MS;
      }
      while (call.nextFrameAt <= now) {
        const frame = call.runner.next(call.nextFrameAt);
        if (frame === null) {
          this.streaming.delete(call);
          void this.endCall(call, 'caller');
          break;
        }
        m.sendMedia(enc.encode(frame), FRAME_MS);
        call.framesSent += 1;
        if (call.lastFrameStream !== m) {
          if (call.lastFrameStream !== undefined) call.streamSwitchGapsMs.push(now - call.lastFrameSentAt!);
          call.lastFrameStream = m;
        }
        call.lastFrameSentAt = now;
        call.recorder?.caller.add(frame, callerRate(call.mediaCodec), call.nextFrameAt);
        call.nextFrameAt += FRAME_MS;
      }
    }
    if (this.streaming.size === 0 && this.pacer) {
      clearInterval(this.pacer);
      this.pacer = undefined;
    }
  }

  // --- playback by URL, speak ----------------------------------------------------------------------

  private onPlaybackStart(call: SimCall, body: Record<string, unknown>): void {
    const url = String(body.audio_url ?? body.media_url ?? '');
    if (body.stop === 'current' || body.stop === 'all') this.stopPlayback(call, body.stop === 'all');
    const p: Playback = { url, rate: 8000, durationMs: 0, fetching: true, cancelled: false };
    call.playQueue.push(p);
    void this.fetchAudio(call, p).then(() => this.pumpPlayback(call));
  }

  private async fetchAudio(call: SimCall, p: Playback): Promise<void> {
    try {
      const res = await fetch(this.rewrite(p.url, false), { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const wav = parseWav(Buffer.from(await res.arrayBuffer()));
      p.samples = wav.samples;
      p.rate = wav.sampleRate;
      p.durationMs = wav.durationMs;
    } catch (err) {
      call.mediaErrors.push(`audio_url ${p.url}: ${(err as Error).message}`);
      p.durationMs = -1;
    } finally {
      p.fetching = false;
    }
  }

  /** Starts the head of the queue when it is fetched and nothing plays. */
  private pumpPlayback(call: SimCall): void {
    const head = call.playQueue[0];
    if (!head || head.fetching || head.startedAt !== undefined || !call.isUp) return;
    if (head.cancelled) {
      call.playQueue.shift();
      return this.pumpPlayback(call);
    }
    const now = performance.now();
    if (head.durationMs < 0) {
      call.playQueue.shift();
      call.playbacks.push({ url: head.url, durationMs: 0, status: 'file_not_found' });
      void this.webhook(call, 'call.playback.ended', { media_url: head.url, overlay: false, status: 'file_not_found' });
      return this.pumpPlayback(call);
    }
    head.startedAt = now;
    if (now > call.agentBusyUntil + 50) this.agentSpurt(call, now);
    call.lastAgentAudioAt = now;
    call.agentBusyUntil = now + head.durationMs;
    call.agentAudioMs += head.durationMs;
    if (head.samples) call.recorder?.agent.add(head.samples, head.rate, now);
    this.emit({ type: 'playback', call, phase: 'started', url: head.url, durationMs: head.durationMs });
    void this.webhook(call, 'call.playback.started', { media_url: head.url, overlay: false });
    head.timer = setTimeout(() => {
      call.timers.delete(head.timer!);
      this.finishPlayback(call, head, 'completed');
    }, head.durationMs);
    call.timers.add(head.timer);
  }

  private finishPlayback(call: SimCall, p: Playback, status: string): void {
    const i = call.playQueue.indexOf(p);
    if (i >= 0) call.playQueue.splice(i, 1);
    if (p.timer) {
      clearTimeout(p.timer);
      call.timers.delete(p.timer);
    }
    call.playbacks.push({ url: p.url, durationMs: p.durationMs, status });
    this.emit({ type: 'playback', call, phase: 'ended', url: p.url, durationMs: p.durationMs, status });
    void this.webhook(call, 'call.playback.ended', { media_url: p.url, overlay: false, status });
    this.pumpPlayback(call);
  }

  /** Stops the current playback (it ends at once: `call.playback.ended`), and drops the queue with `all`. */
  private stopPlayback(call: SimCall, all: boolean): void {
    const now = performance.now();
    const head = call.playQueue[0];
    if (all) for (const p of call.playQueue.slice(1)) p.cancelled = true;
    if (all) call.playQueue.splice(1);
    if (!head) return;
    if (head.startedAt !== undefined) {
      call.agentBusyUntil = Math.min(call.agentBusyUntil, now);
      call.recorder?.agent.truncateAfter(now);
      this.finishPlayback(call, head, 'cancelled');
    } else {
      // Still being fetched: it never plays, but the app is told it ended.
      head.cancelled = true;
      call.playQueue.shift();
      call.playbacks.push({ url: head.url, durationMs: 0, status: 'cancelled' });
      void this.webhook(call, 'call.playback.ended', { media_url: head.url, overlay: false, status: 'cancelled' });
    }
  }

  private onPlaybackStop(call: SimCall, body: Record<string, unknown>): void {
    this.stopPlayback(call, body.stop !== 'current');
  }

  private async onSpeak(call: SimCall, body: Record<string, unknown>): Promise<void> {
    const text = String(body.payload ?? '');
    let ms = Math.max(600, text.split(/\s+/).filter(Boolean).length * 330 + 300);
    let audio: { samples: Int16Array; sampleRate: number } | undefined;
    if (this.opts.speakSynth) {
      try {
        audio = await this.opts.speakSynth(text);
        ms = (audio.samples.length * 1000) / audio.sampleRate;
      } catch {
        /* estimated length */
      }
    }
    if (!call.isUp) return;
    const now = performance.now();
    if (now > call.agentBusyUntil + 50) this.agentSpurt(call, now);
    call.lastAgentAudioAt = now;
    call.agentBusyUntil = Math.max(call.agentBusyUntil, now + ms);
    call.agentAudioMs += ms;
    if (audio) call.recorder?.agent.add(audio.samples, audio.sampleRate, now);
    this.emit({ type: 'speak', call, phase: 'started', text });
    void this.webhook(call, 'call.speak.started', {});
    call.later(ms, () => {
      this.emit({ type: 'speak', call, phase: 'ended', text });
      void this.webhook(call, 'call.speak.ended', { status: 'completed' });
    });
  }

  // --- teardown ------------------------------------------------------------------------------------

  /** Ends a call: `stop` on the media stream, socket closed, `call.hangup` posted; later commands get 422. */
  async endCall(call: SimCall, by: 'caller' | 'runtime'): Promise<void> {
    if (call.state === 'ended') return call.ended;
    const wasAnswered = call.state === 'answered';
    call.state = 'ended';
    call.endedBy = by;
    call.endedAt = performance.now();
    this.api.endCall(call.id);
    this.closeMedia(call);
    call.encoder?.close();
    call.encoder = undefined;
    for (const t of call.timers) clearTimeout(t);
    call.timers.clear();
    for (const p of call.playQueue.splice(0)) if (p.timer) clearTimeout(p.timer);
    call.agentBusyUntil = Math.min(call.agentBusyUntil, call.endedAt);
    call.recorder?.agent.truncateAfter(call.endedAt);
    await this.webhook(call, 'call.hangup', {
      hangup_cause: 'normal_clearing',
      hangup_source: by === 'caller' ? 'caller' : 'callee',
      sip_hangup_cause: '200',
      ...(wasAnswered ? {} : { state: 'hangup' }),
    }).catch(() => undefined);
    this.emit({ type: 'ended', call, by });
    call.endResolve();
  }

  private forget(call: SimCall): void {
    call.state = 'ended';
    this.calls.delete(call.id);
    call.endResolve();
  }

  /** Hangs up every call still up (caller side), then closes the API and sockets. */
  async close(): Promise<void> {
    await Promise.all([...this.calls.values()].filter((c) => c.isUp).map((c) => this.endCall(c, 'caller').catch(() => undefined)));
    this.closed = true;
    if (this.pacer) clearInterval(this.pacer);
    this.pacer = undefined;
    this.agent.destroy();
    await this.api.close();
  }
}
