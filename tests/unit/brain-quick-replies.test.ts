import { matchQuickReply, normalizeForMatch } from '../../src/lib/brain/quick-replies';

const QR = [
  { match: ['hours', 'when are you open'], reply: 'We are open 9 to 5.' },
  { match: ["what's the address", 'ADDRESS'], reply: '1 Main Street.' },
  { match: ['open'], reply: 'second open' },
  { match: ['', '  ', '!!'], reply: 'never' },
];

describe('quick replies', () => {
  it('normalizes case, accents, punctuation and apostrophes', () => {
    expect(normalizeForMatch("  What's   the CAFÉ's hours?! ")).toBe('whats the cafes hours');
  });

  it('matches whole words and phrases, case/punctuation-insensitively', () => {
    expect(matchQuickReply('What are your HOURS?', QR)).toBe('We are open 9 to 5.');
    expect(matchQuickReply('Um, when are you... open?', QR)).toBe('We are open 9 to 5.');
    expect(matchQuickReply('whats the address', QR)).toBe('1 Main Street.');
    expect(matchQuickReply('Address, please.', QR)).toBe('1 Main Street.');
  });

  it('does not match inside words', () => {
    expect(matchQuickReply('what about the hour', QR)).toBeUndefined();
    expect(matchQuickReply('is it reopened', QR)).toBeUndefined();
    expect(matchQuickReply('addresses', QR)).toBeUndefined();
  });

  it('first entry wins, in config order', () => {
    expect(matchQuickReply('are you open', QR)).toBe('second open');
    expect(matchQuickReply('are you open, what are the hours', QR)).toBe('We are open 9 to 5.');
  });

  it('ignores empty match phrases, empty replies and missing lists', () => {
    expect(matchQuickReply('!!', QR)).toBeUndefined();
    expect(matchQuickReply('hours', [{ match: ['hours'], reply: '  ' }])).toBeUndefined();
    expect(matchQuickReply('hours', undefined)).toBeUndefined();
    expect(matchQuickReply('', QR)).toBeUndefined();
  });
});
