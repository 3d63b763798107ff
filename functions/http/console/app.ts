/// <reference lib="dom" />
// The operator console, in the browser: built on the typed client, its live feed and nothing else. Bundled with
// the client into console-assets.ts (npm run console:build), which GET /console serves.
import { BookingClient, LiveFeed, ProblemError, type Booking, type LiveEvent, type ResponseOf } from '../../../shared/client/index.ts';

const params = new URLSearchParams(location.hash.slice(1));
// The token arrives in the fragment, which is never sent to a server; it is kept for this tab only.
const token = params.get('token') ?? sessionStorage.getItem('console-token') ?? undefined;
if (token) sessionStorage.setItem('console-token', token);
const wsUrl = params.get('ws') ?? sessionStorage.getItem('console-ws') ?? document.body.dataset.ws ?? '';
if (wsUrl) sessionStorage.setItem('console-ws', wsUrl);
history.replaceState(null, '', location.pathname);

const client = new BookingClient({ baseUrl: document.body.dataset.api || location.origin, token });
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = (tag: string, text?: string, attrs: Record<string, string> = {}) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
};
const say = (message: string) => ($('status').textContent = message);
const problemText = (error: unknown) => (error instanceof ProblemError ? `${error.status} ${error.title}: ${error.detail ?? ''}` : String(error));

// Live feed: newest first, at most 200 rows.
function showEvent(event: LiveEvent, position: number) {
  const row = el('li', `#${position} ${event.type} v${event.version} ${event.aggregateId}`, { 'data-aggregate': event.aggregateId });
  if (event.aggregateId && event.type.startsWith('booking.')) {
    const open = el('button', 'Open', { type: 'button', 'aria-label': `Open booking ${event.aggregateId}` });
    open.addEventListener('click', () => void openBooking(event.aggregateId));
    row.append(' ', open);
  }
  const feed = $('feed');
  feed.prepend(row);
  while (feed.children.length > 200) feed.lastElementChild!.remove();
  if (event.type.startsWith('booking.')) void loadBookings();
  // A connection's own events (re-authorization needed, conflicts) refresh the calendar section.
  if (event.type.startsWith('calendar.')) void loadCalendars();
}
if (token && wsUrl) {
  new LiveFeed({
    url: `${wsUrl}/?token=${encodeURIComponent(token)}`,
    onEvent: showEvent,
    onReset: () => void loadBookings(),
    onStatus: (status) => ($('live-status').textContent = status),
  });
}

async function loadBookings() {
  try {
    const { bookings } = await client.listBookings({ limit: 50 });
    const list = $('bookings');
    list.replaceChildren(
      ...bookings.map((b: Booking) => {
        const item = el('li');
        const button = el('button', `${b.start.slice(0, 16).replace('T', ' ')} ${b.title} — ${b.status}`, { type: 'button', 'data-booking': b.id });
        button.addEventListener('click', () => void openBooking(b.id));
        item.append(button);
        return item;
      }),
    );
  } catch (error) {
    say(problemText(error));
  }
}

async function openBooking(id: string) {
  try {
    const [booking, { events }] = await Promise.all([client.getBooking(id), client.bookingEvents(id)]);
    $('detail-title').textContent = `${booking.title} (${id})`;
    const history = $('history');
    history.replaceChildren(
      ...events.map((e) => {
        const item = el('li');
        const button = el('button', `v${e.version} ${e.type} ${e.metadata.timestamp}`, { type: 'button', 'data-version': String(e.version) });
        button.addEventListener('click', () => void showVersion(id, e.version, events.length));
        item.append(button);
        return item;
      }),
    );
    $<HTMLInputElement>('version').max = String(events.length);
    $<HTMLInputElement>('version').value = String(events.length);
    $('version').onchange = () => void showVersion(id, Number($<HTMLInputElement>('version').value), events.length);
    await showVersion(id, events.length, events.length);
    $('detail').hidden = false;
    $('version').focus();
  } catch (error) {
    say(problemText(error));
  }
}

async function showVersion(id: string, version: number, of: number) {
  const past = await client.getBooking(id, { version });
  $<HTMLInputElement>('version').value = String(version);
  $('version-label').textContent = `version ${version} of ${of}`;
  $('snapshot').textContent = JSON.stringify(past, null, 2);
}

$('slots-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  try {
    const { slots } = await client.slots({ eventTypeId: String(form.get('eventTypeId')), start: String(form.get('day')), end: String(form.get('day')), timeZone: 'UTC' });
    $('slots').replaceChildren(...Object.values(slots).flat().map((s) => el('li', s.start)));
  } catch (error) {
    say(problemText(error));
  }
});

// Webhook deliveries: the organizer's subscriptions, each one's delivery log (newest first), and redelivery.
async function loadWebhooks() {
  try {
    const { webhooks } = await client.call('listWebhooks');
    $('webhooks').replaceChildren(
      ...webhooks.map((w) => {
        const item = el('li', `${w.url} ${w.active ? 'active' : `off (${w.disabledReason ?? 'disabled'})`} `);
        const button = el('button', 'Deliveries', { type: 'button', 'aria-label': `Deliveries of ${w.url}`, 'data-webhook': w.id });
        button.addEventListener('click', () => void showDeliveries(w.id));
        item.append(button);
        return item;
      }),
    );
  } catch (error) {
    say(problemText(error));
  }
}

async function showDeliveries(webhookId: string) {
  try {
    const { deliveries } = await client.call('listDeliveries', { params: { id: webhookId } });
    $('deliveries').replaceChildren(
      ...deliveries.map((d) => {
        const delivery = d as { eventId: string; eventType: string; state: string; attempts: Array<{ status: number | null }> };
        const last = delivery.attempts.at(-1);
        const item = el('li', `${delivery.eventType} ${delivery.state}, ${delivery.attempts.length} attempt(s)${last ? `, last answered ${last.status ?? 'nothing'}` : ''} `, { 'data-event': delivery.eventId });
        const again = el('button', 'Redeliver', { type: 'button', 'aria-label': `Redeliver ${delivery.eventType} ${delivery.eventId}` });
        again.addEventListener('click', async () => {
          try {
            await client.call('redeliver', { params: { id: webhookId, eventId: delivery.eventId } });
            say(`redelivering ${delivery.eventId}`);
            await showDeliveries(webhookId);
          } catch (error) {
            say(problemText(error));
          }
        });
        item.append(again);
        return item;
      }),
    );
  } catch (error) {
    say(problemText(error));
  }
}

// Calendar connections: each one's account and status, its calendars' flags, its sync state with "Sync now";
// and the open conflicts (an external event over a booking) with their severity.
type Connection = ResponseOf<'listConnections'>['connections'][number];
const when = (iso: string | null) => (iso ? iso.slice(0, 19).replace('T', ' ') + ' UTC' : 'never');
const settled = new Set(['ok', 'failing', 'needs_reauth', 'idle']);

function showConnection(c: Connection) {
  const account = c.accountEmail ?? c.id;
  const item = el('li', undefined, { 'data-connection': c.id, 'data-sync-state': c.sync.state });
  item.append(el('strong', `${c.provider} ${account}`), ' ');
  // The sync state says it first (the connection's status follows from the event it records).
  item.append(c.status === 'needs_reauth' || c.sync.state === 'needs_reauth' ? el('strong', `needs re-authorization${c.reauthReason ? `: ${c.reauthReason}` : ''}`, { class: 'alert' }) : el('span', 'connected'));
  const calendars = el('ul', undefined, { 'aria-label': `Calendars of ${account}` });
  calendars.append(
    ...c.calendars.map((cal) =>
      el('li', [cal.name, cal.primary ? 'primary' : '', cal.busy ? 'busy-checked' : 'not busy-checked', cal.destination ? 'destination' : '', cal.writable ? '' : 'read-only'].filter(Boolean).join(', ')),
    ),
  );
  const sync = el('p', `sync: ${c.sync.state}; last success ${when(c.sync.lastSuccessAt)}; last error ${c.sync.lastError ?? 'none'}; next run ${when(c.sync.nextRunAt)}`, { 'data-sync': c.id });
  const button = el('button', 'Sync now', { type: 'button', 'aria-label': `Sync now ${c.provider} ${account}` });
  button.addEventListener('click', () => void syncNow(c.id));
  sync.append(' ', button);
  item.append(calendars, sync);
  return item;
}

async function loadCalendars() {
  try {
    const [{ connections }, { conflicts }] = await Promise.all([client.call('listConnections'), client.call('listConflicts', { query: { status: 'open' } })]);
    // Re-rendering must not take the keyboard focus away from the Sync now button it was on.
    const focused = (document.activeElement?.closest('#connections li[data-connection]') as HTMLElement | null)?.dataset.connection;
    $('connections').replaceChildren(...connections.map(showConnection));
    if (focused) (document.querySelector(`#connections li[data-connection="${focused}"] button`) as HTMLElement | null)?.focus();
    $('conflicts').replaceChildren(
      ...conflicts.map((raw) => {
        const c = raw as { conflictId: string; severity: string; booking: { id: string; start: string; end: string }; external: { calendarId: string } };
        return el('li', `severity ${c.severity}: booking ${c.booking.id} ${when(c.booking.start)} to ${when(c.booking.end)} overlaps an event in ${c.external.calendarId}`, { 'data-conflict': c.conflictId, 'data-severity': c.severity });
      }),
    );
    return connections;
  } catch (error) {
    say(problemText(error));
    return [];
  }
}

/** Asks for a sync, then reads the state again until it settles (at most 30 reads, a second apart). */
async function syncNow(id: string) {
  try {
    const queued = await client.call('syncConnection', { params: { id } });
    say(`sync of ${id} asked: ${queued.sync.state}`);
    const row = document.querySelector(`#connections li[data-connection="${id}"]`);
    const refocus = row?.contains(document.activeElement);
    row?.replaceWith(showConnection(queued));
    if (refocus) (document.querySelector(`#connections li[data-connection="${id}"] button`) as HTMLElement | null)?.focus();
    for (let read = 0; read < 30; read++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = (await loadCalendars()).find((c) => c.id === id);
      if (!now || (settled.has(now.sync.state) && now.sync.lastSuccessAt !== queued.sync.lastSuccessAt) || now.sync.state === 'failing' || now.sync.state === 'needs_reauth') break;
    }
  } catch (error) {
    say(problemText(error));
  }
}

$('signed-in').textContent = token ? 'signed in' : 'not signed in: open the URL npm start prints';
void loadBookings();
if (token) void loadWebhooks();
if (token) void loadCalendars();
document.body.dataset.ready = 'true';
