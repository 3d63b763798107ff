import { organizer } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { listConflicts } from '../../shared/calendar-sync/conflict-views.ts';
import { httpHandler, json } from '../../shared/http/handler.ts';
import { parseQuery } from '../../shared/http/query.ts';
import { conflictsQuery as query } from '../../shared/calendars/requests.ts';


/** GET /calendars/conflicts: the caller's own conflicts (as host), by booking start; `?status=open|resolved` filters. Served by the reports function. */
export const handler = httpHandler(async (event) => {
  const me = organizer(event);
  const { status } = parseQuery(event, query);
  return json(200, { conflicts: await listConflicts(bookingTables(), me.userId, status) });
});
