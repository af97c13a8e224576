import {
  cleanTranscript,
  FinalDeduper,
  isFillerOnly,
  isNearDuplicate,
  levenshtein,
  normalizeTranscript,
  similarity,
} from '../../src/lib/stt/transcript-filter';

describe('transcript filter', () => {
  it('cleans non-speech tags and whitespace but keeps case and punctuation', () => {
    expect(cleanTranscript('  (laughs) Yes,   I want [MUSIC] that! ')).toBe('Yes, I want that!');
    expect(cleanTranscript('<|nospeech|> ♪ *cough* ok')).toBe('ok');
  });

  it('normalizes for comparison', () => {
    expect(normalizeTranscript('  Hello,   WORLD!! ')).toBe('hello world');
    expect(normalizeTranscript('Mm-hmm.')).toBe('mm-hmm');
    expect(normalizeTranscript('I’m here — "really".')).toBe("i'm here really");
    expect(normalizeTranscript('[BLANK_AUDIO]')).toBe('');
    expect(normalizeTranscript('Café Ünïcode 42')).toBe('café ünïcode 42');
  });

  it.each([
    '', '   ', 'uh', 'Um.', 'Hmm...', 'mm-hmm', 'Mhm.', 'uh, um', '[BLANK_AUDIO]', '(silence)', '[ Silence ]', '*music*',
    '♪', '...', 'Thank you.', 'you', 'Thanks for watching!', 'Subtitles by the Amara.org community',
  ])('treats %j as filler', (t) => {
    expect(isFillerOnly(t)).toBe(true);
  });

  it.each(['yes', 'Yeah.', 'uh-huh', 'bye', 'okay', 'Thank you very much.', 'um, I need a plumber', 'Hmm, what about Tuesday?', '(laughs) no'])(
    'treats %j as speech',
    (t) => {
      expect(isFillerOnly(t)).toBe(false);
    },
  );

  it('computes Levenshtein distance and similarity', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('abc', 'abc')).toBe(0);
    expect(similarity('Hello.', 'hello')).toBe(1);
    expect(similarity('', '')).toBe(1);
    expect(similarity('abcd', 'abce')).toBeCloseTo(0.75);
  });

  it('detects near duplicates', () => {
    expect(isNearDuplicate('I need to book an appointment.', 'i need to book an appointment')).toBe(true);
    expect(isNearDuplicate('I need to book an appointment for Tuesday', 'I need to book an appointment for Tuesdays')).toBe(true);
    expect(isNearDuplicate('yes', 'no')).toBe(false);
    expect(isNearDuplicate('book for Monday', 'book for Tuesday')).toBe(false);
    expect(isNearDuplicate('short', 'a much much longer sentence than that')).toBe(false);
  });

  it('FinalDeduper drops a repeat within the window, not after it, and not different text', () => {
    const d = new FinalDeduper({ windowMs: 2000 });
    expect(d.accept('I want a table for two.', 1000)).toBe(true);
    expect(d.accept('i want a table for two', 1500)).toBe(false);
    // A dropped repeat does not extend the window.
    expect(d.accept('I want a table for two', 2900)).toBe(false);
    expect(d.accept('I want a table for two', 3100)).toBe(true);
    expect(d.accept('At seven please', 3200)).toBe(true);
    expect(d.accept('I want a table for two', 3300)).toBe(true);
    d.reset();
    expect(d.accept('At seven please', 3301)).toBe(true);
  });
});
