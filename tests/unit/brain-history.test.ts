import { CallHistory, heardPrefix, wordPrefix } from '../../src/lib/brain/history';

describe('CallHistory', () => {
  it('records roles, trimmed content and timestamps; ignores empty text', () => {
    let t = 1000;
    const h = new CallHistory({ now: () => t++ });
    h.addUser('  hi  ');
    h.addAssistant('Hello!');
    h.addUser('   ');
    expect(h.entries()).toEqual([
      { role: 'user', content: 'hi', timestamp: 1000 },
      { role: 'assistant', content: 'Hello!', timestamp: 1001 },
    ]);
  });

  it('drops the oldest entries beyond maxTurns', () => {
    const h = new CallHistory({ maxTurns: 3 });
    for (let i = 1; i <= 5; i += 1) h.addUser(`u${i}`);
    expect(h.entries().map((e) => e.content)).toEqual(['u3', 'u4', 'u5']);
  });

  it('drops the oldest entries beyond maxChars', () => {
    const h = new CallHistory({ maxChars: 10 });
    h.addUser('aaaa');
    h.addAssistant('bbbb');
    h.addUser('cccc');
    expect(h.entries().map((e) => e.content)).toEqual(['bbbb', 'cccc']);
    expect(h.totalChars).toBe(8);
  });

  it('shortens a single entry longer than maxChars at a word boundary', () => {
    const h = new CallHistory({ maxChars: 12 });
    h.addUser('first');
    h.addAssistant('one two three four five');
    expect(h.entries()).toEqual([expect.objectContaining({ content: 'one two…' })]);
    expect(h.totalChars).toBeLessThanOrEqual(12);
  });

  it('entries() returns copies', () => {
    const h = new CallHistory();
    h.addUser('x');
    h.entries()[0]!.content = 'changed';
    expect(h.entries()[0]!.content).toBe('x');
  });
});

describe('heardPrefix', () => {
  const full = 'Our hours are nine to five.  We are closed on Sunday. Anything else?';
  const segs = ['Our hours are nine to five.', 'We are closed on Sunday.', 'Anything else?'];

  it('everything played → the full text', () => {
    expect(heardPrefix(full, segs.map((text) => ({ text, played: 'full' as const })))).toBe(full);
  });

  it('stops at the first segment not fully played, cutting a partial one at a word boundary', () => {
    const r = heardPrefix(full, [
      { text: segs[0]!, played: 'full' },
      { text: segs[1]!, played: 'partial', fractionPlayed: 0.6 },
      { text: segs[2]!, played: 'full' },
    ]);
    expect(r).toBe('Our hours are nine to five.  We are closed');
  });

  it('nothing played, none or partial 0 → empty / previous segments only', () => {
    expect(heardPrefix(full, [{ text: segs[0]!, played: 'none' }])).toBe('');
    expect(heardPrefix(full, [])).toBe('');
    expect(heardPrefix(full, [{ text: segs[0]!, played: 'full' }, { text: segs[1]!, played: 'partial' }])).toBe(segs[0]);
  });

  it('falls back to joining the heard parts when segments are not found in the text', () => {
    expect(heardPrefix('different', [{ text: 'Hello there.', played: 'full' }, { text: 'How are you?', played: 'partial', fractionPlayed: 0.6 }])).toBe(
      'Hello there. How are',
    );
  });

  it('wordPrefix keeps only complete words', () => {
    expect(wordPrefix('hello world', 0.3)).toBe('');
    expect(wordPrefix('hello world', 0.5)).toBe('hello');
    expect(wordPrefix('hello world', 0.95)).toBe('hello');
    expect(wordPrefix('hello world', 1)).toBe('hello world');
  });
});
