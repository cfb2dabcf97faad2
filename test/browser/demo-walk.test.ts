/**
 * The newcomer's walk in real Chromium against the Node collector: the demo shop from landing to thank-you, then
 * the visitor's journey read back through the API: five stages in order, page views between them.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { start, type Running } from '../../collector/node';
import { hasChromium, launch } from './chromium';
import { walkDemoShop } from './walk';

describe.skipIf(!hasChromium())('demo shop walk in Chromium', () => {
  let browser: Browser;
  let server: Running;

  beforeAll(async () => {
    server = await start({ port: 0, db: ':memory:', adminToken: 'walk-token-0123456789abcdef' });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('walks landing → signup → cart → checkout → thank-you and reads the journey back', () =>
    walkDemoShop(browser, server.url, server.token));
});
