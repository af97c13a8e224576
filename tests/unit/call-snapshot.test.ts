import { boundSnapshot, parseSnapshot, SnapshotWriter, type CallSnapshot } from '../../src/lib/calls/call-snapshot';

const snap = (over: Partial<CallSnapshot> = {}): CallSnapshot => ({
  v: 1,
  savedAt: 10,
  history: [{ role: 'user', content: 'hello', timestamp: 5 }],
  deadAirPrompts: 1,
  dtmf: '12',
  ...over,
});

describe('call snapshot parsing (Redis text is not trusted)', () => {
  it('round-trips a snapshot', () => {
    const s = snap({ pendingReply: 'Is two fine?', transferring: true });
    expect(parseSnapshot(JSON.stringify(s))).toEqual(s);
  });

  it.each([
    ['not JSON', '{'],
    ['null', 'null'],
    ['another version', JSON.stringify({ ...snap(), v: 2 })],
    ['a bad role', JSON.stringify(snap({ history: [{ role: 'tool' as 'user', content: 'x', timestamp: 1 }] }))],
    ['too many entries', JSON.stringify(snap({ history: Array.from({ length: 65 }, () => ({ role: 'user' as const, content: 'x', timestamp: 1 })) }))],
    ['a digit that is not DTMF', JSON.stringify(snap({ dtmf: '12x' }))],
    ['a negative dead-air count', JSON.stringify(snap({ deadAirPrompts: -1 }))],
    ['an oversized text', 'x'.repeat(300 * 1024)],
  ])('refuses %s', (_what, text) => {
    expect(parseSnapshot(text)).toBeUndefined();
  });

  it('drops unknown fields', () => {
    expect(parseSnapshot(JSON.stringify({ ...snap(), extra: 'x' }))).toEqual(snap());
  });

  it('boundSnapshot keeps the newest history and cuts long texts so a stored snapshot always loads', () => {
    const long = 'y'.repeat(9000);
    const s = boundSnapshot(snap({ history: Array.from({ length: 70 }, (_, i) => ({ role: 'user' as const, content: i === 69 ? long : `m${i}`, timestamp: i })), pendingReply: long }));
    expect(s.history).toHaveLength(64);
    expect(s.history[0]!.content).toBe('m6');
    expect(parseSnapshot(JSON.stringify(s))).toEqual(s);
  });
});

describe('SnapshotWriter', () => {
  it('one write in flight per call; while it runs only the newest snapshot waits; flush waits for all', async () => {
    const saved: number[] = [];
    let release: (() => void) | undefined;
    const store = {
      save: (_id: string, s: CallSnapshot) =>
        new Promise<void>((resolve) => {
          saved.push(s.savedAt);
          release = resolve;
        }),
    };
    const w = new SnapshotWriter(store, 'c1', () => undefined);
    w.write(snap({ savedAt: 1 }));
    w.write(snap({ savedAt: 2 }));
    w.write(snap({ savedAt: 3 }));
    expect(saved).toEqual([1]);
    const flushed = w.flush();
    release!();
    await new Promise((r) => setImmediate(r));
    expect(saved).toEqual([1, 3]);
    release!();
    await flushed;
    expect(saved).toEqual([1, 3]);
  });

  it('reports a failed save and goes on with the next one', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const save = async (): Promise<void> => {
      n += 1;
      if (n === 1) throw new Error('down');
    };
    const w = new SnapshotWriter({ save }, 'c1', (e) => errors.push(e));
    w.write(snap());
    await w.flush();
    w.write(snap());
    await w.flush();
    expect(errors).toHaveLength(1);
    expect(n).toBe(2);
  });
});
