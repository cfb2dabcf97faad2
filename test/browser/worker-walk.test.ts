/**
 * The same walk as demo-walk.test.ts, against the Worker on a real local workerd + D1: the demo shop and the tag
 * served from the assets binding, events through /collect into D1, the journey read back through the API.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startWorker, type LocalWorker } from '../worker/start';
import { hasChromium, launch } from './chromium';
import { walkDemoShop } from './walk';

describe.skipIf(!hasChromium())('demo shop walk in Chromium against the Worker (workerd + D1)', () => {
  let browser: Browser;
  let server: LocalWorker;

  beforeAll(async () => {
    server = await startWorker({ adminToken: 'walk-token-0123456789abcdef' });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('walks landing → signup → cart → checkout → thank-you and reads the journey back', () =>
    walkDemoShop(browser, server.url, server.token));
});
