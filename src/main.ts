/**
 * Composition root: .env → config → logger → runtime; owns process signals and exit codes.
 */
import { existsSync } from 'node:fs';
import dotenv from 'dotenv';
import { ConfigError, loadConfig, type Config } from './lib/config';
import { createLogger } from './lib/logger';
import { startRuntime } from './runtime';

async function main(): Promise<void> {
  dotenv.config({ quiet: true });
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      // The usual first run: no .env at all, so every required variable is "missing".
      if (!existsSync('.env')) {
        process.stderr.write('No .env file here: for a local trial run `cp .env.development.example .env` (production: start from .env.example).\n');
      }
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'veralux-runtime' } });
  if (!config.ADMIN_USER) logger.warn('ADMIN_USER/ADMIN_PASSWORD not set: /admin/queues refuses every request');
  if (config.TELNYX_WEBHOOK_SECRET && !config.TELNYX_WEBHOOK_HMAC_ENABLED) {
    logger.warn('TELNYX_WEBHOOK_SECRET is set but TELNYX_WEBHOOK_HMAC_ENABLED is not: HMAC-signed webhooks (smoke/load scripts) are refused');
  }

  const runtime = await startRuntime(config, logger);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: forcing exit');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down: draining live calls');
    const shutdown = async () => {
      // SIGINT (Ctrl-C at a terminal) skips the drain: whoever presses it wants the process gone.
      if (signal === 'SIGTERM') await runtime.drain(config.DRAIN_TIMEOUT_MS);
      setTimeout(() => {
        logger.error('shutdown timed out: forcing exit');
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS);
      // Kept referenced: whatever shutdown waits on, the process ends by exit(0) or by this timer, never by
      // running out of work half-way through closing.
      await runtime.close();
    };
    shutdown().then(
      () => {
        logger.info('shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
