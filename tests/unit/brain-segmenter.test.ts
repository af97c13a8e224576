import { findSentenceEnd, Segmenter, type SegmenterOptions } from '../../src/lib/brain/segmenter';
import { ManualTime } from '../../src/lib/manual-timers';

function make(o: Partial<SegmenterOptions> = {}) {
  const segments: string[] = [];
  const indexes: number[] = [];
  const seg = new Segmenter({
    firstMinChars: 120,
    nextMaxChars: 180,
    firstAudioMaxMs: 0,
    onSegment: (t, i) => {
      segments.push(t);
      indexes.push(i);
    },
    ...o,
  });
  return { seg, segments, indexes };
}

/** Pushes `text` as tokens of `size` characters. */
const feed = (seg: Segmenter, text: string, size = 3) => {
  for (let i = 0; i < text.length; i += size) seg.push(text.slice(i, i + size));
};

describe('findSentenceEnd', () => {
  it.each([
    ['Hello there. How', 12],
    ['Really?! Yes', 8],
    ['Wait… ok', 5],
    ['He said "stop." Then', 15],
    ['Options: one', 8],
    ['First; second', 6],
    ['你好。世界', 3],
  ])('%j → %d', (text, end) => expect(findSentenceEnd(text)).toBe(end));

  it.each([
    'It costs 3.5 dollars',
    'Meet at 10:30 today',
    'See Dr. Smith now',
    'Fruit, e.g. apples',
    'Open at 9 a.m. daily',
    'Ask J. Doe',
    'Trailing dot.',
    '... hmm',
  ])('no cut in %j', (text) => expect(findSentenceEnd(text)).toBe(-1));
});

describe('Segmenter', () => {
  it('cuts at sentence ends, emitting trimmed segments with indexes', () => {
    const { seg, segments, indexes } = make();
    feed(seg, 'Hello there! I can help with that. Dr. Smith is in at 3.5 p.m. tomorrow. Anything else?');
    expect(segments).toEqual(['Hello there!', 'I can help with that.', 'Dr. Smith is in at 3.5 p.m. tomorrow.']);
    seg.end();
    expect(segments).toEqual(['Hello there!', 'I can help with that.', 'Dr. Smith is in at 3.5 p.m. tomorrow.', 'Anything else?']);
    expect(indexes).toEqual([0, 1, 2, 3]);
  });

  it('with firstClauseMinChars, ends the first segment at its first comma, and only the first', () => {
    const { seg, segments } = make({ firstClauseMinChars: 4 });
    feed(seg, 'Sure, I can help with that, of course. Okay, anything else?', 6);
    seg.end();
    expect(segments).toEqual(['Sure,', 'I can help with that, of course.', 'Okay, anything else?']);
  });

  it('a first clause needs enough text before the comma, not a number, and no earlier sentence end', () => {
    const a = make({ firstClauseMinChars: 4 });
    feed(a.seg, 'So, we have 1, 2 or 3 rooms.');
    a.seg.end();
    expect(a.segments).toEqual(['So, we have 1, 2 or 3 rooms.']);
    const b = make({ firstClauseMinChars: 4 });
    feed(b.seg, 'Yes. Well, maybe.');
    b.seg.end();
    expect(b.segments).toEqual(['Yes.', 'Well, maybe.']);
    const off = make();
    feed(off.seg, 'Sure, I can help with that.');
    off.seg.end();
    expect(off.segments).toEqual(['Sure, I can help with that.']);
  });

  it('waits for the character after a final "." (could be a number)', () => {
    const { seg, segments } = make();
    seg.push('It is 3.');
    expect(segments).toEqual([]);
    seg.push('5 miles. Then');
    expect(segments).toEqual(['It is 3.5 miles.']);
  });

  it('cuts the first segment at firstMinChars on a word boundary, later ones at nextMaxChars', () => {
    const { seg, segments } = make({ firstMinChars: 20, nextMaxChars: 30 });
    const words = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen';
    feed(seg, words, 2);
    seg.end();
    expect(segments[0]).toBe('one two three four');
    expect(segments[1]!.length).toBeLessThanOrEqual(30);
    expect(segments.slice(1, -1).every((s) => s.length <= 30 && s.length > 20)).toBe(true);
    expect(segments.join(' ')).toBe(words);
  });

  it('prefers a sentence end within the limit, and the limit over a far sentence end', () => {
    const { seg, segments } = make({ firstMinChars: 10, nextMaxChars: 100 });
    seg.push('Okay. This is a much longer sentence. ');
    expect(segments).toEqual(['Okay.', 'This is a much longer sentence.']);
    const b = make({ firstMinChars: 10 });
    b.seg.push('This is a much longer sentence. ');
    expect(b.segments).toEqual(['This is a', 'much longer sentence.']);
  });

  it('does not cut inside a word longer than the limit', () => {
    const { seg, segments } = make({ firstMinChars: 5 });
    seg.push('Supercalifragilistic');
    expect(segments).toEqual([]);
    seg.push(' word');
    expect(segments).toEqual(['Supercalifragilistic']);
  });

  it('flushes the first segment at a word boundary when the first-audio timer fires', () => {
    jest.useFakeTimers();
    try {
      const { seg, segments } = make({ firstAudioMaxMs: 2000 });
      seg.push('Let me check the sched');
      jest.advanceTimersByTime(1999);
      expect(segments).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(segments).toEqual(['Let me check the']);
      seg.push('ule for you. And');
      expect(segments).toEqual(['Let me check the', 'schedule for you.']);
      seg.end();
      expect(segments).toEqual(['Let me check the', 'schedule for you.', 'And']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('timer with no complete word yet: the first whitespace flushes', () => {
    const timers = new ManualTime();
    const { seg, segments } = make({ firstAudioMaxMs: 500, timers });
    seg.push('Hmmmm');
    timers.advance(500);
    expect(segments).toEqual([]);
    seg.push('mm, let');
    expect(segments).toEqual(['Hmmmmmm,']);
  });

  it('the timer starts at the first token and is cleared once a segment is out', () => {
    const timers = new ManualTime();
    const { seg } = make({ firstAudioMaxMs: 700, timers });
    expect(timers.pendingTimers).toBe(0);
    seg.push('Hi');
    expect(timers.dueTimes).toEqual([700]);
    seg.push('. ');
    seg.push('More');
    expect(timers.pendingTimers).toBe(0);
  });

  it('never emits empty or punctuation-only segments', () => {
    const { seg, segments } = make();
    seg.push('   ');
    seg.push('... ');
    seg.push('! Sure. ');
    seg.end();
    expect(segments).toEqual(['... ! Sure.']);
    const b = make();
    b.seg.push(' . ');
    b.seg.end();
    expect(b.segments).toEqual([]);
  });

  it('cancel() drops the buffer and ignores later input; end() is final', () => {
    jest.useFakeTimers();
    try {
      const { seg, segments } = make({ firstAudioMaxMs: 100 });
      seg.push('Half a sent');
      seg.cancel();
      jest.advanceTimersByTime(1000);
      seg.push('ence. More. ');
      seg.end();
      expect(segments).toEqual([]);
      const b = make();
      b.seg.push('Tail');
      b.seg.end();
      b.seg.push(' more. ');
      b.seg.end();
      expect(b.segments).toEqual(['Tail']);
    } finally {
      jest.useRealTimers();
    }
  });
});
