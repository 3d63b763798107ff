import { organizer, type Identity } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { putView } from '../../shared/domain/aggregate-commands.ts';
import { conflict, DomainError } from '../../shared/domain/decider.ts';
import { respondToCommand } from '../../shared/http/command-response.ts';
import { httpHandler, json, parseJsonBody, type HttpEvent } from '../../shared/http/handler.ts';
import { IdempotentRequest } from '../../shared/http/idempotency.ts';
import { problems } from '../../shared/http/problems.ts';
import { membershipsOf } from '../../shared/people/membership.ts';
import { deactivateEventType, endFutureBookings, eventTypesOwnedBy, leaveOrganization, loadOrganization } from '../../shared/people/offboarding.ts';
import { organizationDecider } from '../../shared/people/organizations.ts';
import { userDecider, type UserCommand, type UserState } from '../../shared/people/users.ts';
import { keys, readUser } from '../../shared/scheduling/directory.ts';
import { createProfileBody, updateProfileBody } from '../../shared/people/requests.ts';

/** A user manages their own profile; the token's subject is their id. */
function run(event: HttpEvent, me: Identity, command: UserCommand, status = 200, extra: Record<string, unknown> = {}) {
  return respondToCommand(event, me, {
    decider: userDecider,
    aggregateType: 'user',
    aggregateId: me.userId,
    command,
    status,
    present: (state: UserState) => ({ ...state, id: me.userId, ...extra }),
    project: (state) => [putView(bookingTables().stateTable, keys.user(me.userId), { ...state, id: me.userId })],
  });
}

// PATCH takes the changed fields themselves, like the other PATCH routes; a field it does not know is an error,
// not silently dropped.
const profileChanges = updateProfileBody;

export const createMe = httpHandler((event) => run(event, organizer(event), { type: 'Register', profile: parseJsonBody(event, createProfileBody) }, 201));
export const updateMe = httpHandler((event) => run(event, organizer(event), { type: 'UpdateProfile', changes: parseJsonBody(event, profileChanges) }));
export const getMe = httpHandler(async (event) => {
  const me = organizer(event);
  const user = await readUser(bookingTables(), me.userId);
  if (!user || user.status !== 'active') throw problems.notFound('your profile (POST /users/me creates it)');
  return json(200, user);
});

const DELETION_REASON = 'the organizer deleted their account';

/**
 * Deleting an account takes what others could still reach with it: every event type it owns is deactivated, it
 * leaves its organizations (and so their teams and team hosting), and every future booking it organizes or alone
 * hosts is cancelled (its time released, the attendee told by the booking.cancelled event), then the profile is
 * deleted. Cancelling rather than handing bookings to someone else: nobody else agreed to them. Each step is
 * its own recorded command and safe to repeat, so DELETE again finishes what a failed attempt left.
 */
export const deleteMe = httpHandler(async (event) => {
  const me = organizer(event);
  const tables = bookingTables();
  const earlier = await new IdempotentRequest(tables.client, tables.stateTable, event, me.userId).replay();
  if (earlier) return earlier;
  const user = await readUser(tables, me.userId);
  if (!user) return run(event, me, { type: 'Delete' });
  const memberships = await membershipsOf(tables, me.userId);
  // An admin who would leave members without one is refused before anything changes.
  for (const { organizationId } of memberships) {
    try {
      organizationDecider.decide({ type: 'RemoveMember', userId: me.userId }, await loadOrganization(tables, organizationId));
    } catch (error) {
      if (error instanceof DomainError && error.code === 'LastAdmin') {
        throw conflict('LastAdmin', `you are the last admin of organization ${organizationId}: make another member admin, or remove its members, first`);
      }
      // Anything else (no longer a member) leaves nothing to refuse: leaving will find nothing to do.
    }
  }
  const metadata = { userId: me.userId, organizationId: me.organizationId };
  let eventTypesDeactivated = 0;
  for (const eventType of await eventTypesOwnedBy(tables, me.userId)) if (await deactivateEventType(tables, eventType, metadata)) eventTypesDeactivated++;
  for (const { organizationId } of memberships) await leaveOrganization(tables, organizationId, me.userId, metadata);
  const bookingsCancelled = await endFutureBookings(tables, me.userId, metadata, DELETION_REASON);
  return run(event, me, { type: 'Delete' }, 200, { eventTypesDeactivated, organizationsLeft: memberships.length, bookingsCancelled });
});
