import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { isId } from '../../events/primitives.ts';
import { requiredEnv } from '../aws/env.ts';
import { problems } from '../http/problems.ts';
import { header, type HttpEvent } from '../http/handler.ts';

export type Identity = { userId: string; organizationId?: string };

let keySet: ReturnType<typeof createRemoteJWKSet> | undefined;

function identityOf(claims: JWTPayload | Record<string, unknown>): Identity {
  const userId = typeof claims.sub === 'string' ? claims.sub : undefined;
  if (!userId) throw problems.unauthorized('the token names no subject');
  // The subject becomes keys and event metadata: one that is not an id's shape is refused here, at the door.
  if (!isId(userId)) throw problems.unauthorized('the token\'s subject is not a usable user id');
  const organizationId = typeof claims.org === 'string' ? claims.org : undefined;
  return { userId, organizationId };
}

/**
 * Verifies an organizer's token the way API Gateway's JWT authorizer does: signature from the issuer's JWKS,
 * issuer, expiry, and an audience given either as `aud` (ID tokens, most issuers) or `client_id` (Cognito
 * access tokens). Used where the gateway cannot check it: WebSocket $connect and routes open to attendees too.
 */
export async function verifyToken(token: string): Promise<Identity> {
  const issuer = requiredEnv('JWT_ISSUER');
  const audience = requiredEnv('JWT_AUDIENCE');
  keySet ??= createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keySet, { issuer }));
  } catch (error) {
    throw problems.unauthorized(`the token is not valid: ${(error as Error).message}`);
  }
  const audiences = [payload.aud ?? [], (payload as { client_id?: string }).client_id ?? []].flat();
  if (!audiences.includes(audience)) throw problems.unauthorized('the token is meant for another audience');
  return identityOf(payload);
}

/**
 * The organizer API Gateway's JWT authorizer already let through. The authorizer also takes a bare token
 * without the "Bearer " scheme; RFC 6750 does not, and neither do we, so clients learn the right form at once.
 */
export function organizer(event: HttpEvent): Identity {
  const claims = event.requestContext.authorizer?.jwt?.claims;
  if (!claims) throw problems.unauthorized();
  bearerTokenOf(header(event, 'authorization'));
  return identityOf(claims);
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const MAX_TOKEN_LENGTH = 8192;

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1), or a 401 that says why not. */
function bearerTokenOf(authorization: string | undefined): string {
  if (!authorization) throw problems.unauthorized();
  if (authorization.length > MAX_TOKEN_LENGTH) throw problems.unauthorized('the Authorization header is too long');
  const match = BEARER.exec(authorization.trim());
  if (!match) throw problems.unauthorized('the Authorization header must be "Bearer <token>"');
  return match[1]!;
}

/** The organizer behind an optional bearer token, for routes that attendees may call with a booking token. */
export async function optionalOrganizer(event: HttpEvent): Promise<Identity | undefined> {
  const authorization = header(event, 'authorization');
  if (!authorization) return undefined;
  return verifyToken(bearerTokenOf(authorization));
}
