// The OAuth `state`: a signed (HS256), expiring (10 minutes) statement of who started the connect and for which
// provider, with a nonce that the callback consumes by a conditional put, so a state works once. The callback
// route is public: the state is its only proof of the caller.
import { createHash, randomBytes } from 'node:crypto';
import { requiredEnv } from '../aws/env.ts';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { jwtVerify, SignJWT } from 'jose';
import { calendarKeys, type CalendarTables } from './store.ts';
import type { OAuthProviderName } from './adapters.ts';

export const STATE_TTL_SECONDS = 600;
const AUDIENCE = 'calendar-oauth-callback';

export type OAuthState = { organizerId: string; provider: OAuthProviderName; nonce: string };

export async function signState(key: Uint8Array, state: Omit<OAuthState, 'nonce'>, now = new Date()): Promise<string> {
  const nonce = randomBytes(16).toString('base64url');
  return new SignJWT({ provider: state.provider, nonce })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(state.organizerId)
    .setAudience(AUDIENCE)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(now.getTime() / 1000) + STATE_TTL_SECONDS)
    .sign(key);
}

/** The state's statement, or why it is not one (a reason fit for the result page). */
export async function verifyState(key: Uint8Array, token: string, provider: OAuthProviderName): Promise<OAuthState | { refused: string }> {
  if (token.length > 2048) return { refused: 'the sign-in link is not one of ours' };
  try {
    const { payload } = await jwtVerify(token, key, { audience: AUDIENCE, algorithms: ['HS256'] });
    if (payload.provider !== provider || typeof payload.sub !== 'string' || typeof payload.nonce !== 'string') return { refused: 'the sign-in link is not one of ours' };
    return { organizerId: payload.sub, provider, nonce: payload.nonce };
  } catch (error) {
    return { refused: (error as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'the sign-in took longer than 10 minutes; start again' : 'the sign-in link is not one of ours' };
  }
}

/** Uses the state up: true the first time, false on any replay. */
export async function consumeState(tables: CalendarTables, state: OAuthState): Promise<boolean> {
  try {
    await tables.client.send(
      new PutCommand({
        TableName: tables.stateTable,
        Item: { ...calendarKeys.oauthState(state.nonce), organizerId: state.organizerId, expiresAt: Math.floor(Date.now() / 1000) + STATE_TTL_SECONDS + 60 },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** What the calendars' OAuth secret holds (Secrets Manager in the cloud, a file of the local data dir locally). */
export type CalendarOAuthSecret = {
  google?: { clientId: string; clientSecret: string };
  microsoft?: { clientId: string; clientSecret: string };
  /** Signs the OAuth state; when absent, derived from the client secrets (which are as secret). */
  stateKey?: string;
};

let secret: Promise<CalendarOAuthSecret> | undefined;

export async function calendarOAuthSecret(): Promise<CalendarOAuthSecret> {
  secret ??= (async () => {
    const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
    const { SecretString } = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: requiredEnv('CALENDAR_OAUTH_SECRET_ARN') }));
    return JSON.parse(SecretString ?? '{}') as CalendarOAuthSecret;
  })().catch((error) => {
    secret = undefined;
    throw error;
  });
  return secret;
}

export async function stateKey(): Promise<Uint8Array> {
  const value = await calendarOAuthSecret();
  const material = value.stateKey ?? `${value.google?.clientSecret ?? ''}\u0000${value.microsoft?.clientSecret ?? ''}`;
  if (material.length < 16) throw new Error('the calendar OAuth secret holds no client secrets and no stateKey');
  return new Uint8Array(createHash('sha256').update(`calendar-oauth-state\u0000${material}`).digest());
}
