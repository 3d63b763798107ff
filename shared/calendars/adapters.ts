// The one place the calendars slice meets the provider adapters (shared/calendars/providers/): everything else
// in the slice speaks the contract (provider.ts) only.
import type { CalendarProvider, ExternalCalendar, OAuthFlow, ProviderCredentials, ProviderName } from './provider.ts';

export type BasicCredentials = Extract<ProviderCredentials, { kind: 'basic' }>;
export type OAuthProviderName = Exclude<ProviderName, 'caldav'>;

export type CalendarAdapters = {
  /** The adapter acting for one connection with its (decrypted) credentials. */
  providerFor(provider: ProviderName, credentials: ProviderCredentials): Promise<CalendarProvider>;
  /** The OAuth flow of Google or Microsoft, with our client's configuration. */
  oauthFlow(provider: OAuthProviderName): Promise<OAuthFlow>;
  /** Verifies a CalDAV login by RFC 6764 discovery; a refused login throws CalendarAuthError. */
  discoverCaldav(input: { serverUrl: string; username: string; password: string }): Promise<{ credentials: BasicCredentials; accountEmail?: string; calendars: ExternalCalendar[] }>;
};

let adapters: CalendarAdapters | undefined;

/** The adapters; loaded on first use so that a function that never calls a provider does not load one. */
export async function calendarAdapters(): Promise<CalendarAdapters> {
  if (adapters) return adapters;
  const wiring = (await import('./provider-wiring.ts')) as { adapters: CalendarAdapters };
  adapters = wiring.adapters;
  return adapters;
}
