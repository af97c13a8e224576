import type { CallInputListener, FinalTimings } from '../../src/media/ports';

export type RecordedInput =
  | { type: 'speechStarted'; callId: string; at: number }
  | { type: 'partial'; callId: string; text: string }
  | { type: 'final'; callId: string; text: string; timings: FinalTimings }
  | { type: 'dtmf'; callId: string; digit: string }
  | { type: 'sttError'; callId: string; message: string };

/** Test double of the conversation layer: records every caller-input event of every call. */
export class RecordingListeners {
  readonly events: RecordedInput[] = [];

  for(callId: string): CallInputListener {
    return {
      speechStarted: (at) => this.events.push({ type: 'speechStarted', callId, at }),
      partial: (text) => this.events.push({ type: 'partial', callId, text }),
      final: (text, timings) => this.events.push({ type: 'final', callId, text, timings }),
      dtmf: (digit) => this.events.push({ type: 'dtmf', callId, digit }),
      sttError: (err) => this.events.push({ type: 'sttError', callId, message: err.message }),
    };
  }

  of<T extends RecordedInput['type']>(callId: string, type: T): Extract<RecordedInput, { type: T }>[] {
    return this.events.filter((e): e is Extract<RecordedInput, { type: T }> => e.callId === callId && e.type === type);
  }
}
