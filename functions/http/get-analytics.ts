import { organizer } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { httpHandler, json } from '../../shared/http/handler.ts';
import { fieldErrors, problems } from '../../shared/http/problems.ts';
import { present, readDays, sum, type Counters } from '../../shared/analytics/figures.ts';
import { analyticsQuery as query } from '../../shared/analytics/requests.ts';
import { readOrganization } from '../../shared/scheduling/directory.ts';

const DAY = 86_400_000;

/**
 * The caller's daily figures (each event counted on the day it happened in their zone), or, for an admin
 * of `organizationId`, the sum of its members' figures.
 */
export const handler = httpHandler(async (event) => {
  const me = organizer(event);
  const parsed = query.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw problems.invalidBody(fieldErrors(parsed.error.issues, ['query']));
  const { from, to, organizationId } = parsed.data;
  const tables = bookingTables();
  let organizers = [me.userId];
  if (organizationId) {
    const organization = await readOrganization(tables, organizationId);
    // Only its admins see an organization's figures; to anyone else it does not exist.
    if (!organization || organization.members[me.userId] !== 'admin') throw problems.notFound('organization');
    organizers = Object.keys(organization.members);
  }
  const perDay = new Map<string, Counters>();
  for (const days of await Promise.all(organizers.map((id) => readDays(tables, id, from, to)))) {
    for (const [day, counters] of days) perDay.set(day, sum(perDay.get(day) ?? {}, counters));
  }
  const days = [];
  const totals: Counters = {};
  for (let at = Date.parse(from), day = from; day <= to; at += DAY, day = new Date(at).toISOString().slice(0, 10)) {
    const counters = perDay.get(day) ?? {};
    sum(totals, counters);
    days.push({ date: day, ...present(counters) });
  }
  return json(200, { from, to, organizationId, totals: present(totals), days });
});
