/** Shared setup for the playout tests: a StreamPlayout on a ManualTime-driven scheduler, recording the wire. */
import { ManualTime } from '../../src/lib/manual-timers';
import { PlayoutScheduler } from '../../src/media/playout/pacer';
import { StreamPlayout, type StreamPlayoutOptions } from '../../src/media/playout/playout';

export type Wire = { event: 'media'; bytes: Buffer } | { event: 'mark'; name: string } | { event: 'clear' };

export function parseWire(text: string): Wire {
  const m = JSON.parse(text) as { event: string; media?: { payload: string }; mark?: { name: string } };
  if (m.event === 'media') return { event: 'media', bytes: Buffer.from(m.media!.payload, 'base64') };
  if (m.event === 'mark') return { event: 'mark', name: m.mark!.name };
  if (m.event === 'clear') return { event: 'clear' };
  throw new Error(`unexpected message ${text}`);
}

/** A constant-valued segment (PCMU keeps the value within a few percent, so messages show which segment they came from). */
export function tone(id: string, ms: number, value = 1000, rate = 8000) {
  return { id, samples: new Int16Array((rate * ms) / 1000).fill(value), sampleRate: rate };
}

export function setup(opts: Partial<StreamPlayoutOptions> = {}, time = new ManualTime(1000), clock = new PlayoutScheduler(time)) {
  const text: string[] = [];
  const events: string[] = [];
  const p = new StreamPlayout({
    send: (t) => text.push(t),
    encoding: 'PCMU',
    codecRate: 8000,
    clock,
    messageMs: 20,
    events: {
      segmentStarted: (id) => events.push(`started ${id}`),
      segmentDone: (id, { confirmed }) => events.push(`done ${id}${confirmed ? '' : ' (timeout)'}`),
      idle: () => events.push('idle'),
    },
    ...opts,
  });
  const wire = () => text.map(parseWire);
  /** PCMU: one byte per 8 kHz sample, so 8 bytes per ms. */
  const sentMs = () => wire().reduce((ms, w) => ms + (w.event === 'media' ? w.bytes.length / 8 : 0), 0);
  const summary = () => wire().map((w) => (w.event === 'media' ? `media ${w.bytes.length / 8}` : w.event === 'mark' ? `mark ${w.name}` : 'clear'));
  return { p, time, clock, text, events, wire, sentMs, summary };
}
