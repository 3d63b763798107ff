// The operator console in a real browser (Debian chromium via playwright-core) on the local stack: it opens
// signed in, a booking made over HTTP appears in its live feed (how soon is kept in test-artifacts), its versions
// can be stepped through with the keyboard, a webhook's deliveries are listed and redelivered, and the local
// Radicale account, connected with the dev login, shows its sync state, syncs by keyboard and lists its conflict. Screenshots
// are kept in test-artifacts/console/.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { assetsModule, bundleConsole } from '../../functions/http/console/build.ts';
import { DEV_CALDAV_LOGIN } from '../../infra/local/caldav-server.ts';
import { futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

const artifacts = 'test-artifacts/console';
let stack: TestStack;
let browser: Browser;
let token: string;
let eventTypeId: string;
/** A webhook receiver on 127.0.0.1 (the local stack's SSRF guard allows loopback alone): it counts what it gets. */
let receiver: Server;
let received = 0;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received++;
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
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
  await new Promise((resolve) => receiver?.close(resolve));
});

describe('the operator console', () => {
  it('serves the bundle built from the current client and app (npm run console:build)', async () => {
    expect(readFileSync('functions/http/console/console-assets.ts', 'utf8')).toBe(assetsModule(await bundleConsole()));
  });

  it('shows a new booking in its live feed, and steps through its versions by keyboard', async () => {
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
    // Not bounded by time here (the suite runs on a loaded machine); the latency is kept as an artifact and
    // measured by the bench (npm run bench, push section).
    await page.locator(`#feed li[data-aggregate="${booking.id}"]`).first().waitFor({ timeout: 60_000 });
    writeFileSync(`${artifacts}/live-latency-ms.txt`, `${Date.now() - sent}\n`);
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

  it('shows the webhook deliveries and redelivers one', async () => {
    const organizerHeaders = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() };
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const subscribed = await fetch(`${stack.httpUrl}/webhooks`, { method: 'POST', headers: organizerHeaders, body: JSON.stringify({ url, events: ['booking.confirmed'] }) });
    expect(subscribed.status).toBe(201);
    const { id: webhookId } = (await subscribed.json()) as any;
    const created = await fetch(`${stack.httpUrl}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ eventTypeId, start: futureSlot(9).toISOString(), attendee: { name: 'Wim', email: 'wim@example.com', timeZone: 'UTC' } }),
    });
    expect(created.status).toBe(202);
    // The delivery is recorded once the receiver has answered.
    await expect.poll(async () => {
      const log = (await (await fetch(`${stack.httpUrl}/webhooks/${webhookId}/deliveries`, { headers: { authorization: `Bearer ${token}` } })).json()) as any;
      return log.deliveries.find((d: any) => d.state === 'delivered')?.eventType;
    }, { timeout: 60_000 }).toBe('booking.confirmed');
    const before = received;

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${stack.httpUrl}/console#token=${token}&ws=${encodeURIComponent(stack.wsUrl)}`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.getByRole('button', { name: `Deliveries of ${url}` }).click();
    const row = page.locator('#deliveries li', { hasText: 'booking.confirmed delivered' });
    await row.waitFor();
    expect(await row.textContent()).toContain('last answered 204');
    await page.screenshot({ path: `${artifacts}/webhook-deliveries.png` });
    // Redeliver by keyboard: focus the button and press Enter.
    await row.getByRole('button', { name: /^Redeliver booking\.confirmed/ }).focus();
    await page.keyboard.press('Enter');
    await page.getByText(/^redelivering /).waitFor();
    await expect.poll(() => received, { timeout: 60_000 }).toBe(before + 1);
    await page.close();
  });

  it('shows the CalDAV connection with its sync state, syncs it by keyboard, and lists the conflict it finds', async () => {
    const caldav = stack.caldav;
    expect(caldav, 'the local stack runs Radicale (apt-get install radicale)').toBeDefined();
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const made = await fetch(`${stack.httpUrl}/calendars/connections`, {
      method: 'POST',
      headers: { ...auth, 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ provider: 'caldav', serverUrl: caldav!.url, username: DEV_CALDAV_LOGIN.username, password: DEV_CALDAV_LOGIN.password }),
    });
    const connection = (await made.json()) as any;
    expect(made.status, JSON.stringify(connection)).toBe(201);
    const read = async () => (await (await fetch(`${stack.httpUrl}/calendars/connections/${connection.id}`, { headers: auth })).json()) as any;
    await expect.poll(async () => (await read()).sync.state, { timeout: 60_000 }).toBe('ok');
    // A booking of the dev organizer, then an event of its own put over it by a plain CalDAV client.
    const start = futureSlot(10);
    const booked = await fetch(`${stack.httpUrl}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ eventTypeId, start: start.toISOString(), attendee: { name: 'Xia', email: 'xia@example.com', timeZone: 'UTC' } }),
    });
    expect(booked.status).toBe(202);
    const { id: bookingId } = (await booked.json()) as any;

    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    await page.goto(`${stack.httpUrl}/console#token=${token}&ws=${encodeURIComponent(stack.wsUrl)}`);
    await page.waitForSelector('body[data-ready="true"]');
    const row = page.locator(`#connections li[data-connection="${connection.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(`caldav ${connection.accountEmail ?? connection.id}`);
    expect(await row.textContent()).toContain('connected');
    const calendar = row.getByRole('list', { name: /^Calendars of / }).locator('li').first();
    expect(await calendar.textContent()).toMatch(/busy-checked, destination/);
    const sync = page.locator(`#connections p[data-sync="${connection.id}"]`);
    expect(await sync.textContent()).toMatch(/^sync: ok; last success \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; last error none; next run /);
    const before = (await sync.textContent())!;
    await page.screenshot({ path: `${artifacts}/calendar-connections.png` });

    const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//console//EN', 'BEGIN:VEVENT', `UID:dentist-${crypto.randomUUID()}`, `DTSTAMP:${stamp(new Date())}`, `DTSTART:${stamp(start)}`, `DTEND:${stamp(new Date(start.getTime() + 3_600_000))}`, 'SUMMARY:Dentist', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
    const basic = `Basic ${Buffer.from(`${DEV_CALDAV_LOGIN.username}:${DEV_CALDAV_LOGIN.password}`).toString('base64')}`;
    const put = await fetch(`${caldav!.calendarUrl(DEV_CALDAV_LOGIN.username)}dentist-console.ics`, { method: 'PUT', headers: { authorization: basic, 'content-type': 'text/calendar' }, body: ics });
    expect(put.status).toBe(201);

    // Sync now by keyboard: the button is labelled with the account, and Enter asks for the sync.
    await row.getByRole('button', { name: /^Sync now caldav / }).focus();
    await page.keyboard.press('Enter');
    await page.getByText(`sync of ${connection.id} asked:`).waitFor();
    // The console reads the state again until the new sync has run: a later last success.
    await expect.poll(async () => { const text = (await sync.textContent())!; return text !== before && text.startsWith('sync: ok;'); }, { timeout: 60_000 }).toBe(true);
    // The re-rendered row keeps the keyboard where it was.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toMatch(/^Sync now caldav /);
    await page.screenshot({ path: `${artifacts}/calendar-synced.png` });

    // The conflict (the dentist over the booking), open, with its severity, as the console lists it on load.
    const conflicts = async () => ((await (await fetch(`${stack.httpUrl}/calendars/conflicts?status=open`, { headers: auth })).json()) as any).conflicts;
    await expect.poll(async () => (await conflicts()).some((c: any) => c.booking.id === bookingId), { timeout: 60_000 }).toBe(true);
    const conflict = (await conflicts()).find((c: any) => c.booking.id === bookingId);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    const listed = page.locator(`#conflicts li[data-conflict="${conflict.conflictId}"]`);
    await listed.waitFor();
    expect(await listed.textContent()).toContain(`severity ${conflict.severity}: booking ${bookingId}`);
    await page.screenshot({ path: `${artifacts}/calendar-conflicts.png` });
    await page.close();
  });

  it('shows a connection whose login the server no longer accepts as needing re-authorization', async () => {
    const caldav = stack.caldav!;
    const auth = { authorization: `Bearer ${token}` };
    const { connections } = (await (await fetch(`${stack.httpUrl}/calendars/connections`, { headers: auth })).json()) as any;
    expect(connections).toHaveLength(1);
    const connection = connections[0];
    // The password changes on the server (Radicale reads its htpasswd file, beside its log, at every login).
    const htpasswd = join(dirname(caldav.logFile), 'users');
    const users = readFileSync(htpasswd, 'utf8');
    writeFileSync(htpasswd, `${DEV_CALDAV_LOGIN.username}:changed-elsewhere\n`);
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
      await page.goto(`${stack.httpUrl}/console#token=${token}&ws=${encodeURIComponent(stack.wsUrl)}`);
      await page.waitForSelector('body[data-ready="true"]');
      const row = page.locator(`#connections li[data-connection="${connection.id}"]`);
      await row.waitFor();
      expect(await row.locator('.alert').count()).toBe(0);
      await row.getByRole('button', { name: /^Sync now caldav / }).focus();
      await page.keyboard.press('Enter');
      await row.locator('.alert', { hasText: /^needs re-authorization/ }).waitFor({ timeout: 60_000 });
      expect(await page.locator(`#connections p[data-sync="${connection.id}"]`).textContent()).toMatch(/^sync: needs_reauth; .*last error the provider no longer accepts the grant/);
      await page.screenshot({ path: `${artifacts}/calendar-needs-reauth.png` });
      await page.close();
    } finally {
      writeFileSync(htpasswd, users);
    }
  });
});
