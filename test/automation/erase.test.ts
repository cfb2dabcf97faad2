/**
 * Erasing visitors from automation (for the store's `erase`): their stalls and deliveries (whose bodies carry their
 * journey) with the attempts go; other visitors' stay.
 */
import { expect, it } from 'vitest';
import { deliverDue } from '../../collector/core/automation/deliver';
import { ensureDemoSite } from '../../collector/core/bootstrap';
import { createSqlStore } from '../../collector/stores/sql';
import { eraseAutomationStatements } from '../../collector/stores/sql/automation';
import { openSqlite, sqliteConnector } from '../../collector/stores/sqlite';
import { BASE, MIN, pageAt, rule, send } from './helpers';

it('erases the stalls and deliveries of the given visitors only', async () => {
  const db = openSqlite(':memory:');
  const connector = sqliteConnector(db);
  const store = createSqlStore(connector);
  await ensureDemoSite(store);
  await store.putRule(rule({ type: 'stage_entered', stage: 'cart' }));
  await store.putRule(rule({ type: 'stalled', stages: ['cart'], after: '1h', emit: 'cart_abandoned' }));
  for (const v of ['keep', 'gone1', 'gone2']) await send(store, v, [pageAt('/cart.html', BASE)]);
  await deliverDue({
    store,
    now: () => BASE + MIN,
    fetch: async () => new Response('no', { status: 500 }),
    resolve: async () => ['93.184.215.14'],
  });
  const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  expect([count('automation_deliveries'), count('automation_attempts'), count('automation_stalls')]).toEqual([3, 3, 3]);

  await connector.batch(eraseAutomationStatements('demo', ['gone1', 'gone2']));
  expect([count('automation_deliveries'), count('automation_attempts'), count('automation_stalls')]).toEqual([1, 1, 1]);
  expect((await store.listDeliveries('demo', { limit: 10 })).map((d) => d.visitor)).toEqual(['keep']);
  expect(eraseAutomationStatements('demo', [])).toEqual([]);
});
