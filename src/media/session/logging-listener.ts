import type { Logger } from '../../lib/logger';
import type { CallInputListener, FinalTimings } from './call-input';

/** Logs a call's caller input. Stands in until the conversation layer consumes it. */
export function loggingListener(logger: Logger, callControlId: string): CallInputListener {
  return {
    speechStarted: () => logger.debug({ callControlId }, 'caller speech started'),
    partial: (text) => logger.debug({ callControlId, text }, 'partial transcript'),
    final: (text: string, t: FinalTimings) =>
      logger.info({ callControlId, text, audioMs: Math.round(t.audioMs), sttMs: t.transcriptAt - t.endpointAt }, 'final transcript'),
    dtmf: (digit) => logger.info({ callControlId, digit }, 'dtmf'),
    sttError: (err) => logger.warn({ callControlId, err: err.message }, 'stt error'),
  };
}
