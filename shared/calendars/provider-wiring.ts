// Binds the slice's ports (adapters.ts) to the provider adapters of shared/calendars/providers/: Google and
// Microsoft through the providers' factory (its OAuth clients come from the calendars' secret in the cloud, the
// GOOGLE_* / MICROSOFT_* variables locally), CalDAV through its own adapter. Each adapter is imported when a
// connection of its provider is first served, so a cold start loads (and, split into chunks, carries) only the
// providers it serves.
import type { CalendarAdapters } from './adapters.ts';
import { oauthClientConfigs, oauthFlowFor, providerFor } from './providers/index.ts';

const looksLikeEmail = (value: string) => /^[^@\s]{1,64}@[^@\s]{1,189}$/.test(value);

export const adapters: CalendarAdapters = {
  async providerFor(provider, credentials) {
    if (provider === 'caldav') {
      if (credentials.kind !== 'basic') throw new Error('a CalDAV connection holds a login');
      return (await import('./providers/caldav.ts')).caldavProvider(credentials);
    }
    return providerFor({ provider, credentials }, await oauthClientConfigs());
  },
  async oauthFlow(provider) {
    const config = (await oauthClientConfigs())[provider];
    if (!config?.clientId) throw new Error(`no OAuth client is configured for ${provider}`);
    return oauthFlowFor(provider, config);
  },
  async discoverCaldav(input) {
    const found = await (await import('./providers/caldav.ts')).discoverCaldav(input);
    return { credentials: found.credentials, accountEmail: looksLikeEmail(found.account.email) ? found.account.email : undefined, calendars: found.calendars };
  },
};
