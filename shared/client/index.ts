// The typed client, the live feed and the optimistic store: everything a browser or Node frontend needs.
export * from './client.ts';
export * from './live.ts';
export * as store from './optimistic-store.ts';
