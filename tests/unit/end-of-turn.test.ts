import { endOfTurn, END_OF_TURN_LANGUAGES } from '../../src/lib/stt/end-of-turn';

const s = { completeMs: 200, incompleteMs: 1500, silenceMs: 600 };
const shape = (text: string, language?: string) => endOfTurn(text, language, s).shape;

describe('endOfTurn (English)', () => {
  it.each([
    'Could I book a table for two tonight?',
    'I would like to book an appointment for tomorrow morning.',
    'Who am I speaking with?',
    'That works for me!',
    'Count me in.',
    'I think so.',
  ])('a complete sentence ends after the short silence: %s', (text) => {
    expect(endOfTurn(text, 'en', s)).toEqual({ shape: 'complete', endAfterMs: 200 });
  });

  it.each(['yes please', 'Yes, please.', 'no thanks', 'Okay', 'thank you', "That's all"])('a short answer is complete without punctuation: %s', (text) => {
    expect(shape(text)).toBe('complete');
  });

  it.each([
    'I would like to book an appointment for',
    'I would like to book an appointment for.',
    'My name is John and',
    'I need to talk to the',
    'Can you send it to my',
    'So I was wondering, um',
    'I was thinking,',
    'Let me see...',
    'The number is…',
    'Hi,',
    'Yes,',
  ])('an unfinished sentence waits longer: %s', (text) => {
    expect(endOfTurn(text, 'en', s)).toEqual({ shape: 'incomplete', endAfterMs: 1500 });
  });

  it('without final punctuation the silence rule decides (STT_SILENCE_MS)', () => {
    expect(endOfTurn('I would like a table tonight', 'en', s)).toEqual({ shape: 'unknown', endAfterMs: 600 });
  });

  it('no transcript: the silence rule', () => {
    expect(endOfTurn('', 'en', s)).toEqual({ shape: 'unknown', endAfterMs: 600 });
    expect(endOfTurn('  ...  ', 'en', s).endAfterMs).toBeGreaterThanOrEqual(600);
  });

  it('STT_SILENCE_MS is the ceiling for a complete sentence and the floor for an incomplete one', () => {
    const tight = { completeMs: 200, incompleteMs: 1500, silenceMs: 150 };
    expect(endOfTurn('Yes please.', 'en', tight).endAfterMs).toBe(150);
    const long = { completeMs: 200, incompleteMs: 1500, silenceMs: 2000 };
    expect(endOfTurn('I want to book it for', 'en', long).endAfterMs).toBe(2000);
  });

  it('language tags with a region and unset language use the English lists', () => {
    expect(shape('Book it for', 'en-US')).toBe('incomplete');
    expect(shape('Book it for', 'EN_gb')).toBe('incomplete');
    expect(shape('Book it for', undefined)).toBe('incomplete');
  });
});

describe('endOfTurn (languages without word lists)', () => {
  it('English is the language with lists', () => {
    expect(END_OF_TURN_LANGUAGES).toEqual(['en']);
  });

  it.each([
    ['de', 'Ich möchte einen Termin für'],
    ['de', 'Ich möchte einen Termin für morgen.'],
    ['fr', 'Je voudrais réserver une table pour'],
    ['es', '¿Puedo reservar una mesa?'],
    ['ja', '予約したいです。'],
    ['zz', 'and'],
  ])('%s falls back to the silence rule: %s', (language, text) => {
    expect(endOfTurn(text, language, s)).toEqual({ shape: 'unknown', endAfterMs: 600 });
  });

  it('English words in another language do not trigger the English rule', () => {
    expect(endOfTurn('Yes please', 'de', s).endAfterMs).toBe(600);
  });
});

describe("endOfTurn with a tenant's own words", () => {
  it('adds trailing words and short answers to the English lists', () => {
    const words = { trailingWords: ['regarding', 'plus'], shortAnswers: ['sounds great to me', 'Yes, ma’am'] };
    const t = { ...s, words };
    expect(endOfTurn('I am calling regarding', 'en', t).shape).toBe('incomplete');
    expect(endOfTurn('sounds great to me', 'en', t).shape).toBe('complete');
    expect(endOfTurn('yes maam', 'en', t).shape).toBe('complete');
    // The built-in lists still apply, and other tenants are not affected.
    expect(endOfTurn('Book it for', 'en', t).shape).toBe('incomplete');
    expect(endOfTurn('I am calling regarding', 'en', s).shape).toBe('unknown');
  });

  it('gives a language without built-in lists a rule of its own', () => {
    const de = { ...s, words: { trailingWords: ['für', 'und', 'einen'], shortAnswers: ['ja bitte', 'nein danke'] } };
    expect(endOfTurn('Ich möchte einen Termin für', 'de', de)).toEqual({ shape: 'incomplete', endAfterMs: 1500 });
    expect(endOfTurn('Ja bitte', 'de-DE', de)).toEqual({ shape: 'complete', endAfterMs: 200 });
    expect(endOfTurn('Ich möchte einen Termin für morgen.', 'de', de)).toEqual({ shape: 'complete', endAfterMs: 200 });
    expect(endOfTurn('Ich möchte morgen kommen', 'de', de).shape).toBe('unknown');
  });
});
