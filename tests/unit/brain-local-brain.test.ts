import { contextValue, createLocalBrain, localAnswer, sentenceChunks } from '../../src/lib/brain/local-brain';
import { BrainError, type BrainRequest } from '../../src/lib/brain/port';

const ctx = { businessName: 'Acme Dental', business_hours: 'Monday to Friday, 9am to 5pm', Address: '1 Main St, Springfield', phone: '+1 555 0100' };
const req = (transcript: string, extra: Partial<BrainRequest> = {}): BrainRequest => ({
  tenantId: 't1', callControlId: 'c1', transcript, history: [], assistantContext: ctx, ...extra,
});

describe('local brain answers', () => {
  it('quick replies come first', () => {
    const quickReplies = [{ match: ['hours'], reply: 'Quick: always open.' }];
    expect(localAnswer(req('What are your hours?', { quickReplies }))).toBe('Quick: always open.');
  });

  it('answers hours, address, phone and name from assistantContext', () => {
    expect(localAnswer(req('When do you open?'))).toBe('Our hours are Monday to Friday, 9am to 5pm.');
    expect(localAnswer(req('Where are you located?'))).toBe("We're located at 1 Main St, Springfield.");
    expect(localAnswer(req("What's your phone number?"))).toBe('You can reach us at +1 555 0100.');
    expect(localAnswer(req('Who am I speaking with, who is this?'))).toBe('This is Acme Dental.');
  });

  it('says it lacks a fact the context does not have', () => {
    expect(localAnswer(req('what is your email'))).toBe("I'm sorry, I don't have our email address available right now.");
  });

  it('greets, thanks, asks to repeat, and otherwise apologizes listing what it knows', () => {
    expect(localAnswer(req('Hello there'))).toBe('Hello, thanks for calling Acme Dental. How can I help you today?');
    expect(localAnswer(req('ok thanks bye'))).toMatch(/goodbye/);
    expect(localAnswer(req('  ...  '))).toMatch(/didn't catch/);
    expect(localAnswer(req('Can I book a cleaning for my dog?'))).toBe(
      "I'm sorry, I can only help with basic questions right now, like our hours, address or phone number.",
    );
    expect(localAnswer(req('book me', { assistantContext: undefined }))).toMatch(/^I'm sorry, I can only help with basic questions right now/);
  });

  it('formats structured context values', () => {
    expect(contextValue({ hours: { mon: '9-5', tue: '10-4' } }, ['hours'])).toBe('mon: 9-5, tue: 10-4');
    expect(contextValue({ Opening_Hours: ['Mon 9-5', 'Sat 10-2'] }, ['openinghours'])).toBe('Mon 9-5, Sat 10-2');
    expect(contextValue({ hours: '' }, ['hours'])).toBeUndefined();
  });

  it('sentenceChunks concatenate back to the text', () => {
    const text = 'Hello! How can I help? Call 555. Bye';
    expect(sentenceChunks(text)).toEqual(['Hello! ', 'How can I help? ', 'Call 555. ', 'Bye']);
    expect(sentenceChunks('One.')).toEqual(['One.']);
  });
});

describe('createLocalBrain().reply', () => {
  it('streams sentence chunks through onToken, same contract as the HTTP client', async () => {
    const tokens: string[] = [];
    const res = await createLocalBrain().reply(req('hi'), { onToken: (t) => tokens.push(t) });
    expect(res).toMatchObject({ text: 'Hello, thanks for calling Acme Dental. How can I help you today?', streamed: false, source: 'local' });
    expect(tokens).toEqual(['Hello, thanks for calling Acme Dental. ', 'How can I help you today?']);
    expect(res.firstTokenMs).toBeGreaterThanOrEqual(0);
  });

  it('aborts between chunks with brain_aborted and the partial text', async () => {
    const ac = new AbortController();
    const p = createLocalBrain().reply(req('hi'), { signal: ac.signal, onToken: () => ac.abort() });
    await expect(p).rejects.toBeInstanceOf(BrainError);
    await expect(p).rejects.toMatchObject({ code: 'brain_aborted', partialText: 'Hello, thanks for calling Acme Dental. ' });
    await expect(createLocalBrain().reply(req('hi'), { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'brain_aborted' });
  });
});
