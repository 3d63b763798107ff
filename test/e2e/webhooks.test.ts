// Outbound webhooks on the local stack, against a real receiver on 127.0.0.1: subscription, SSRF refusals,
// Standard Webhooks signatures checked by the `standardwebhooks` library, a retry after a 500, the log.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { futureSlot, startTestStack, type TestStack } from '../support/local-stack.ts';

let stack: TestStack;
let token: string;
let eventTypeId: string;
let receiver: Server;
let receiverUrl: string;
type Received = { headers: IncomingHttpHeaders; body: string; at: number; status: number };
const received: Received[] = [];

const api = (path: string, init: RequestInit & { json?: unknown; auth?: string } = {}) =>
  fetch(stack.httpUrl + path, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.auth === '' ? {} : { authorization: `Bearer ${init.auth ?? token}` }), ...(init.headers as Record<string, string>) },
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
  });

const until = async <T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

beforeAll(async () => {
  // Answers 500 the first time it sees a webhook-id, 200 after: every event has to be retried once.
  const seen = new Set<string>();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      const status = seen.has(id) ? 200 : 500;
      seen.add(id);
      received.push({ headers: req.headers, body, at: Date.now(), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  stack = await startTestStack();
  token = await stack.issuer.sign('webhook-organizer');
  const response = await api('/event-types', { method: 'POST', json: { title: 'Hooked call', slug: 'hooked', lengthMinutes: 30 } });
  eventTypeId = ((await response.json()) as any).id;
});

afterAll(async () => {
  await stack?.stop();
  receiver?.close();
});

describe('outbound webhooks on the local stack', () => {
  it('refuses targets that resolve to metadata, private, link-local or mapped addresses, naming url', async () => {
    for (const url of ['http://169.254.169.254/', 'http://10.0.0.7/hook', 'http://192.168.1.1/', 'http://[::ffff:169.254.169.254]/', 'http://[fd00:ec2::254]/', 'http://[fe80::1]/', 'ftp://example.com/']) {
      const response = await api('/webhooks', { method: 'POST', json: { url } });
      expect(response.status, url).toBe(422);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(((await response.json()) as any).errors).toEqual([expect.objectContaining({ path: 'url' })]);
    }
    const badEvent = await api('/webhooks', { method: 'POST', json: { url: receiverUrl, events: ['user.created'] } });
    expect(badEvent.status).toBe(400);
  });

  it('delivers each booking event signed, retries after a 500 within seconds with the same webhook-id, and logs both attempts', async () => {
    const created = await api('/webhooks', { method: 'POST', json: { url: receiverUrl, description: 'test receiver' } });
    expect(created.status).toBe(201);
    const subscription = (await created.json()) as any;
    expect(subscription.secret).toMatch(/^whsec_/);
    const shown = (await (await api(`/webhooks/${subscription.id}`)).json()) as any;
    expect(shown).toMatchObject({ id: subscription.id, url: receiverUrl, events: null, active: true });
    expect(JSON.stringify(shown)).not.toContain('whsec_');
    expect(((await (await api('/webhooks')).json()) as any).webhooks.map((w: any) => w.id)).toContain(subscription.id);

    const booking = (await (await api('/bookings', { method: 'POST', auth: '', json: { eventTypeId, start: futureSlot(2).toISOString(), attendee: { name: 'Hook Tester', email: 'hook@example.com', timeZone: 'UTC' } } })).json()) as any;
    const types = ['booking.requested', 'booking.created', 'booking.confirmed'];
    const deliveriesOf = (type: string) => received.filter((r) => JSON.parse(r.body).type === type && JSON.parse(r.body).aggregateId === booking.id);
    await until('every event twice', () => types.every((type) => deliveriesOf(type).length >= 2) || undefined);

    const verifier = new Webhook(subscription.secret);
    for (const type of types) {
      const [first, second] = deliveriesOf(type);
      expect(first!.status).toBe(500);
      expect(second!.status).toBe(200);
      expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
      expect(second!.at - first!.at).toBeLessThan(60_000);
      const payload = verifier.verify(second!.body, second!.headers as Record<string, string>) as any;
      expect(payload).toMatchObject({ type, aggregateId: booking.id, id: first!.headers['webhook-id'] });
    }
    expect(() => verifier.verify(deliveriesOf('booking.confirmed')[1]!.body.replace('booking', 'bookinG'), deliveriesOf('booking.confirmed')[1]!.headers as Record<string, string>)).toThrow();

    const log = await until('the log to show the successes', async () => {
      const body = (await (await api(`/webhooks/${subscription.id}/deliveries`)).json()) as any;
      return body.deliveries.filter((d: any) => d.state === 'delivered').length >= 3 ? body : undefined;
    });
    const confirmed = log.deliveries.find((d: any) => d.eventType === 'booking.confirmed');
    expect(confirmed.attempts.map((a: any) => a.status)).toEqual([500, 200]);
    expect(confirmed.attempts[0]).toEqual({ at: expect.any(String), status: 500, durationMs: expect.any(Number) });
    expect(confirmed.nextAttemptAt).toBeUndefined();
    // Newest first, and paginated.
    expect(log.deliveries[0].eventType).toBe('booking.confirmed');
    const page = (await (await api(`/webhooks/${subscription.id}/deliveries?limit=1`)).json()) as any;
    expect(page.deliveries).toHaveLength(1);
    const nextPage = (await (await api(`/webhooks/${subscription.id}/deliveries?limit=1&cursor=${page.next}`)).json()) as any;
    expect(nextPage.deliveries[0].eventId).not.toBe(page.deliveries[0].eventId);

    // Manual redelivery: one more attempt (this receiver now answers 200 at once).
    const before = received.length;
    const again = await api(`/webhooks/${subscription.id}/deliveries/${confirmed.eventId}/redeliver`, { method: 'POST' });
    expect(again.status).toBe(202);
    await until('the redelivery', () => received.length > before || undefined);
    expect(received.at(-1)!.headers['webhook-id']).toBe(confirmed.eventId);

    // Rotation: both secrets sign during the overlap.
    const rotated = (await (await api(`/webhooks/${subscription.id}/secret/rotate`, { method: 'POST' })).json()) as any;
    expect(rotated.secret).toMatch(/^whsec_/);
    const afterReplay = received.length;
    const replayed = await api(`/webhooks/${subscription.id}/replay`, { method: 'POST', json: { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() } });
    expect(replayed.status).toBe(202);
    expect(((await replayed.json()) as any).queued).toBe(3);
    await until('the replay', () => received.length >= afterReplay + 3 || undefined);
    const last = received.at(-1)!;
    expect(String(last.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(new Webhook(rotated.secret).verify(last.body, last.headers as Record<string, string>)).toBeTruthy();
    expect(new Webhook(subscription.secret).verify(last.body, last.headers as Record<string, string>)).toBeTruthy();

    // Only the events asked for; then gone.
    const narrowed = await api(`/webhooks/${subscription.id}`, { method: 'PATCH', json: { events: ['booking.cancelled'] } });
    expect(((await narrowed.json()) as any).events).toEqual(['booking.cancelled']);
    expect((await api(`/webhooks/${subscription.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/webhooks/${subscription.id}`)).status).toBe(404);
    const stranger = await stack.issuer.sign('someone-else');
    expect((await api(`/webhooks/${subscription.id}/deliveries`, { auth: stranger })).status).toBe(404);
  });
});
