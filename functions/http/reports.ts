import { routeHandler } from '../../shared/http/handler.ts';
import { handler as analytics } from './get-analytics.ts';
import { handler as calendarConflicts } from './calendar-conflicts.ts';
import { deliveries, get, list } from './webhook-reads.ts';

/**
 * One read-only function for the organizer's reports: their webhooks, the delivery log, their figures, their calendar conflicts. Shared
 * (see `sharedFunction` in infra/booking-stack.ts) because CloudFormation allows 500 resources per stack and
 * each route of its own costs about nine; all it may do is read the state table.
 */
export const handler = routeHandler({
  'GET /analytics': analytics,
  'GET /webhooks': list,
  'GET /webhooks/{id}': get,
  'GET /webhooks/{id}/deliveries': deliveries,
  'GET /calendars/conflicts': calendarConflicts,
});
