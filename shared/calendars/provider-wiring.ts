// Binds the slice's ports (adapters.ts) to the provider adapters of shared/calendars/providers/.
import type { CalendarAdapters } from './adapters.ts';

const missing = (what: string) => () => Promise.reject(new Error(`${what}: the provider adapters are not in this build yet`));

export const adapters: CalendarAdapters = {
  providerFor: missing('providerFor'),
  oauthFlow: missing('oauthFlow'),
  discoverCaldav: missing('discoverCaldav'),
};
