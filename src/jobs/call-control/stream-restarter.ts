import { streamingStartBody, type StreamSettings } from '../../lib/telnyx/stream-params';
import type { CommandProducer } from './command-producer';

/** Outbound (bidirectional) sample rate per codec for streaming_start. */
const BIDIRECTIONAL_RATE: Record<string, number> = { PCMU: 8000, PCMA: 8000, G722: 16000, 'AMR-WB': 16000, OPUS: 16000, L16: 16000 };

/**
 * Restarts a call's media stream through the ordered call-control queue: `streaming_stop` then
 * `streaming_start` (same per-call stream_url, possibly another codec). Used by the media session
 * for stalled streams and for the PCMU fallback after repeated decode failures.
 */
export class StreamRestarter {
  constructor(
    private readonly commands: CommandProducer,
    private readonly stream: StreamSettings,
  ) {}

  async restart(callControlId: string, codec: string): Promise<void> {
    await this.commands.issue(callControlId, 'streaming_stop');
    await this.commands.issue(callControlId, 'streaming_start', streamingStartBody(this.stream, callControlId, codec, BIDIRECTIONAL_RATE[codec]));
  }
}
