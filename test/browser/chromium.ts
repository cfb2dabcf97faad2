/**
 * Launches Debian's Chromium through playwright-core. Locally, browser tests skip (loudly) when Chromium is
 * missing; under CI=true they must run, so a missing browser fails the run.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium announces itself as "HeadlessChrome", which the collector (rightly) drops as a bot. The tests
 * play real visitors, so they present the user agent of the same Chromium with a window.
 */
export const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

export const CHROMIUM_ARGS = [
  `--user-agent=${USER_AGENT}`,
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** True when the browser tests can run here; prints why not, and refuses to skip under CI. */
export const hasChromium = (): boolean => {
  if (existsSync(CHROMIUM)) return true;
  const msg = `\n!!! ${CHROMIUM} not found: the real-browser tests are SKIPPED. Install it: apt-get install -y chromium\n`;
  if (process.env.CI === 'true') throw new Error(`[cjm tests] CI=true but ${msg}`);
  console.warn(msg);
  return false;
};

export const launch = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });

/** Signs in with the admin token (its form is folded under e-mail and password) and waits for the journey map. */
export const signInWithToken = async (page: Page, url: string, token: string): Promise<void> => {
  await page.goto(`${url}/login`);
  await page.click('.token-sign-in summary');
  await page.fill('#token', token);
  await page.click('[data-testid=token-sign-in] button[type=submit]');
  await page.waitForURL(/\/sites\/demo\/map$/);
};
