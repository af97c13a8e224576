/**
 * The README and docs/ stay usable: a newcomer finds the Quick start on the first screen, every
 * relative link leads to a file (and heading) that exists, every env var of the config schema is
 * documented with its real default, and nothing cites a design file that is not in the repository.
 * Reads the Markdown files only (no network, no processes).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { configSchema } from '../../src/lib/config';

const ROOT = path.resolve(__dirname, '../..');
/** The README is read top-down on GitHub; past ~20 KB the long reference belongs in docs/. */
const README_MAX_BYTES = 20 * 1024;
/** About one screen: the Quick start must be visible without scrolling far. */
const QUICK_START_MAX_LINE = 40;

const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');
const markdownFiles = (): string[] => ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Lines outside fenced code blocks, with their 1-based numbers. */
function proseLines(text: string): { n: number; line: string }[] {
  const out: { n: number; line: string }[] = [];
  let fenced = false;
  text.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) fenced = !fenced;
    else if (!fenced) out.push({ n: i + 1, line });
  });
  return out;
}

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const { line } of proseLines(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const plain = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const base = plain.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

/** Markdown links and images in prose (inline code and fenced blocks are not links). */
function linksOf(file: string): Link[] {
  const links: Link[] = [];
  for (const { n, line } of proseLines(read(file))) {
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push({ file, line: n, target: m[1]! });
  }
  return links;
}

/** Why a relative link does not resolve, or undefined when it does. */
function brokenReason(link: Link): string | undefined {
  const [pathPart, anchor] = link.target.split('#', 2) as [string, string | undefined];
  const resolved = pathPart === '' ? path.join(ROOT, link.file) : path.resolve(path.dirname(path.join(ROOT, link.file)), decodeURI(pathPart));
  if (!resolved.startsWith(ROOT + path.sep)) return 'points outside the repository';
  if (!existsSync(resolved)) return 'no such file';
  if (anchor === undefined) return undefined;
  if (!resolved.endsWith('.md') || !statSync(resolved).isFile()) return 'anchor into a file that is not Markdown';
  return anchorsOf(readFileSync(resolved, 'utf8')).has(anchor) ? undefined : `no heading with anchor #${anchor}`;
}

describe('README', () => {
  const readme = read('README.md');

  it(`stays under ${README_MAX_BYTES} bytes (the long reference lives in docs/)`, () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(README_MAX_BYTES);
  });

  it(`has the Quick start heading within its first ${QUICK_START_MAX_LINE} lines, with setup, demo and tests`, () => {
    const lines = readme.split('\n');
    const at = lines.findIndex((l) => /^## Quick start\b/.test(l));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at + 1).toBeLessThanOrEqual(QUICK_START_MAX_LINE);
    const next = lines.findIndex((l, i) => i > at && /^## /.test(l));
    const section = lines.slice(at, next < 0 ? undefined : next).join('\n');
    expect(section).toContain('sudo ./scripts/setup-system.sh');
    expect(section).toContain('npm ci && npm run demo');
    expect(section).toContain('npm test');
  });
});

describe('links in README.md and docs/', () => {
  const files = markdownFiles();

  it('finds the docs (sanity check of the scan itself)', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/configuration.md', 'docs/security.md']));
    expect(linksOf('README.md').length).toBeGreaterThan(10);
  });

  it('every relative link resolves to an existing file and heading', () => {
    const broken = files
      .flatMap(linksOf)
      .filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l.target))
      .map((l) => ({ l, why: brokenReason(l) }))
      .filter((x) => x.why !== undefined)
      .map(({ l, why }) => `${l.file}:${l.line} (${l.target}): ${why}`);
    expect(broken).toEqual([]);
  });
});

describe('docs/configuration.md', () => {
  const doc = existsSync(path.join(ROOT, 'docs/configuration.md')) ? read('docs/configuration.md') : '';
  /** `| \`NAME\` | default | meaning |` → [default, meaning]. */
  const rowOf = (name: string): string[] | undefined => {
    const line = doc.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
    return line
      ?.split('|')
      .slice(2, -1)
      .map((c) => c.trim());
  };

  /** What the default cell must say for a variable, from the schema itself. */
  function expectedDefault(name: string): { required: true } | { required: false; mention?: string } {
    const r = (configSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>)[name]!.safeParse(undefined);
    if (!r.success) return { required: true };
    const v = r.data;
    if (v === undefined) return { required: false };
    if (Array.isArray(v)) return { required: false, mention: v.length === 0 ? 'empty' : v.join(',') };
    return { required: false, mention: `\`${String(v)}\`` };
  }

  it.each(Object.keys(configSchema.shape))('documents %s in a table row with its default and meaning', (name) => {
    const row = rowOf(name);
    expect(row).toBeDefined();
    const [def, meaning] = row!;
    expect(meaning && meaning.length).toBeGreaterThan(10);
    const want = expectedDefault(name);
    if (want.required) expect(def).toBe('required');
    else {
      expect(def).not.toBe('required');
      expect(def && def.length).toBeGreaterThan(0);
      if (want.mention) expect(def).toContain(want.mention);
    }
  });
});

describe('citations', () => {
  /** The design notes live in docs/; a citation without that folder meant a brief outside the repository. */
  const OUTSIDE_CITATION = /(?<!docs\/)\bdesign\.md/;
  const walk = (dir: string): string[] =>
    readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) return e.name === 'node_modules' ? [] : walk(rel);
      return /\.(ts|js|sh|lua|md|html|css|json)$/.test(e.name) ? [rel] : [];
    });

  it('source, scripts, tests and docs cite only the in-repo docs/design.md', () => {
    const files = [...walk('src'), ...walk('scripts'), ...walk('tests'), ...walk('docs'), 'README.md', '.env.example', '.env.development.example', 'Dockerfile', 'docker-compose.yml'];
    const hits = files.flatMap((f) =>
      read(f)
        .split('\n')
        .map((line, i) => (OUTSIDE_CITATION.test(line) ? `${f}:${i + 1}: ${line.trim()}` : undefined))
        .filter((x): x is string => x !== undefined),
    );
    expect(hits).toEqual([]);
  });
});
