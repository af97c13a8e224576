/**
 * Turn-taking when caller and agent overlap, on a real runtime (stream mode, real Redis, real media
 * WebSocket), caller speech from espeak-ng sent in real time by a paced caller line (a frame every
 * 20 ms, silence between lines, like Telnyx). The Whisper stand-in answers with the words the audio it
 * was sent holds (scripts/sim/said-so-far.ts); the brain is the SSE fake; the runtime's own log lines
 * (logWatch) and /metrics say what it decided.
 *
 * - a backchannel ("uh huh") during a long reply: cleared at the onset, resumed, never a brain turn;
 * - a real interruption: cleared fast, not resumed, the whole sentence is the next turn;
 * - a speculative reply started on a pause the caller then talks through: dropped (brain request
 *   aborted), one turn with all the words, nothing played early;
 * - a speculative reply for a complete answer: committed, played only once the turn really ended.
 */
import { performance } from 'node:perf_hooks';
import type { Runtime } from '../../src/runtime';
import { createEncoder } from '../../src/media/audio/codecs';
import { startFakeBrain, type FakeBrain, type FakeBrainScript } from '../fakes/fake-brain';
import type { FakeMediaClient } from '../fakes/fake-media-client';
import { startFakeWhisper, type FakeWhisper } from '../fakes/fake-whisper';
import { createHarness, http, newCallControlId, tenantDoc, waitUntil, type Harness } from '../support/call-harness';
import { logWatch, type LogWatch } from '../support/log-watch';
import { connectStream } from '../support/media-harness';
import { saidAfter, type SaidSegment } from '../../scripts/sim/said-so-far';
import { speak, type Spoken } from '../support/spoken';

/**
 * The caller's side of the line, like Telnyx: one frame every 20 ms (drift-corrected), silence unless
 * a line is queued. `say` resolves with the send times (performance.now()) of its first and last frame.
 */
class CallerLine {
  private readonly queue: { frame: Uint8Array; onSent?: (at: number) => void }[] = [];
  private readonly silence: Uint8Array;
  private readonly t0 = performance.now();
  private n = 0;
  /** When each frame was sent (performance.now()). */
  private readonly sentAt: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly client: FakeMediaClient) {
    const enc = createEncoder('PCMU', { sampleRate: 8000 });
    this.silence = Uint8Array.from(enc.encode(new Int16Array(160)));
    enc.close();
    this.tick();
  }

  private tick(): void {
    if (this.stopped || !this.client.isOpen) return;
    const item = this.queue.shift();
    this.client.sendMedia(item?.frame ?? this.silence, 20);
    this.sentAt.push(performance.now());
    item?.onSent?.(performance.now());
    this.n += 1;
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.t0 + this.n * 20 - performance.now()));
  }

  /** Queues a line; `onFirst` runs when its first frame is sent. */
  say(line: Spoken, onFirst?: () => void): Promise<{ first: number; last: number }> {
    return new Promise((resolve) => {
      let first = 0;
      line.frames.forEach((frame, i) => {
        const last = i === line.frames.length - 1;
        this.queue.push({
          frame,
          onSent: (at) => {
            if (i === 0) {
              first = at;
              onFirst?.();
            }
            if (last) resolve({ first, last: at });
          },
        });
      });
    });
  }

  /** Audio sent after `from` and before `to` (performance.now()), in ms: the caller's clock, not the test's. */
  sentMsBetween(from: number, to: number): number {
    return this.sentAt.filter((at) => at > from && at < to).length * 20;
  }

  /** Queues `ms` of silence (the caller pausing before what is queued next). */
  pause(ms: number): void {
    for (let i = 0; i < ms / 20; i += 1) this.queue.push({ frame: this.silence });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

const LONG_REPLY = 'Okay, here is what we have. We are open every day from nine until late. Tables for two are usually free before seven.';
const SHORT_REPLY = 'Sure, done.';
const words = (s: string) => s.split(/(?<= )/);

describe('turn-taking when caller and agent overlap', () => {
  let h: Harness;
  let logs: LogWatch;
  let whisper: FakeWhisper;
  let brain: FakeBrain;
  /** What the caller is saying, as segments; `saying` is the one being said (or said last). */
  let script: SaidSegment[] = [];
  let saying = 0;
  /** How the brain answers a transcript (per test). */
  let answer: (transcript: string) => FakeBrainScript = () => ({ tokens: words(SHORT_REPLY), tokenDelayMs: 2 });
  /** Every brain request, with when it arrived (performance.now()). */
  const asked: { callId: string; transcript: string; at: number }[] = [];
  const L: Record<'question' | 'uhhuh' | 'stop' | 'tableA' | 'tableB' | 'twoPeople' | 'thanks', Spoken> = {} as never;

  beforeAll(async () => {
    const texts = {
      question: 'Could I book a table for two tonight?',
      uhhuh: 'uh huh',
      stop: 'Wait, stop, I have a question.',
      tableA: 'I need a table for two',
      tableB: 'at seven tonight.',
      twoPeople: 'two people',
      thanks: 'What time do you open?',
    } as const;
    await Promise.all(Object.entries(texts).map(async ([k, t]) => (L[k as keyof typeof texts] = await speak(t))));
    whisper = await startFakeWhisper({ respond: (wav, req) => saidAfter(script, saying, wav.samples, wav.sampleRate, req.prompt) });
    brain = await startFakeBrain({
      mode: 'sse',
      script: (body) => {
        const transcript = String(body.transcript);
        asked.push({ callId: String(body.callControlId), transcript, at: performance.now() });
        return answer(transcript);
      },
    });
    logs = logWatch('info');
    h = await createHarness(
      {
        PLAYBACK_MODE: 'stream',
        WHISPER_URL: whisper.transcriptionsUrl,
        BRAIN_URL: brain.url,
        STT_PARTIAL_MIN_MS: '60000',
        DEAD_AIR_MS: '600000',
        TELNYX_INGEST_HEALTH_ENABLED: 'false',
      },
      { logger: logs.logger },
    );
  }, 30_000);
  afterAll(async () => {
    await h.close();
    await whisper.close();
    await brain.close();
  });

  interface Call {
    rt: Runtime;
    client: FakeMediaClient;
    line: CallerLine;
    callId: string;
    end(): Promise<void>;
  }

  /** A call on a fresh runtime (the client plays the agent's audio and echoes marks, like Telnyx), greeting heard out. */
  async function call(env: Record<string, string>, did: string): Promise<Call> {
    const rt = await h.start(env);
    await h.seedTenant(`t${did}`, did, tenantDoc(`t${did}`, did, { greeting: 'Hi.' }));
    const callId = newCallControlId();
    await h.send(rt, 'call.initiated', callId, { to: did });
    const ans = await h.telnyx.waitFor((c) => c.callControlId === callId && c.action === 'answer');
    await h.send(rt, 'call.answered', callId, { to: did });
    const client = await connectStream(rt, String(ans.body.stream_url), callId, { encoding: 'PCMU', sampleRate: 8000, playback: true });
    await waitUntil(() => rt.liveCalls!.get(callId)?.stream !== undefined);
    const line = new CallerLine(client);
    await logs.waitFor((l) => l.msg === 'turn' && l.callControlId === callId && l.source === 'greeting', 15_000, 'greeting turn');
    return {
      rt,
      client,
      line,
      callId,
      async end() {
        line.stop();
        client.stop();
        await client.close();
      },
    };
  }

  const askedBy = (callId: string) => asked.filter((a) => a.callId === callId);
  const requestsOf = (callId: string) => brain.requests.filter((r) => r.body.callControlId === callId);
  const mediaBetween = (c: Call, from: number, to: number) => c.client.received.filter((m) => m.event === 'media' && m.at > from && m.at < to);
  const firstAfter = (c: Call, event: string, after: number) => c.client.received.find((m) => m.event === event && m.at > after);
  const userEntries = (history: unknown) => (history as { role: string; content: string }[]).filter((e) => e.role === 'user').map((e) => e.content);
  const turnDone = (callId: string, n: number) =>
    waitUntil(() => logs.lines.filter((l) => l.msg === 'turn' && l.callControlId === callId && l.source === 'speech' && l.outcome === 'completed').length >= n, 30_000);
  async function speculative(rt: Runtime, outcome: 'committed' | 'dropped'): Promise<number> {
    const text = (await http.get(`${rt.url}/metrics`)).data as string;
    const m = new RegExp(`^speculative_replies_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  }

  /** The caller asks; the agent answers with LONG_REPLY; resolves once ~1 s of the reply was sent. */
  async function longReplyUnderway(c: Call): Promise<void> {
    answer = () => ({ tokens: words(LONG_REPLY), tokenDelayMs: 5 });
    script = [L.question];
    saying = 0;
    const { last } = await c.line.say(L.question);
    await waitUntil(() => firstAfter(c, 'media', last) !== undefined, 10_000);
    const from = c.client.agentMs;
    await waitUntil(() => c.client.agentMs - from >= 1000, 10_000);
    answer = () => ({ tokens: words(SHORT_REPLY), tokenDelayMs: 2 });
    expect(askedBy(c.callId).map((a) => a.transcript)).toEqual([L.question.text]);
  }

  it('backchannel during a long reply: cleared at the onset, resumed within 1 s, no brain turn, not in history', async () => {
    const c = await call({ STT_SILENCE_MS: '600' }, '+15557771001');
    await longReplyUnderway(c);
    script = [L.uhhuh];
    saying = 0;
    const bc = await c.line.say(L.uhhuh);
    await waitUntil(() => firstAfter(c, 'clear', bc.first - 40) !== undefined, 3000);
    const clearAt = firstAfter(c, 'clear', bc.first - 40)!.at;
    // The transcript decided it was a backchannel (not the no-transcript fallback 3 s later).
    const resumed = await logs.waitFor((l) => l.callControlId === c.callId && l.msg === 'not a real interruption: resuming the reply', 5000, 'resume');
    expect(resumed.why).toBe('backchannel');
    await waitUntil(() => firstAfter(c, 'media', clearAt) !== undefined, 5000);
    expect(firstAfter(c, 'media', clearAt)!.at - clearAt).toBeLessThan(1000);
    expect(c.client.clears).toBe(1);

    // The reply plays to its end (one completed speech turn), then the caller's next words are the next brain request.
    await turnDone(c.callId, 1);
    expect(askedBy(c.callId)).toHaveLength(1);
    script = [L.thanks];
    saying = 0;
    await c.line.say(L.thanks);
    await waitUntil(() => askedBy(c.callId).length >= 2, 10_000);
    await turnDone(c.callId, 2);
    expect(askedBy(c.callId).map((a) => a.transcript)).toEqual([L.question.text, L.thanks.text]);
    const history = requestsOf(c.callId)[1]!.body.history;
    expect(userEntries(history)).toEqual([L.question.text]);
    expect(userEntries(history).some((u) => /uh\s*huh/i.test(u))).toBe(false);
    await c.end();
  }, 60_000);

  it('real interruption during a long reply: cleared within 400 ms of the onset, not resumed, the whole sentence is the next turn', async () => {
    const c = await call({ STT_SILENCE_MS: '600' }, '+15557771002');
    await longReplyUnderway(c);
    script = [L.stop];
    saying = 0;
    const st = await c.line.say(L.stop);
    await waitUntil(() => firstAfter(c, 'clear', st.first - 40) !== undefined, 3000);
    const clearAt = firstAfter(c, 'clear', st.first - 40)!.at;
    expect(clearAt - st.first).toBeLessThan(400);
    await waitUntil(() => askedBy(c.callId).length >= 2, 10_000);
    const next = askedBy(c.callId)[1]!;
    expect(next.transcript).toBe(L.stop.text);
    // Nothing of the interrupted reply played again: no agent audio from the clear until the next turn was asked for.
    expect(mediaBetween(c, clearAt, next.at)).toHaveLength(0);
    expect(st.last).toBeLessThan(next.at);
    const turn = await logs.waitFor((l) => l.msg === 'turn' && l.callControlId === c.callId && l.outcome === 'interrupted', 5000, 'interrupted turn');
    expect(turn.source).toBe('speech');
    expect(logs.lines.some((l) => l.callControlId === c.callId && l.msg === 'not a real interruption: resuming the reply')).toBe(false);
    // Its answer plays.
    await waitUntil(() => firstAfter(c, 'media', next.at) !== undefined, 10_000);
    expect(askedBy(c.callId)).toHaveLength(2);
    await c.end();
  }, 60_000);

  it('speculative reply, caller goes on: the speculative brain request is aborted, one turn with all the words, nothing played early', async () => {
    const c = await call({ STT_SILENCE_MS: '1200' }, '+15557771003');
    const full = `${L.tableA.text} ${L.tableB.text}`;
    // The speculative answer streams slowly, so it is still open when the caller goes on.
    answer = (t) => (t === full ? { tokens: words(SHORT_REPLY), tokenDelayMs: 2 } : { tokens: words(LONG_REPLY), tokenDelayMs: 150 });
    script = [L.tableA, L.tableB];
    saying = 0;
    // "I need a table for two", 500 ms of pause, "at seven tonight.", as one utterance.
    const saidA = c.line.say(L.tableA);
    c.line.pause(500);
    const saidB = c.line.say(L.tableB, () => (saying = 1));
    const a = await saidA;
    // The pause yields "I need a table for two": the rule waits (no final punctuation), the reply is prepared.
    await waitUntil(() => askedBy(c.callId).length >= 1, 5000);
    expect(askedBy(c.callId)[0]!.transcript).toBe(L.tableA.text);
    const spec = requestsOf(c.callId)[0]!;
    const b = await saidB;
    expect(askedBy(c.callId)[0]!.at).toBeLessThan(b.first);
    await spec.closed;
    expect(spec.closedEarly).toBe(true);
    expect(await speculative(c.rt, 'dropped')).toBe(1);

    await waitUntil(() => firstAfter(c, 'media', b.last) !== undefined, 10_000);
    const fullAsked = askedBy(c.callId).filter((x) => x.transcript === full);
    expect(fullAsked).toHaveLength(1);
    expect(askedBy(c.callId).map((x) => x.transcript)).toEqual([L.tableA.text, full]);
    // No agent audio from the caller's first word to the end of the second part.
    expect(mediaBetween(c, a.first, b.last)).toHaveLength(0);
    await turnDone(c.callId, 1);

    // The next turn's history: one user entry for that sentence.
    script = [L.thanks];
    saying = 0;
    await c.line.say(L.thanks);
    await waitUntil(() => askedBy(c.callId).length >= 3, 10_000);
    expect(askedBy(c.callId)[2]!.transcript).toBe(L.thanks.text);
    expect(userEntries(requestsOf(c.callId)[2]!.body.history)).toEqual([full]);
    await c.end();
  }, 60_000);

  it('speculative reply for a complete unpunctuated answer: the brain is asked well before STT_SILENCE_MS, the reply plays only after it', async () => {
    const c = await call({ STT_SILENCE_MS: '1200' }, '+15557771004');
    answer = () => ({ tokens: words(SHORT_REPLY), tokenDelayMs: 2 });
    script = [L.twoPeople];
    saying = 0;
    const { last } = await c.line.say(L.twoPeople);
    await waitUntil(() => askedBy(c.callId).length >= 1, 5000);
    const askedAfter = askedBy(c.callId)[0]!.at - last;
    expect(askedBy(c.callId)[0]!.transcript).toBe(L.twoPeople.text);
    expect(askedAfter).toBeLessThan(800);
    await waitUntil(() => firstAfter(c, 'media', last) !== undefined, 10_000);
    // The reply starts only once the rule's 1200 ms of silence were heard (from the measured end of speech,
    // at most a few frames before the last one sent), counted in caller frames sent: the runtime's
    // clock is the audio, and a stalled test timer catches up in a burst. Played at the speculation it would be ~200 ms.
    const firstReply = firstAfter(c, 'media', last)!.at;
    expect(c.line.sentMsBetween(last, firstReply)).toBeGreaterThanOrEqual(1100);
    await turnDone(c.callId, 1);
    expect(await speculative(c.rt, 'committed')).toBe(1);
    expect(await speculative(c.rt, 'dropped')).toBe(0);
    expect(askedBy(c.callId).map((x) => x.transcript)).toEqual([L.twoPeople.text]);
    expect(requestsOf(c.callId)[0]!.closedEarly).toBe(false);
    await c.end();
  }, 60_000);
});
