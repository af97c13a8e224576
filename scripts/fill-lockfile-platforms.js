#!/usr/bin/env node
/**
 * Why: the npm registry mirror this project is developed against serves only some platform
 * binaries of packages like @swc/core, msgpackr-extract and unrs-resolver. `npm install` then
 * writes a lockfile without the other platforms' optional packages, and `npm ci` refuses such a
 * lockfile ("Missing: @swc/core-darwin-arm64 from lock file"). This adds the missing optional
 * entries with their os/cpu, so `npm ci` accepts the lockfile and skips them on this platform
 * (they are never downloaded here). Run it after `npm install` changes the lockfile.
 */
const fs = require('node:fs');
const path = require('node:path');

const lockPath = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const pkgs = lock.packages;

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony', 'sunos', 'openbsd', 'netbsd', 'aix'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'loong64', 'riscv64', 'mips64el'];

function platformOf(name) {
  const tokens = name.split('/').pop().split('-');
  const os = tokens.find((t) => OS.includes(t));
  const cpu = tokens.find((t) => CPU.includes(t));
  if (!os || !cpu) return undefined;
  const entry = { os: [os], cpu: [cpu] };
  if (tokens.includes('musl') || tokens.includes('musleabihf')) entry.libc = ['musl'];
  else if (os === 'linux' && (tokens.includes('gnu') || tokens.includes('gnueabihf'))) entry.libc = ['glibc'];
  return entry;
}

let added = 0;
for (const [key, meta] of Object.entries(pkgs)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const nested = `${key ? `${key}/` : ''}node_modules/${dep}`;
    if (pkgs[nested] || pkgs[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    const base = dep.split('/').pop();
    pkgs[`node_modules/${dep}`] = {
      version,
      resolved: `https://registry.npmjs.org/${dep}/-/${base}-${version}.tgz`,
      optional: true,
      ...platform,
    };
    added += 1;
  }
}
const sorted = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fill-lockfile-platforms: added ${added} optional platform entries`);
