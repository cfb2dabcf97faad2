/**
 * Erased data leaves the SQLite file (issue 14, item 11): after erasing a visitor, neither the database file nor its
 * write-ahead log holds the visitor id or the e-mail any more (`secure_delete` zeroes freed content, a checkpoint
 * truncates the log). The review found the id 17 times and the e-mail 42 times in free pages.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Running } from '../../collector/node';

const TOKEN = 'erase-file-token-0123456789';
const VISITOR = 'visitor-to-erase-7f3a9c';
const EMAIL = 'grace.hopper@example.com';
let dir: string;
let c: Running;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cjm-erase-'));
  c = await start({ port: 0, db: join(dir, 'cjm.db'), adminToken: TOKEN, automation: false });
});
afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const collect = (visitor: string, events: unknown[]) =>
  fetch(`${c.url}/collect`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain', 'User-Agent': UA },
    body: JSON.stringify({ site: 'demo', visitor, events }),
  });

/** How often `needle` occurs in the database file and its log. */
const occurrences = (needle: string): number => {
  let n = 0;
  for (const f of ['cjm.db', 'cjm.db-wal', 'cjm.db-journal']) {
    const path = join(dir, f);
    if (!existsSync(path)) continue;
    const bytes = readFileSync(path);
    for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) n++;
  }
  return n;
};

describe('erasure on SQLite', () => {
  it('leaves no copy of the visitor id or the e-mail in the database file or its log', async () => {
    const now = Date.now();
    for (let b = 0; b < 6; b++) {
      const events = Array.from({ length: 20 }, (_, i) => ({
        id: `${VISITOR}-${b}-${i}`,
        type: i === 0 && b === 0 ? 'identify' : 'page',
        ts: now - 60_000 + b * 1000 + i,
        ...(i === 0 && b === 0 ? { userId: EMAIL } : { url: `https://shop.test/p${i}?who=${EMAIL}`, title: EMAIL }),
      }));
      expect((await collect(VISITOR, events)).status).toBe(202);
    }
    for (let v = 0; v < 20; v++) {
      await collect(`other-${v}`, [{ id: `o${v}`, type: 'page', ts: now - 1000, url: 'https://shop.test/' }]);
    }
    expect(occurrences(VISITOR)).toBeGreaterThan(10);
    expect(occurrences(EMAIL)).toBeGreaterThan(10);

    const res = await fetch(`${c.url}/api/sites/demo/visitors/${VISITOR}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { deleted: { events: number } }).deleted.events).toBe(120);
    expect(occurrences(VISITOR)).toBe(0);
    expect(occurrences(EMAIL)).toBe(0);
    // The others are untouched.
    expect(occurrences('other-7')).toBeGreaterThan(0);
  });
});
