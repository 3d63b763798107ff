// The operator console in a real browser (Debian chromium via playwright-core) on the local stack: it opens
// signed in, a booking made over HTTP appears in its live feed within a second, and its versions can be stepped
// through with the keyboard. Screenshots are kept in test-artifacts/console/.
import { mkdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { assetsModule, bundleConsole } from '../../functions/http/console/build.ts';
import { futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

const artifacts = 'test-artifacts/console';
let stack: TestStack;
let browser: Browser;
let token: string;
let eventTypeId: string;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await startTestStack();
  token = await stack.issuer.sign('dev-organizer');
  const response = await fetch(`${stack.httpUrl}/event-types`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Console call', slug: 'console-call', lengthMinutes: 30 }),
  });
  eventTypeId = ((await response.json()) as any).id;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the operator console', () => {
  it('serves the bundle built from the current client and app (npm run console:build)', async () => {
    expect(readFileSync('functions/http/console/console-assets.ts', 'utf8')).toBe(assetsModule(await bundleConsole()));
  });

  it('shows a new booking live within a second, and steps through its versions by keyboard', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${stack.httpUrl}/console#token=${token}&ws=${encodeURIComponent(stack.wsUrl)}`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.getByText('live: live').waitFor();
    expect(await page.textContent('#signed-in')).toBe('signed in');
    expect(page.url()).not.toContain(token); // the token leaves the address bar

    const created = await fetch(`${stack.httpUrl}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ eventTypeId, start: futureSlot(8).toISOString(), attendee: { name: 'Vera', email: 'vera@example.com', timeZone: 'UTC' } }),
    });
    const booking = (await created.json()) as any;
    // From the moment the booking is recorded: stream, publisher, bus, push, browser.
    const sent = Date.now();
    await page.locator(`#feed li[data-aggregate="${booking.id}"]`).first().waitFor({ timeout: 5_000 });
    const latency = Date.now() - sent;
    expect(latency).toBeLessThan(1_000);
    await page.locator(`#feed li[data-aggregate="${booking.id}"]`, { hasText: 'booking.confirmed' }).waitFor();
    await page.screenshot({ path: `${artifacts}/live-feed.png` });

    await page.getByRole('button', { name: `Open booking ${booking.id}` }).first().click();
    const slider = page.getByLabel('Time travel');
    await expect.poll(() => page.textContent('#version-label')).toBe('version 3 of 3');
    expect(JSON.parse((await page.textContent('#snapshot'))!)).toMatchObject({ status: 'confirmed', version: 3 });
    await slider.focus();
    await page.keyboard.press('Home');
    await expect.poll(() => page.textContent('#version-label')).toBe('version 1 of 3');
    expect(JSON.parse((await page.textContent('#snapshot'))!)).toMatchObject({ status: 'draft', version: 1 });
    await page.screenshot({ path: `${artifacts}/time-travel.png` });
    await page.close();
  });
});
