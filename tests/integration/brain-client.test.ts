import { createBrainClient, type BrainClientOptions } from '../../src/lib/brain/brain-client';
import { BrainError, type Brain, type BrainRequest, type BrainResult } from '../../src/lib/brain/port';
import { startFakeBrain, type FakeBrain, type FakeBrainOptions } from '../fakes/fake-brain';

const REQ: BrainRequest = {
  tenantId: 'tenantA',
  callControlId: 'call-1',
  transcript: 'What are your hours?',
  history: [{ role: 'user', content: 'hi', timestamp: 1 }],
  assistantContext: { hours: '9-5' },
  quickReplies: [{ match: ['x'], reply: 'y' }],
};

async function rejection(p: Promise<unknown>): Promise<BrainError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BrainError);
    return err as BrainError;
  }
  throw new Error('expected a rejection');
}

describe('brain client against a real HTTP fake', () => {
  let fake: FakeBrain | undefined;
  const brains: Brain[] = [];
  const start = async (o: FakeBrainOptions) => (fake = await startFakeBrain(o));
  const make = (o: Partial<BrainClientOptions> = {}) => {
    const b = createBrainClient({ baseUrl: fake!.url, timeoutMs: 3000, streamingEnabled: true, streamPath: '/reply/stream', pingMs: 1000, ...o });
    brains.push(b);
    return b;
  };
  const run = async (brain: Brain, signal?: AbortSignal) => {
    const tokens: string[] = [];
    const res: BrainResult = await brain.reply(REQ, { signal, onToken: (t) => tokens.push(t) });
    return { res, tokens };
  };
  afterEach(async () => {
    brains.splice(0).forEach((b) => b.close());
    await fake?.close();
    fake = undefined;
  });

  it('streams tokens over SSE; text = tokens joined; sends the exact contract body', async () => {
    await start({ mode: 'sse', script: () => ({ tokens: ['Hel', 'lo', ' there.'], tokenDelayMs: 5 }) });
    const { res, tokens } = await run(make());
    expect(tokens).toEqual(['Hel', 'lo', ' there.']);
    expect(res).toMatchObject({ text: 'Hello there.', streamed: true, source: 'stream' });
    expect(res.firstTokenMs).toBeGreaterThan(0);
    expect(fake!.requests).toHaveLength(1);
    const r = fake!.requests[0]!;
    expect(r.path).toBe('/reply/stream');
    expect(r.headers.accept).toBe('text/event-stream');
    const { quickReplies: _q, ...wire } = REQ;
    expect(r.body).toEqual(wire);
  });

  it('uses done.text and passes the transfer through (stream and /reply)', async () => {
    const transfer = { to: '+15557654321', audioUrl: 'https://x/hold.wav', timeoutSecs: 20 };
    await start({ mode: 'sse', script: () => ({ tokens: ['One moment'], text: 'One moment, transferring.', transfer, crlf: true, pingEveryMs: 5 }) });
    const { res } = await run(make());
    expect(res).toMatchObject({ text: 'One moment, transferring.', transfer, streamed: true });
    const { res: viaReply } = await run(make({ streamingEnabled: false }));
    expect(viaReply).toMatchObject({ text: 'One moment, transferring.', transfer, streamed: false, source: 'reply' });
    expect(fake!.requests.map((r) => r.path)).toEqual(['/reply/stream', '/reply']);
  });

  it('done.text beyond the tokens is delivered too (done-only stream included)', async () => {
    await start({ mode: 'sse', script: (b) => ({ tokens: b.transcript === 'none' ? [] : ['Hi.'], text: 'Hi. Bye.' }) });
    expect((await run(make())).tokens).toEqual(['Hi.', ' Bye.']);
    const tokens: string[] = [];
    const res = await make().reply({ ...REQ, transcript: 'none' }, { onToken: (t) => tokens.push(t) });
    expect(res).toMatchObject({ text: 'Hi. Bye.', streamed: true });
    expect(tokens).toEqual(['Hi. Bye.']);
  });

  it('a clean end without done keeps the tokens; keep-alive reuses the connection', async () => {
    await start({ mode: 'sse', script: () => ({ tokens: ['a', 'b'], omitDone: true }) });
    const brain = make();
    expect((await run(brain)).res.text).toBe('ab');
    expect((await run(brain)).res.text).toBe('ab');
    expect(fake!.requests[0]!.remotePort).toBe(fake!.requests[1]!.remotePort);
  });

  it.each([
    ['the stream endpoint 404s', 'json' as const, {}],
    ['the answer is not text/event-stream', 'sse_not_event_stream' as const, {}],
    ['the stream socket is reset', 'down' as const, {}],
    ['the stream endpoint answers 503', 'sse' as const, { streamStatus: 503 }],
  ])('falls back to POST /reply when %s, delivering the text once', async (_name, mode, extra) => {
    await start({ mode, script: () => ({ text: 'Fallback answer.', ...extra }) });
    const { res, tokens } = await run(make());
    expect(res).toMatchObject({ text: 'Fallback answer.', streamed: false, source: 'reply' });
    expect(tokens).toEqual(['Fallback answer.']);
    expect(fake!.requests.map((r) => r.path)).toEqual(['/reply/stream', '/reply']);
    expect(fake!.requests[1]!.headers.accept).toBe('application/json');
  });

  it('after a 404/non-SSE answer skips the stream endpoint for streamRetryMs', async () => {
    await start({ mode: 'json' });
    const brain = make({ streamRetryMs: 60_000 });
    await run(brain);
    await run(brain);
    expect(fake!.requests.map((r) => r.path)).toEqual(['/reply/stream', '/reply', '/reply']);
  });

  it('brain down entirely → retryable brain_failed', async () => {
    await start({ mode: 'sse' });
    const brain = make();
    await fake!.close();
    const err = await rejection(run(brain));
    expect(err).toMatchObject({ code: 'brain_failed', retryable: true, partialText: '' });
  });

  it('/reply HTTP 500 → retryable brain_failed; 400 → not retryable', async () => {
    await start({ mode: 'json', script: (b) => ({ replyStatus: b.transcript === 'bad' ? 400 : 500 }) });
    expect(await rejection(run(make()))).toMatchObject({ code: 'brain_failed', retryable: true });
    const err = await rejection(make({ streamingEnabled: false }).reply({ ...REQ, transcript: 'bad' }));
    expect(err).toMatchObject({ code: 'brain_failed', retryable: false });
  });

  it('a stream silent longer than pingMs is dead: brain_timeout with partialText, no fallback', async () => {
    await start({ mode: 'sse', script: () => ({ tokens: ['Hi', ' there', ' never'], stallAfterTokens: 2 }) });
    const started = Date.now();
    const err = await rejection(run(make({ pingMs: 200 })));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err).toMatchObject({ code: 'brain_timeout', partialText: 'Hi there', retryable: false, details: expect.objectContaining({ reason: 'stream_idle' }) });
    await fake!.requests[0]!.closed;
    expect(fake!.requests[0]!.closedEarly).toBe(true);
    expect(fake!.requests.map((r) => r.path)).toEqual(['/reply/stream']);
  });

  it('pings keep a slow stream alive', async () => {
    await start({ mode: 'sse', script: () => ({ tokens: ['slow', ' but', ' fine'], tokenDelayMs: 350, pingEveryMs: 50 }) });
    const { res } = await run(make({ pingMs: 200 }));
    expect(res.text).toBe('slow but fine');
  });

  it('the whole reply is bounded by timeoutMs even while pings flow', async () => {
    await start({ mode: 'sse', script: () => ({ tokens: ['a', 'b', 'c', 'd'], tokenDelayMs: 200, pingEveryMs: 20 }) });
    const started = Date.now();
    const err = await rejection(run(make({ timeoutMs: 300, pingMs: 100 })));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err).toMatchObject({ code: 'brain_timeout', partialText: 'ab' });
  });

  it('timeoutMs also bounds a slow /reply', async () => {
    await start({ mode: 'json', latencyMs: 2000 });
    const err = await rejection(run(make({ timeoutMs: 200, streamingEnabled: false })));
    expect(err).toMatchObject({ code: 'brain_timeout', retryable: true, partialText: '' });
  });

  it('abort mid-stream (barge-in) rejects at once and the server sees the socket close', async () => {
    await start({ mode: 'sse', script: () => ({ tokens: Array.from({ length: 50 }, (_, i) => `t${i} `), tokenDelayMs: 50 }) });
    const ac = new AbortController();
    const tokens: string[] = [];
    const p = make().reply(REQ, {
      signal: ac.signal,
      onToken: (t) => {
        tokens.push(t);
        // Aborted on the second token itself: a timer after it could fire after the third (50 ms later) on a busy machine.
        if (tokens.length === 2) ac.abort();
      },
    });
    const err = await rejection(p);
    const abortedAt = Date.now();
    expect(err).toMatchObject({ code: 'brain_aborted', partialText: 't0 t1 ' });
    await fake!.requests[0]!.closed;
    // Cut, not finished: the 48 tokens left would take the server 2.4 s more.
    expect(fake!.requests[0]!.closedEarly).toBe(true);
    expect(Date.now() - abortedAt).toBeLessThan(2000);
    expect(tokens).toEqual(['t0 ', 't1 ']);
    expect(fake!.requests).toHaveLength(1);
  });

  it('an already aborted signal sends nothing', async () => {
    await start({ mode: 'sse' });
    expect(await rejection(run(make(), AbortSignal.abort()))).toMatchObject({ code: 'brain_aborted' });
    expect(fake!.requests).toHaveLength(0);
  });

  it('an error event after tokens: no fallback, partialText kept', async () => {
    await start({ mode: 'sse', script: () => ({ tokens: ['Sure', ', let', ' me'], errorAfterTokens: 2 }) });
    const err = await rejection(run(make()));
    expect(err).toMatchObject({ code: 'brain_failed', partialText: 'Sure, let', retryable: false });
    expect(err.message).toMatch(/model crashed/);
    expect(fake!.requests.map((r) => r.path)).toEqual(['/reply/stream']);
  });

  it('an error event before any token: brain_failed, retryable, no fallback', async () => {
    await start({ mode: 'sse', script: () => ({ errorAfterTokens: 0 }) });
    expect(await rejection(run(make()))).toMatchObject({ code: 'brain_failed', partialText: '', retryable: true });
    expect(fake!.requests).toHaveLength(1);
  });

  it('connection lost after tokens: brain_failed with partialText, no fallback', async () => {
    await start({ mode: 'sse', script: () => ({ tokens: ['One', ' two', ' three'], destroyAfterTokens: 2 }) });
    const err = await rejection(run(make()));
    expect(err).toMatchObject({ code: 'brain_failed', partialText: 'One two', retryable: false });
    expect(fake!.requests).toHaveLength(1);
  });
});
