// Which adapter serves a connection, and where each OAuth provider's endpoints and our client credentials
// are. The adapters are imported when first needed: a function that only ever talks to Microsoft does not load
// googleapis at cold start.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CalendarRequestError, type CalendarProvider, type OAuthClientConfig, type OAuthFlow, type ProviderCredentials, type ProviderName } from '../provider.ts';
import type { ProviderHooks, RetryPolicy } from './retry.ts';

export type { ProviderHooks, RetryPolicy } from './retry.ts';

export type OAuthProviderName = Exclude<ProviderName, 'caldav'>;
export type ProviderConfigs = Partial<Record<OAuthProviderName, OAuthClientConfig>>;

/** What the calendars slice knows of a connection that the factory needs. */
export type ProviderConnection = { provider: ProviderName; credentials: ProviderCredentials };

export async function providerFor(connection: ProviderConnection, configs: ProviderConfigs, hooks: ProviderHooks = {}, retry?: RetryPolicy): Promise<CalendarProvider> {
  switch (connection.provider) {
    case 'google': {
      const { googleProvider } = await import('./google.ts');
      return googleProvider(connection.credentials, required(configs, 'google'), hooks, retry);
    }
    case 'microsoft': {
      const { microsoftProvider } = await import('./microsoft.ts');
      return microsoftProvider(connection.credentials, required(configs, 'microsoft'), hooks, retry);
    }
    case 'caldav':
      // ---- CalDAV: the CalDAV adapter plugs in here (shared/calendars/providers/caldav.ts):
      //   const { caldavProvider } = await import('./caldav.ts');
      //   return caldavProvider(connection.credentials);
      throw new CalendarRequestError('the CalDAV adapter is not part of this build');
  }
}

/** The OAuth flow (consent URL, code exchange) of a provider. */
export async function oauthFlowFor(provider: OAuthProviderName, config: OAuthClientConfig): Promise<OAuthFlow> {
  if (provider === 'google') return (await import('./google.ts')).googleOAuth(config);
  return (await import('./microsoft.ts')).microsoftOAuth(config);
}

function required(configs: ProviderConfigs, provider: OAuthProviderName): OAuthClientConfig {
  const config = configs[provider];
  if (!config?.clientId || !config.clientSecret) throw new CalendarRequestError(`no OAuth client is configured for ${provider}`);
  return config;
}

/** The real endpoints; the local servers stand in for them through the same variables. */
const ENDPOINTS: Record<OAuthProviderName, { authorizeUrl: string; tokenUrl: string; apiUrl: string; revokeUrl?: string }> = {
  google: {
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    apiUrl: 'https://www.googleapis.com/',
    revokeUrl: 'https://oauth2.googleapis.com/revoke',
  },
  microsoft: {
    authorizeUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    tokenUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    apiUrl: 'https://graph.microsoft.com/',
  },
};

const PREFIX: Record<OAuthProviderName, string> = { google: 'GOOGLE', microsoft: 'MICROSOFT' };

/**
 * A provider's OAuth client from the environment: <P>_CLIENT_ID, <P>_CLIENT_SECRET, and the endpoints
 * <P>_AUTH_URL, <P>_TOKEN_URL, <P>_API_URL, <P>_REVOKE_URL (P = GOOGLE | MICROSOFT), each defaulting to the
 * provider's real one. `clientId`/`clientSecret` are '' when unset.
 */
export function oauthClientConfig(provider: OAuthProviderName, env: NodeJS.ProcessEnv = process.env): OAuthClientConfig {
  const p = PREFIX[provider];
  const defaults = ENDPOINTS[provider];
  const revokeUrl = env[`${p}_REVOKE_URL`] || defaults.revokeUrl;
  return {
    clientId: env[`${p}_CLIENT_ID`] ?? '',
    clientSecret: env[`${p}_CLIENT_SECRET`] ?? '',
    authorizeUrl: env[`${p}_AUTH_URL`] || defaults.authorizeUrl,
    tokenUrl: env[`${p}_TOKEN_URL`] || defaults.tokenUrl,
    apiUrl: env[`${p}_API_URL`] || defaults.apiUrl,
    ...(revokeUrl ? { revokeUrl } : {}),
  };
}

/** What the calendar OAuth secret (CALENDAR_OAUTH_SECRET_ARN) holds, as JSON. */
export type CalendarOAuthSecret = Partial<Record<OAuthProviderName, { clientId: string; clientSecret: string }>>;

let configs: Promise<ProviderConfigs> | undefined;

/**
 * Both providers' OAuth clients, read once per container: client id and secret from the Secrets Manager secret
 * CALENDAR_OAUTH_SECRET_ARN names (in the cloud), else from the environment (locally, where the runtime points
 * GOOGLE_* / MICROSOFT_* at the local servers); endpoints from the environment or the real defaults.
 */
export function oauthClientConfigs(): Promise<ProviderConfigs> {
  configs ??= (async () => {
    const secret = await readSecret();
    const out: ProviderConfigs = {};
    for (const provider of ['google', 'microsoft'] as const) {
      const fromEnv = oauthClientConfig(provider);
      const fromSecret = secret?.[provider];
      out[provider] = fromSecret?.clientId && fromSecret.clientSecret ? { ...fromEnv, clientId: fromSecret.clientId, clientSecret: fromSecret.clientSecret } : fromEnv;
    }
    return out;
  })();
  // A failed read is not cached: the next invocation asks again.
  return configs.catch((error) => {
    configs = undefined;
    throw error;
  });
}

async function readSecret(): Promise<CalendarOAuthSecret | undefined> {
  const arn = process.env.CALENDAR_OAUTH_SECRET_ARN;
  if (!arn) return undefined;
  try {
    const { SecretString } = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
    return JSON.parse(SecretString ?? '{}') as CalendarOAuthSecret;
  } catch (error) {
    // Locally the secret may have no value file: the environment's clients (the local servers') serve.
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** For tests: forget the cached configs (the next call reads again). */
export function resetOAuthClientConfigs(): void {
  configs = undefined;
}
