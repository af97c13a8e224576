import type { Redis } from 'ioredis';
import type { Logger } from './logger';

/**
 * Messages for the live session of a call, delivered to the ONE instance that holds its media
 * socket (Redis pub/sub on a per-instance channel). Workers on any instance publish: webhook
 * events the session cares about, TTS completions, failed commands. Fire-and-forget by design:
 * a session that is gone has nothing to do with them.
 */
export type BusMessage =
  | { type: 'webhook'; callId: string; eventType: string; payload: Record<string, unknown> }
  | { type: 'tts_ready'; callId: string; turnId: number; index: number; fileName: string; durationMs: number; sampleRate: number; cached: boolean }
  | { type: 'tts_failed'; callId: string; turnId: number; index: number; error: string }
  | { type: 'command_failed'; callId: string; action: string; error: string };

export const busChannel = (prefix: string, instanceId: string) => `${prefix}:bus:${instanceId}`;

export class CallBus {
  private readonly handlers = new Set<(m: BusMessage) => void>();

  constructor(
    private readonly pub: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  async publish(instanceId: string, msg: BusMessage): Promise<void> {
    await this.pub.publish(busChannel(this.prefix, instanceId), JSON.stringify(msg));
  }

  /** Subscribes this instance's channel on a dedicated connection (subscriber mode blocks others). */
  async listen(sub: Redis, instanceId: string): Promise<void> {
    sub.on('message', (_channel: string, raw: string) => {
      let msg: BusMessage;
      try {
        msg = JSON.parse(raw) as BusMessage;
      } catch {
        this.logger.warn('malformed call bus message dropped');
        return;
      }
      for (const h of this.handlers) {
        try {
          h(msg);
        } catch (err) {
          this.logger.error({ err: (err as Error).message, type: msg.type }, 'call bus handler failed');
        }
      }
    });
    await sub.subscribe(busChannel(this.prefix, instanceId));
  }

  onMessage(handler: (m: BusMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
}
