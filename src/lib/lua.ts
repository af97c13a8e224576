import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';

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

// Read once per process: the scripts are static assets, and construction may happen per test.
const sources = new Map<string, string>();

/** readLua, read once per process per file. */
export function luaSource(dir: string, file: string): string {
  const key = path.join(dir, file);
  let lua = sources.get(key);
  if (lua === undefined) {
    lua = readLua(dir, file);
    sources.set(key, lua);
  }
  return lua;
}

/**
 * Registers scripts (command name → file in `dir`) on a client with ioredis defineCommand, so they go out as
 * EVALSHA (ioredis falls back to EVAL once per connection on NOSCRIPT). Names already defined are kept.
 */
export function defineLuaCommands(redis: Redis, dir: string, scripts: Record<string, string>, readOnly: ReadonlySet<string> = new Set()): void {
  for (const [name, file] of Object.entries(scripts)) {
    if (name in redis) continue;
    redis.defineCommand(name, { lua: luaSource(dir, file), numberOfKeys: numberOfKeys(file), readOnly: readOnly.has(name) });
  }
}
