import { streamingStartBody, type StreamSettings } from '../../lib/telnyx/stream-params';
import type { CommandProducer } from './command-producer';

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
    await this.commands.issue(callControlId, 'streaming_start', streamingStartBody(this.stream, callControlId, codec));
  }
}
