import * as z from '../../events/zod.ts';
import { userCreated, userUpdated } from '../../events/others.ts';

/** What the profile routes accept (POST and PATCH /users/me), for their handler and shared/http/contract.ts. */
export const createProfileBody = z.strictObject(userCreated.shape);
export const updateProfileBody = z.strictObject(userUpdated.shape.changes.shape);
