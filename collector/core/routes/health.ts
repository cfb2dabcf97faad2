/**
 * `GET /api/health` (the instance owner: the admin token or its first users): the storage's health — each database's size against its limit, full errors, moves in
 * progress (core/services/health.ts). 200 whatever the status: the body says it.
 */
import { Hono } from 'hono';
import { authorizeInstance } from '../access';
import type { ApiEnv } from '../http';
import { storageHealth } from '../services/health';

export const healthRoutes = () => {
  const r = new Hono<ApiEnv>();
  r.get('/health', async (c) => {
    authorizeInstance(c.var.actor, "the storage's health");
    const { probe, monitor } = c.var.storage;
    c.header('Cache-Control', 'no-store');
    return c.json(await storageHealth(c.var.store, probe, monitor, c.var.now()));
  });
  return r;
};
