/**
 * One contract for the Brain port (src/lib/brain/port.ts), run against the scripted in-memory fake and
 * against the HTTP/SSE client talking to the brain stand-in (scripts/sim/brain.ts) on loopback: what
 * the conversation relies on holds for both, so tests that use the fake stay honest.
 */
import { createBrainClient } from '../../src/lib/brain/brain-client';
import { FakeBrain, type FakeBrainTurn } from '../../src/lib/brain/fake-brain';
import { BrainError, type Brain, type BrainRequest, type BrainResult } from '../../src/lib/brain/port';
import { startBrainServer } from '../../scripts/sim/brain';

interface Subject {
  brain: Brain;
  /** The brain's next answer (the fake's turn and the stand-in's script share their field names). */
  answer(turn: FakeBrainTurn): void;
  /** Transcripts the brain received. */
  heard(): string[];
  close(): Promise<void>;
}

async function fakeSubject(): Promise<Subject> {
  const brain = new FakeBrain();
  return {
    brain,
    answer: (turn) => brain.say(turn),
    heard: () => brain.calls.map((c) => c.req.transcript),
    close: async () => brain.close(),
  };
}

async function httpSubject(): Promise<Subject> {
  const turns: FakeBrainTurn[] = [];
  const server = await startBrainServer({ mode: 'sse', script: () => turns.shift() ?? {} });
  const brain = createBrainClient({ baseUrl: server.url, timeoutMs: 5000, streamingEnabled: true, streamPath: '/reply/stream', pingMs: 5000 });
  return {
    brain,
    answer: (turn) => turns.push(turn),
    heard: () => server.requests.map((r) => String(r.body.transcript)),
    close: async () => {
      brain.close();
      await server.close();
    },
  };
}

const REQ: BrainRequest = {
  tenantId: 'acme',
  callControlId: 'call-1',
  transcript: 'When are you open?',
  history: [{ role: 'user', content: 'hello', timestamp: 1 }],
};

async function failure(p: Promise<BrainResult>): Promise<BrainError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BrainError)) throw new Error(`expected a BrainError rejection, got ${String(err)}`);
  return err;
}

describe.each([
  ['the scripted in-memory fake', fakeSubject],
  ['the HTTP client against the brain stand-in', httpSubject],
])('Brain contract: %s', (_name, make) => {
  let s: Subject;
  beforeEach(async () => {
    s = await make();
  });
  afterEach(async () => {
    await s.close();
  });

  it('delivers the reply through onToken in order before answering the same text', async () => {
    s.answer({ tokens: ['We are', ' open', ' nine to five.'] });
    const tokens: string[] = [];
    const res = await s.brain.reply(REQ, { onToken: (t) => tokens.push(t) });
    expect(tokens).toEqual(['We are', ' open', ' nine to five.']);
    expect(res.text).toBe('We are open nine to five.');
    expect(res.transfer).toBeUndefined();
    expect(res.firstTokenMs).toBeGreaterThanOrEqual(0);
    expect(s.heard()).toEqual(['When are you open?']);
  });

  it('delivers the rest of a final text that extends the tokens', async () => {
    s.answer({ tokens: ['One'], text: 'One moment.' });
    const tokens: string[] = [];
    const res = await s.brain.reply(REQ, { onToken: (t) => tokens.push(t) });
    expect(tokens.join('')).toBe('One moment.');
    expect(res.text).toBe('One moment.');
  });

  it('answers a transfer beside the text', async () => {
    s.answer({ tokens: ['Transferring you now.'], transfer: { to: '+15551234567', timeoutSecs: 30 } });
    const res = await s.brain.reply(REQ);
    expect(res).toMatchObject({ text: 'Transferring you now.', transfer: { to: '+15551234567', timeoutSecs: 30 } });
  });

  it('rejects with brain_aborted, asking nothing, when the signal already fired', async () => {
    const err = await failure(s.brain.reply(REQ, { signal: AbortSignal.abort() }));
    expect(err).toMatchObject({ code: 'brain_aborted', partialText: '' });
    expect(s.heard()).toEqual([]);
  });

  it('rejects with brain_aborted and the text already delivered when the signal fires mid-reply', async () => {
    s.answer({ tokens: ['Sure,', ' let me', ' check.'], stallAfterTokens: 1 });
    const ac = new AbortController();
    const err = await failure(s.brain.reply(REQ, { signal: ac.signal, onToken: () => ac.abort() }));
    expect(err).toMatchObject({ code: 'brain_aborted', partialText: 'Sure,', retryable: false });
  });

  it('a failure before any text is a retryable brain_failed', async () => {
    s.answer({ tokens: ['never said'], errorAfterTokens: 0 });
    const err = await failure(s.brain.reply(REQ));
    expect(err).toMatchObject({ code: 'brain_failed', partialText: '', retryable: true });
  });

  it('a failure after some text carries it and is not retryable (asking again would repeat it)', async () => {
    s.answer({ tokens: ['Our hours', ' are'], errorAfterTokens: 1 });
    const tokens: string[] = [];
    const err = await failure(s.brain.reply(REQ, { onToken: (t) => tokens.push(t) }));
    expect(err).toMatchObject({ code: 'brain_failed', partialText: 'Our hours', retryable: false });
    expect(tokens).toEqual(['Our hours']);
  });
});
