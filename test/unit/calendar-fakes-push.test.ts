// The local Google and Graph servers push as the real ones do: Google POSTs a 'sync' message when a channel
// is made and an 'exists' message per change (X-Goog-* headers, rising message numbers) until channels.stop;
// Graph validates a subscription's URLs (the validationToken echo) before creating it, then POSTs change
// notifications carrying the clientState, and lifecycle notifications on demand.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GOOGLE_CLIENT, startLocalGoogle, type LocalGoogle } from '../../infra/local/google-calendar.ts';
import { DEFAULT_GRAPH_CLIENT, startLocalGraph, trustLocalGraphCertificate, type LocalGraph } from '../../infra/local/microsoft-graph.ts';
import { googleOAuth, googleProvider } from '../../shared/calendars/providers/google.ts';
import { microsoftOAuth, microsoftProvider } from '../../shared/calendars/providers/microsoft.ts';
import type { OAuthClientConfig, OAuthFlow } from '../../shared/calendars/provider.ts';

type Received = { url: string; headers: IncomingMessage['headers']; body: string };
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
/** What the receiver answers a validation request with: the echo Graph wants, or something else. */
let echoValidation = true;
let google: LocalGoogle;
let graph: LocalGraph;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const token = new URL(request.url ?? '/', 'http://x').searchParams.get('validationToken');
      if (token !== null) response.writeHead(200, { 'content-type': 'text/plain' }).end(echoValidation ? token : 'no');
      else response.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  google = await startLocalGoogle();
  graph = await startLocalGraph();
  trustLocalGraphCertificate(graph.certificate);
});
afterAll(async () => {
  await google?.close();
  await graph?.close();
  receiver?.close();
});

async function credentialsOf(flow: OAuthFlow, email: string) {
  const url = new URL(flow.authorizationUrl({ state: 's', redirectUri: 'http://127.0.0.1:9/cb' }));
  url.searchParams.set('login_hint', email);
  const code = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
  return flow.exchangeCode({ code, redirectUri: 'http://127.0.0.1:9/cb' });
}

describe('the local Google pushes to watch channels', () => {
  it("sends 'sync' on watch, 'exists' per change with the channel's headers, and nothing after channels.stop", async () => {
    const config: OAuthClientConfig = { ...DEFAULT_GOOGLE_CLIENT, authorizeUrl: `${google.url}/o/oauth2/v2/auth`, tokenUrl: `${google.url}/token`, apiUrl: google.url };
    const provider = googleProvider(await credentialsOf(googleOAuth(config), 'push@example.com'), config);
    const start = received.length;
    const channel = await provider.watch('primary', { channelId: 'channel-1', token: 'secret-token', address: `${receiverUrl}/google`, ttlSeconds: 3600 });
    expect(channel.resourceId).toBeTruthy();
    await google.pushesSettled();
    await provider.putBookingEvent('primary', {
      bookingId: 'b-push', sequence: 1, status: 'confirmed', title: 't', description: 'd', start: '2027-03-10T09:00:00.000Z', end: '2027-03-10T09:30:00.000Z',
      timeZone: 'UTC', organizer: { email: 'h@example.com' }, attendee: { name: 'A', email: 'a@example.com' }, manageUrl: 'https://x/',
    });
    await google.pushesSettled();
    const messages = received.slice(start).filter((r) => r.url === '/google');
    expect(messages.map((m) => [m.headers['x-goog-resource-state'], m.headers['x-goog-message-number']])).toEqual([['sync', '1'], ['exists', '2']]);
    for (const m of messages) {
      expect(m.headers['x-goog-channel-id']).toBe('channel-1');
      expect(m.headers['x-goog-channel-token']).toBe('secret-token');
      expect(m.headers['x-goog-resource-id']).toBe(channel.resourceId);
    }
    await provider.stopWatch({ channelId: 'channel-1', resourceId: channel.resourceId });
    await provider.stopWatch({ channelId: 'channel-1', resourceId: channel.resourceId });
    await provider.removeBookingEvent('primary', 'b-push');
    await google.pushesSettled();
    expect(received.slice(start).filter((r) => r.url === '/google')).toHaveLength(2);
  });
});

describe('the local Graph notifies subscriptions', () => {
  it('validates the URL first, then sends change notifications with the clientState, and lifecycle ones on demand', async () => {
    const config: OAuthClientConfig = { ...DEFAULT_GRAPH_CLIENT, authorizeUrl: `${graph.url}/common/oauth2/v2.0/authorize`, tokenUrl: `${graph.url}/common/oauth2/v2.0/token`, apiUrl: graph.url };
    const provider = microsoftProvider(await credentialsOf(microsoftOAuth(config), 'push@example.com'), config);
    const [calendar] = await provider.listCalendars();
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const start = received.length;

    echoValidation = false;
    await expect(provider.createSubscription(calendar!.id, { notificationUrl: `${receiverUrl}/graph`, clientState: 'state-1', expiresAt })).rejects.toThrow(/400/);
    echoValidation = true;
    const subscription = await provider.createSubscription(calendar!.id, { notificationUrl: `${receiverUrl}/graph`, lifecycleNotificationUrl: `${receiverUrl}/lifecycle`, clientState: 'state-1', expiresAt });
    const validations = received.slice(start).filter((r) => r.url.includes('validationToken='));
    expect(validations.map((v) => v.url.split('?')[0])).toEqual(['/graph', '/graph', '/lifecycle']);

    await provider.putBookingEvent(calendar!.id, {
      bookingId: 'b-push', sequence: 1, status: 'confirmed', title: 't', description: 'd', start: '2027-03-10T09:00:00.000Z', end: '2027-03-10T09:30:00.000Z',
      timeZone: 'UTC', organizer: { email: 'h@example.com' }, attendee: { name: 'A', email: 'a@example.com' }, manageUrl: 'https://x/',
    });
    await graph.notificationsSettled();
    const changes = received.slice(start).filter((r) => r.url === '/graph').map((r) => JSON.parse(r.body).value[0]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ subscriptionId: subscription.id, changeType: 'created', clientState: 'state-1', resourceData: { '@odata.type': '#Microsoft.Graph.Event' } });

    const renewed = await provider.renewSubscription(subscription.id, new Date(Date.now() + 7200_000).toISOString());
    expect(Date.parse(renewed.expirationDateTime)).toBeGreaterThan(Date.parse(expiresAt));
    const lifecycle = await fetch(`${graph.url}/dev/subscriptions/${subscription.id}/lifecycle`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lifecycleEvent: 'reauthorizationRequired' }) });
    expect(lifecycle.status).toBe(202);
    await graph.notificationsSettled();
    const lifecycles = received.slice(start).filter((r) => r.url === '/lifecycle' && r.body).map((r) => JSON.parse(r.body).value[0]);
    expect(lifecycles).toEqual([expect.objectContaining({ subscriptionId: subscription.id, lifecycleEvent: 'reauthorizationRequired', clientState: 'state-1' })]);

    await provider.deleteSubscription(subscription.id);
    await provider.deleteSubscription(subscription.id);
    await provider.removeBookingEvent(calendar!.id, 'b-push');
    await graph.notificationsSettled();
    expect(received.slice(start).filter((r) => r.url === '/graph' && r.body)).toHaveLength(1);
  });
});
