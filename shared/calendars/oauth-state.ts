// The OAuth `state`: a signed (HS256), expiring (10 minutes) statement of who started the connect and for which
// provider, with a nonce that the callback consumes by a conditional put, so a state works once. The callback
// route is public: the state is its only proof of the caller.
//
// The token is a JWT (compact JWS, HS256) made with node:crypto: a fixed header, one algorithm, one key, so the
// few lines below are the whole of it (jose, which the Cognito check keeps, weighed 17 KB in this bundle for it).
// test/unit/calendar-vault-and-state.test.ts checks both ways against jose.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { requiredEnv } from '../aws/env.ts';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { calendarKeys, type CalendarTables } from './store.ts';
import type { OAuthProviderName } from './adapters.ts';

export const STATE_TTL_SECONDS = 600;
const AUDIENCE = 'calendar-oauth-callback';

export type OAuthState = { organizerId: string; provider: OAuthProviderName; nonce: string };

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url');
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const NOT_OURS = { refused: 'the sign-in link is not one of ours' };
const mac = (key: Uint8Array, signingInput: string) => createHmac('sha256', key).update(signingInput).digest();

export async function signState(key: Uint8Array, state: Omit<OAuthState, 'nonce'>, now = new Date()): Promise<string> {
  const nonce = randomBytes(16).toString('base64url');
  const issuedAt = Math.floor(now.getTime() / 1000);
  const claims = { provider: state.provider, nonce, sub: state.organizerId, aud: AUDIENCE, iat: issuedAt, exp: issuedAt + STATE_TTL_SECONDS };
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signingInput}.${mac(key, signingInput).toString('base64url')}`;
}

/** The state's statement, or why it is not one (a reason fit for the result page). */
export async function verifyState(key: Uint8Array, token: string, provider: OAuthProviderName, now = new Date()): Promise<OAuthState | { refused: string }> {
  if (token.length > 2048) return NOT_OURS;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return NOT_OURS;
  const [header, body, signature] = parts as [string, string, string];
  // The signature first: nothing of an unsigned token is read. Any header but ours (another alg, `crit`) fails here.
  // Compared as text: base64url has more than one spelling of the same bytes, and only ours is accepted.
  const expected = Buffer.from(mac(key, `${HEADER}.${body}`).toString('base64url'));
  const given = Buffer.from(signature);
  if (header !== HEADER || given.length !== expected.length || !timingSafeEqual(given, expected)) return NOT_OURS;
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return NOT_OURS;
  }
  if (typeof claims !== 'object' || claims === null || claims.aud !== AUDIENCE || typeof claims.exp !== 'number') return NOT_OURS;
  if (Math.floor(now.getTime() / 1000) >= claims.exp) return { refused: 'the sign-in took longer than 10 minutes; start again' };
  if (claims.provider !== provider || typeof claims.sub !== 'string' || typeof claims.nonce !== 'string') return NOT_OURS;
  return { organizerId: claims.sub, provider, nonce: claims.nonce };
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
