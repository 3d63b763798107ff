import { organizer } from '../../shared/auth/identity.ts';
import { bookingTables } from '../../shared/config.ts';
import { putView } from '../../shared/domain/aggregate-commands.ts';
import { respondToCommand } from '../../shared/http/command-response.ts';
import { httpHandler, json, parseJsonBody, type HttpEvent } from '../../shared/http/handler.ts';
import { problems } from '../../shared/http/problems.ts';
import { userDecider, type UserCommand, type UserState } from '../../shared/people/users.ts';
import { keys, readUser } from '../../shared/scheduling/directory.ts';
import { z } from 'zod';
import { userCreated, userUpdated } from '../../events/others.ts';

// Strict: an unknown field (a typo) is a 400 naming it rather than silently ignored.
const createBody = z.strictObject(userCreated.shape);
const updateBody = z.strictObject({ changes: z.strictObject(userUpdated.shape.changes.shape) });

/** A user manages their own profile; the token's subject is their id. */
function run(event: HttpEvent, command: UserCommand, status = 200) {
  const me = organizer(event);
  return respondToCommand(event, me, {
    decider: userDecider,
    aggregateType: 'user',
    aggregateId: me.userId,
    command,
    status,
    present: (state: UserState) => ({ ...state, id: me.userId }),
    project: (state) => [putView(bookingTables().stateTable, keys.user(me.userId), { ...state, id: me.userId })],
  });
}

export const createMe = httpHandler((event) => run(event, { type: 'Register', profile: parseJsonBody(event, createBody) }, 201));
export const updateMe = httpHandler((event) => run(event, { type: 'UpdateProfile', changes: parseJsonBody(event, updateBody).changes }));
export const deleteMe = httpHandler((event) => run(event, { type: 'Delete' }));
export const getMe = httpHandler(async (event) => {
  const me = organizer(event);
  const user = await readUser(bookingTables(), me.userId);
  if (!user || user.status !== 'active') throw problems.notFound('your profile (POST /users/me creates it)');
  return json(200, user);
});
