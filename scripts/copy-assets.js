#!/usr/bin/env node
// Copies non-TypeScript runtime assets (Lua scripts, static pages, the Silero worker's plain-JS boot file
// src/media/vad/silero-worker-boot.js) from src/ to dist/ after tsc. The simulator's caller WAVs live in
// scripts/sim/assets and are never shipped.
const fs = require('node:fs');
const path = require('node:path');

const ASSET = /\.(lua|html|css|js|svg|json|onnx)$/;
const root = path.join(__dirname, '..');

function copy(dir) {
  for (const entry of fs.readdirSync(path.join(root, 'src', dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) copy(rel);
    else if (ASSET.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      const dest = path.join(root, 'dist', rel);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(path.join(root, 'src', rel), dest);
    }
  }
}
copy('');
