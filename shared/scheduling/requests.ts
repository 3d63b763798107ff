import * as z from '../../events/zod.ts';
import { boundedList, dateOrInstant, id, shortText, timeZone } from '../../events/primitives.ts';

/**
 * What the scheduling routes accept (slots, organizations, teams): the schemas their handlers parse with and
 * shared/http/contract.ts publishes, in a module of their own so a handler bundles only these (the primitives,
 * not the catalog: GET /slots is near its bundle ceiling). The schedules' bodies are in schedule-requests.ts.
 */
export const slotsQuery = z.object({ eventTypeId: id, start: dateOrInstant, end: dateOrInstant, timeZone: z._default(timeZone, 'UTC') });

const name = shortText(200);
const role = z.enum(['admin', 'member']);
export const createOrganizationBody = z.strictObject({ name });
export const inviteBody = z.strictObject({ userId: id, role: z._default(role, 'member') });
export const createTeamBody = z.strictObject({ name, memberIds: z._default(boundedList(id, 90), []) });
export const addTeamMemberBody = z.strictObject({ userId: id });
