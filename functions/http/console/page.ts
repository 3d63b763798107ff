/** The console's HTML: plain, labelled, keyboard-reachable; the script is the bundled app. */
export function consolePage(script: string, options: { api?: string; ws?: string } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Booking engine console</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; padding: 1rem; }
  header { grid-column: 1 / -1; display: flex; gap: 1rem; align-items: baseline; }
  section { border: 1px solid #ccc; border-radius: 6px; padding: .5rem 1rem; min-width: 0; }
  ul { padding-left: 1.2rem; max-height: 18rem; overflow: auto; margin: 0; }
  pre { max-height: 18rem; overflow: auto; background: #f6f6f6; padding: .5rem; }
  .alert { color: #b00020; }
  button:focus-visible, input:focus-visible { outline: 3px solid #1a73e8; }
</style>
</head>
<body data-api="${options.api ?? ''}" data-ws="${options.ws ?? ''}">
<header><h1>Booking engine</h1><span id="signed-in"></span> <span>live: <output id="live-status">off</output></span> <output id="status" role="status"></output></header>
<section aria-labelledby="feed-h"><h2 id="feed-h">Live events</h2><ul id="feed" aria-live="polite"></ul></section>
<section aria-labelledby="bookings-h"><h2 id="bookings-h">Bookings</h2><ul id="bookings"></ul></section>
<section id="detail" hidden aria-labelledby="detail-title"><h2 id="detail-title">Booking</h2>
  <label for="version">Time travel</label> <input id="version" type="range" min="1" step="1"> <output id="version-label"></output>
  <h3>History</h3><ul id="history"></ul><h3>As of that version</h3><pre id="snapshot"></pre></section>
<section aria-labelledby="slots-h"><h2 id="slots-h">Slots</h2>
  <form id="slots-form"><label for="eventTypeId">Event type id</label> <input id="eventTypeId" name="eventTypeId" required>
  <label for="day">Day</label> <input id="day" name="day" type="date" required> <button type="submit">Show slots</button></form>
  <ul id="slots"></ul></section>
<section aria-labelledby="webhooks-h"><h2 id="webhooks-h">Webhook deliveries</h2>
  <ul id="webhooks"></ul><h3 id="deliveries-h">Deliveries</h3><ul id="deliveries" aria-labelledby="deliveries-h"></ul></section>
<section aria-labelledby="calendars-h"><h2 id="calendars-h">Calendar connections</h2>
  <ul id="connections"></ul><h3 id="conflicts-h">Open conflicts</h3><ul id="conflicts" aria-labelledby="conflicts-h"></ul></section>
<script type="module">${script.replaceAll('</script', '<\\/script')}</script>
</body>
</html>`;
}
