// Binds the slice's ports (adapters.ts) to the provider adapters of shared/calendars/providers/. The OAuth
// clients come from the calendars' secret (CALENDAR_OAUTH_SECRET_ARN); where each provider's endpoints are
// comes from GOOGLE_* / MICROSOFT_* variables (the local runtime points them at the local servers), the real
// services' otherwise.
import type { CalendarAdapters } from './adapters.ts';
import { calendarOAuthSecret } from './oauth-state.ts';
import type { OAuthClientConfig } from './provider.ts';
import { caldavProvider, discoverCaldav } from './providers/caldav.ts';
import { googleOAuth, googleProvider } from './providers/google.ts';
import { microsoftOAuth, microsoftProvider } from './providers/microsoft.ts';

const endpoints = {
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
    revokeUrl: undefined,
  },
} as const;

/** Our OAuth client at `provider`, and where its endpoints are. */
export async function oauthClientConfig(provider: 'google' | 'microsoft'): Promise<OAuthClientConfig> {
  const secret = await calendarOAuthSecret();
  const client = secret[provider];
  if (!client?.clientId || !client.clientSecret) throw new Error(`the calendar OAuth secret has no ${provider} client`);
  const prefix = provider.toUpperCase();
  const env = (name: string) => process.env[`${prefix}_${name}`];
  const defaults = endpoints[provider];
  return {
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    authorizeUrl: env('AUTH_URL') ?? defaults.authorizeUrl,
    tokenUrl: env('TOKEN_URL') ?? defaults.tokenUrl,
    apiUrl: env('API_URL') ?? defaults.apiUrl,
    revokeUrl: env('REVOKE_URL') ?? defaults.revokeUrl,
  };
}

const looksLikeEmail = (value: string) => /^[^@\s]{1,64}@[^@\s]{1,189}$/.test(value);

export const adapters: CalendarAdapters = {
  async providerFor(provider, credentials) {
    if (provider === 'caldav') {
      if (credentials.kind !== 'basic') throw new Error('a CalDAV connection holds a login');
      return caldavProvider(credentials);
    }
    const config = await oauthClientConfig(provider);
    return provider === 'google' ? googleProvider(credentials, config) : microsoftProvider(credentials, config);
  },
  async oauthFlow(provider) {
    const config = await oauthClientConfig(provider);
    return provider === 'google' ? googleOAuth(config) : microsoftOAuth(config);
  },
  async discoverCaldav(input) {
    const found = await discoverCaldav(input);
    return { credentials: found.credentials, accountEmail: looksLikeEmail(found.account.email) ? found.account.email : undefined, calendars: found.calendars };
  },
};
