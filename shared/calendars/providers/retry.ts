// What the Google and Microsoft adapters share, kept apart from both so that neither bundle carries the
// other's SDK: the retry policy, Retry-After parsing and the credentials hook.
import type { ProviderCredentials } from '../provider.ts';

export type OAuthCredentials = Extract<ProviderCredentials, { kind: 'oauth' }>;

export type ProviderHooks = {
  /** Called with the credentials after the adapter refreshed its access token (store them for the next call). */
  onCredentials?: (credentials: OAuthCredentials) => void | Promise<void>;
};

export type RetryPolicy = {
  /** Requests per call at most (the first included). */
  attempts: number;
  /** The longest wait between two attempts; a Retry-After beyond it ends the call with CalendarUnavailableError. */
  maxWaitSeconds: number;
  /** First backoff when the provider names no wait; doubled per attempt, with jitter. */
  baseDelayMs: number;
};

/** Four requests at most, a wait of 10 s at most: a workflow step or sync worker is not held for minutes. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, maxWaitSeconds: 10, baseDelayMs: 250 };

/** Seconds from a Retry-After header (delta-seconds or an HTTP date). */
export function retryAfterSeconds(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The wait before attempt `attempt + 1` when the provider names none. */
export const backoffMs = (policy: RetryPolicy, attempt: number) =>
  Math.min(policy.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2), policy.maxWaitSeconds * 1000);
