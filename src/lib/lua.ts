import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Reads a Lua script shipped beside the compiled module (scripts/copy-assets.js copies *.lua to
 * dist/). Read once at startup; ioredis `defineCommand` then runs it by EVALSHA.
 */
export function readLua(dir: string, file: string): string {
  return readFileSync(path.join(dir, file), 'utf8');
}

/** Number of KEYS a script takes, from its file name suffix (`verb-noun-<numKeys>.lua`, BullMQ style). */
export function numberOfKeys(file: string): number {
  const m = /-(\d+)\.lua$/.exec(file);
  if (!m) throw new Error(`lua script name must end in -<numKeys>.lua: ${file}`);
  return Number(m[1]);
}
