/**
 * `GET /api/health` (admin): the storage's health — each database's size against its limit, full errors, moves in
 * progress (core/services/health.ts). 200 whatever the status: the body says it.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../http';
import { storageHealth } from '../services/health';

export const healthRoutes = () => {
  const r = new Hono<AppEnv>();
  r.get('/health', async (c) => {
    const { probe, monitor } = c.var.storage;
    c.header('Cache-Control', 'no-store');
    return c.json(await storageHealth(c.var.store, probe, monitor, c.var.now()));
  });
  return r;
};
