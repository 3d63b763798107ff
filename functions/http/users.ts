import { organizer } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { executeCommand, putView } from '../../shared/domain/aggregate-commands.ts';
import { httpHandler, json, parseJsonBody, type HttpEvent } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';
import { userDecider, type UserCommand, type UserState } from '../../shared/people/users.ts';
import { keys, readUser } from '../../shared/scheduling/directory.ts';
import { userCreated, userUpdated } from '../../events/others.ts';

/** A user manages their own profile; the token's subject is their id. */
async function run(event: HttpEvent, command: UserCommand, status = 200) {
  const me = organizer(event);
  const tables = bookingTables();
  const { state } = await executeCommand(tables, {
    decider: userDecider,
    aggregateType: 'user',
    aggregateId: me.userId,
    command,
    metadata: { userId: me.userId, organizationId: me.organizationId },
    project: (after: UserState) => [putView(tables.stateTable, keys.user(me.userId), { ...after, id: me.userId })],
  });
  return json(status, { ...state, id: me.userId });
}

export const createMe = httpHandler((event) => run(event, { type: 'Register', profile: parseJsonBody(event, userCreated) }, 201));
export const updateMe = httpHandler((event) => run(event, { type: 'UpdateProfile', changes: parseJsonBody(event, userUpdated).changes }));
export const deleteMe = httpHandler((event) => run(event, { type: 'Delete' }));
export const getMe = httpHandler(async (event) => {
  const me = organizer(event);
  const user = await readUser(bookingTables(), me.userId);
  if (!user || user.status !== 'active') throw problems.notFound('your profile (POST /users/me creates it)');
  return json(200, user);
});
