/**
 * Moving a site's data to another database (`npm run move-site`, scripts/move-site.ts): between the D1 databases of a
 * Worker (`DB` → `DB_SHOP`), or out of a Node SQLite file (`npm start`'s `data/cjm.db`) into D1.
 *
 * Steps, each safe to run again after a crash (the progress is kept in the main database, `site-move:<site>`):
 * 1. **pause**: a `site-paused:<site>` row in the source and in the target. From then on every write of the site's
 *    data fails in both (the routing store's guard, stores/routed.ts): `/collect` and `/v1/*` answer 503 with
 *    Retry-After, the tags and server-side clients keep the events and send them again. Writes committed before the
 *    pause are in the source and are copied; none can commit after it. Cross-site passes (stalls, webhooks, pruning)
 *    leave both databases alone while the row says `moving`.
 * 2. **copy**: every site-scoped table (stores/copy.ts), in chunks, `INSERT OR IGNORE` (a resumed copy keeps what
 *    it copied). Out of a Node file, the site's settings too: its configuration, write keys, automation settings and
 *    webhook secret, the days' salts the target lacks, and the hashing secret's check (the Worker must run with the
 *    file's secret: `CJM_SECRET`, or the content of `<file>.secret`; a move into a D1 that hashes with another one
 *    is refused before it starts).
 * 3. **verify**: the site's row count of every table is the same in both; otherwise nothing is switched.
 * 4. **switch**: the routing table in main names the target (one batch with the move's new state), then the
 *    target's pause row goes: writes resume, into the target. The tags' retries land there.
 * 5. **delete**: the site's rows leave the source in chunks; its pause row stays as `moved`, so a request that read
 *    the old routing before the switch still cannot write there. Then the move's record goes.
 *
 * Ingest is paused for the site during the copy (decided: a copy that goes on while the site takes writes would need
 * change tracking of every derived table to catch up, and the tag already keeps unsent events and retries 503). The
 * README gives the copy rate, to plan the pause.
 */
import type { SqlConnector } from './sql';
import { query, sql } from './sql/shared';
import { META, readPause, type PauseRecord } from './routed';
import {
  copyTable,
  countRows,
  deleteRows,
  HASH_META,
  planTables,
  SHARED_META_PREFIXES,
  siteMetaKeys,
  type TablePlan,
} from './copy';

/** The databases a move works on. */
export interface MoveDatabases {
  /** The main database's name among `databases` (default `DB`). */
  main?: string;
  /** The Worker's D1 databases by binding name, main included. */
  databases: Readonly<Record<string, SqlConnector>>;
  /** A move out of a Node SQLite file: the file (`label` names it in messages, e.g. its path). */
  sqlite?: { db: SqlConnector; label: string };
}

export interface MoveOptions {
  site: string;
  /** The target binding (`DB_SHOP`, or `DB`). */
  to: string;
  /** Rows per read, write and delete (default 500). */
  chunk?: number;
  /** A fresh move into a target that already holds rows of the site: delete them first (else refuse). */
  replaceTarget?: boolean;
  /** Give up a move that has not switched yet: the target's copy is deleted and the site resumes in the source. */
  abort?: boolean;
  log?: (line: string) => void;
  /** Called at every step and after every chunk (tests crash a move here and run it again). */
  onStep?: (step: string) => void | Promise<void>;
  now?: () => number;
}

export interface MoveResult {
  site: string;
  from: string;
  to: string;
  /** `moved`: done now; `already`: the site was there; `aborted`. */
  outcome: 'moved' | 'already' | 'aborted';
  /** Rows per table in the target after the copy. */
  rows: Record<string, number>;
}

interface MoveRecord {
  from: string;
  to: string;
  state: 'copying' | 'switched';
  startedAt: number;
}

const fail = (message: string): never => {
  throw new Error(`[cjm] move-site: ${message}`);
};

const metaValue = async (db: SqlConnector, key: string): Promise<string | null> =>
  (await query<{ value: string }>(db, sql`SELECT value FROM meta WHERE key = ${key}`))[0]?.value ?? null;

const putMeta = (key: string, value: string) =>
  sql`INSERT INTO meta (key, value) VALUES (${key}, ${value}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`;

const migrations = async (db: SqlConnector): Promise<string[]> =>
  (await query<{ name: string }>(db, sql`SELECT name FROM d1_migrations ORDER BY name`)).map((r) => r.name);

/**
 * Moves one site's data (see the steps above). Safe to run again whatever step a previous run stopped at.
 *
 * @example
 * await moveSite({ databases: { DB: d1Connector(env.DB), DB_SHOP: d1Connector(env.DB_SHOP) } }, { site: 'shop', to: 'DB_SHOP' })
 */
export const moveSite = async (dbs: MoveDatabases, o: MoveOptions): Promise<MoveResult> => {
  const mainName = dbs.main ?? 'DB';
  const main = dbs.databases[mainName] ?? fail(`there is no main database ${mainName}`);
  const target =
    dbs.databases[o.to] ??
    fail(
      `there is no D1 database ${o.to}: add [[d1_databases]] binding = "${o.to}" to wrangler.toml, create it (wrangler d1 create), apply the migrations, and deploy`,
    );
  const log = o.log ?? (() => {});
  const step = async (name: string) => {
    await o.onStep?.(name);
  };
  const now = o.now ?? Date.now;
  const chunk = o.chunk ?? 500;
  const site = o.site;

  // Where the site is now.
  const routed = await metaValue(main, META.database(site));
  const record = ((v) => (v ? (JSON.parse(v) as MoveRecord) : null))(await metaValue(main, META.move(site)));
  const fromName = dbs.sqlite ? `sqlite:${dbs.sqlite.label}` : (record?.from ?? routed ?? mainName);
  if (record && (record.to !== o.to || record.from !== fromName)) {
    fail(
      `a move of site "${site}" from ${record.from} to ${record.to} is under way (since ${new Date(record.startedAt).toISOString()}); finish it with --to ${record.to}${record.state === 'copying' ? ' or give it up with --abort' : ''}`,
    );
  }
  const source = dbs.sqlite
    ? dbs.sqlite.db
    : (dbs.databases[fromName] ?? fail(`site "${site}" is in ${fromName}, which is not a D1 binding here`));
  const configIn = async (db: SqlConnector) =>
    (await query<{ id: string }>(db, sql`SELECT id FROM sites WHERE id = ${site}`)).length > 0;
  if (!(await configIn(dbs.sqlite ? source : main)) && !record) fail(`there is no site "${site}" in ${fromName}`);

  // Both databases must have the same schema: a table copied by name needs the same columns on both sides.
  const plan = await planTables(source);
  const [mSource, mTarget] = [await migrations(source), await migrations(target)];
  const missing = mSource.filter((m) => !mTarget.includes(m));
  if (missing.length) {
    fail(`${o.to} lacks migrations ${missing.join(', ')}: apply them first (wrangler d1 migrations apply ${o.to})`);
  }
  const extra = mTarget.filter((m) => !mSource.includes(m));
  if (extra.length) fail(`${fromName} lacks migrations ${extra.join(', ')}: upgrade it first (npm start migrates it)`);
  const tables = plan.filter((t) => t.rule !== 'settings');
  const settings = dbs.sqlite ? plan.filter((t) => t.rule === 'settings') : [];

  if (o.abort) {
    if (!record) fail(`no move of site "${site}" is under way`);
    if (record?.state !== 'copying') fail(`the move of site "${site}" has switched to ${o.to}: run it again to finish`);
    log(`[cjm] move-site: giving up the move of "${site}" to ${o.to}: deleting its copy there`);
    for (const t of [...tables].reverse()) await deleteRows(target, t, site, chunk);
    await target.batch([sql`DELETE FROM meta WHERE key = ${META.paused(site)}`]);
    await source.batch([sql`DELETE FROM meta WHERE key = ${META.paused(site)}`]);
    await main.batch([sql`DELETE FROM meta WHERE key = ${META.move(site)}`]);
    return { site, from: fromName, to: o.to, outcome: 'aborted', rows: {} };
  }

  const counts = async (db: SqlConnector, list: TablePlan[]) => {
    const out: Record<string, number> = {};
    for (const t of list) out[t.name] = await countRows(db, t, site);
    return out;
  };

  let state = record?.state;
  const startedAt = record?.startedAt ?? now();
  const moving: PauseRecord = { state: 'moving', from: fromName, to: o.to, at: startedAt };
  if (!record) {
    if (!dbs.sqlite && fromName === o.to) {
      log(`[cjm] move-site: site "${site}" is in ${o.to} already`);
      return { site, from: fromName, to: o.to, outcome: 'already', rows: await counts(target, tables) };
    }
    // Out of a Node file: the Worker must hash with the file's secret, or the copied tombstones and server-side ids
    // would match nothing (erased visitors would come back).
    if (dbs.sqlite) {
      const [mine, theirs] = [await metaValue(source, HASH_META.check), await metaValue(main, HASH_META.check)];
      if (mine && theirs && mine !== theirs) {
        fail(
          `the Worker's ${mainName} hashes with another secret than ${dbs.sqlite.label}: tombstones and server-side visitor ids copied from the file would match nothing there. Give the Worker the file's secret (wrangler secret put CJM_SECRET, with the CJM_SECRET Node used or the content of ${dbs.sqlite.label}.secret) before its first start, or move into a D1 database the Worker has not started on`,
        );
      }
    }
    // A fresh move: the target must not hold rows of the site (a Worker that already took its events, say).
    const there = Object.entries(await counts(target, tables)).filter(([, n]) => n > 0);
    if (there.length) {
      if (!o.replaceTarget) {
        fail(
          `${o.to} holds rows of site "${site}" already (${there.map(([t, n]) => `${t}: ${n}`).join(', ')}); move-site copies into a database without them. Pass --replace-target to delete them first`,
        );
      }
      log(`[cjm] move-site: deleting the rows of "${site}" that ${o.to} held (--replace-target)`);
      for (const t of [...tables].reverse()) await deleteRows(target, t, site, chunk);
    }
    const rec: MoveRecord = { from: fromName, to: o.to, state: 'copying', startedAt };
    await main.batch([putMeta(META.move(site), JSON.stringify(rec))]);
    state = 'copying';
    log(`[cjm] move-site: moving site "${site}" from ${fromName} to ${o.to}`);
  }
  await step('recorded');

  if (state === 'copying') {
    // 1. Pause: no write of the site commits in either database from now on.
    await source.batch([putMeta(META.paused(site), JSON.stringify(moving))]);
    await target.batch([putMeta(META.paused(site), JSON.stringify(moving))]);
    log(`[cjm] move-site: "${site}" paused in ${fromName} and ${o.to}: its writes are answered 503 until the switch`);
    await step('paused');

    // 2. Copy.
    for (const t of tables) {
      const n = await copyTable(source, target, t, site, chunk, (p) => step(`copy:${p.table}:${p.copied}`));
      if (n) log(`[cjm] move-site: ${t.name}: ${n} rows read`);
    }
    await step('copied');

    // 3. Verify.
    const [a, b] = [await counts(source, tables), await counts(target, tables)];
    const wrong = tables.filter((t) => a[t.name] !== b[t.name]);
    if (wrong.length) {
      fail(
        `the copy differs (${wrong.map((t) => `${t.name}: ${a[t.name]} in ${fromName}, ${b[t.name]} in ${o.to}`).join('; ')}); nothing was switched, the site stays paused: run the command again, or give the move up with --abort`,
      );
    }
    log(`[cjm] move-site: verified: ${Object.values(a).reduce((x, y) => x + y, 0)} rows in ${tables.length} tables`);
    await step('verified');

    // 4. Switch: settings (out of a Node file), then the routing table and the move's state in one batch.
    if (dbs.sqlite) {
      for (const t of settings) {
        if (t.name === 'sites') {
          // The file's configuration wins over one the Worker has (the demo site, say).
          const [row] = await query<{ id: string; config: string; created_at: number }>(
            source,
            sql`SELECT id, config, created_at FROM sites WHERE id = ${site}`,
          );
          if (row) {
            const config = JSON.parse(row.config) as Record<string, unknown>;
            delete config.database;
            await main.batch([
              sql`INSERT INTO sites (id, config, created_at) VALUES (${row.id}, ${JSON.stringify(config)}, ${row.created_at})
                  ON CONFLICT (id) DO UPDATE SET config = excluded.config`,
            ]);
          }
        } else await copyTable(source, main, t, site, chunk);
      }
      for (const key of siteMetaKeys(site)) {
        const v = await metaValue(source, key);
        if (v !== null) await main.batch([putMeta(key, v)]);
      }
      // The file's hashing secret check (and the secret, when the file keeps it): a Worker started with another
      // CJM_SECRET refuses to start instead of writing tombstones that match nothing.
      for (const key of [HASH_META.secret, HASH_META.check]) {
        const v = await metaValue(source, key);
        if (v !== null) await main.batch([sql`INSERT OR IGNORE INTO meta (key, value) VALUES (${key}, ${v})`]);
      }
      for (const prefix of SHARED_META_PREFIXES) {
        const rows = await query<{ key: string; value: string }>(
          source,
          sql`SELECT key, value FROM meta WHERE substr(key, 1, ${prefix.length}) = ${prefix}`,
        );
        for (const r of rows)
          await main.batch([sql`INSERT OR IGNORE INTO meta (key, value) VALUES (${r.key}, ${r.value})`]);
      }
    }
    const switched: MoveRecord = { from: fromName, to: o.to, state: 'switched', startedAt };
    await main.batch([
      o.to === mainName ? sql`DELETE FROM meta WHERE key = ${META.database(site)}` : putMeta(META.database(site), o.to),
      putMeta(META.move(site), JSON.stringify(switched)),
    ]);
    log(`[cjm] move-site: "${site}" now routes to ${o.to}`);
    await step('switched');
  }

  // Writes resume, into the target (also after a crash right after the switch).
  await target.batch([sql`DELETE FROM meta WHERE key = ${META.paused(site)}`]);
  await step('resumed');

  // 5. Delete the source's rows (the pause row stays `moving` until they are gone, so no cross-site pass acts on them).
  const rows = await counts(target, tables);
  for (const t of [...tables].reverse()) {
    const n = await deleteRows(source, t, site, chunk, (p) => step(`delete:${p.table}:${p.copied}`));
    if (n) log(`[cjm] move-site: ${t.name}: ${n} rows deleted from ${fromName}`);
  }
  const paused = await readPause(source, site);
  const moved: PauseRecord = { ...(paused ?? moving), state: 'moved', at: now() };
  await source.batch([putMeta(META.paused(site), JSON.stringify(moved))]);
  await main.batch([sql`DELETE FROM meta WHERE key = ${META.move(site)}`]);
  await step('done');
  log(`[cjm] move-site: site "${site}" moved from ${fromName} to ${o.to}`);
  return { site, from: fromName, to: o.to, outcome: 'moved', rows };
};
