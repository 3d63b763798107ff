// The bounded building blocks of every event payload and request body. Every string, list and number that
// reaches DynamoDB or EventBridge is built from these, so an event is small by construction (see the size
// bound in test/unit/event-catalog.test.ts) and a hostile input is a 400 at the edge instead of a 500 from a
// DynamoDB key or item limit further in.
import * as z from './zod.ts';

/** Earliest and latest year of any instant or date we accept: far enough for real calendars, nowhere near 9999. */
export const MIN_YEAR = 2000;
export const MAX_YEAR = 2100;
const EARLIEST = Date.UTC(MIN_YEAR, 0, 1);
const AFTER_LATEST = Date.UTC(MAX_YEAR + 1, 0, 1);
const yearMessage = `must be between the years ${MIN_YEAR} and ${MAX_YEAR}`;

/**
 * Ids we mint (UUIDs) and ids others mint for us: OIDC/Cognito `sub` claims, `system:booking-workflow`.
 * 128 characters keeps every DynamoDB key that embeds one (`BOOKING#<id>`, `IDEMPOTENCY#...`) far below the
 * 1 KB sort key and 2 KB partition key limits; the alphabet keeps `#`, the key separator, out.
 */
export const MAX_ID_LENGTH = 128;
export const ID_PATTERN = /^[A-Za-z0-9._:@|-]{1,128}$/;
// Ids become keys of plain objects (an organization's members): `__proto__` or `constructor` would read as present.
export const isId = (value: string): boolean => ID_PATTERN.test(value) && !(value in Object.prototype);
export const id = z
  .string()
  .check(
    z.maxLength(MAX_ID_LENGTH, { abort: true }),
    z.regex(ID_PATTERN, `must be 1-${MAX_ID_LENGTH} letters, digits or . _ : @ | -`),
    z.refine((value) => !(value in Object.prototype), 'is not a usable id'),
  );


/** Free text a person types on one line: a name, a title. */
export const shortText = (max = 200) => z.string().check(z.trim(), z.minLength(1), z.maxLength(max));
/** Free text that may be longer and may be empty once trimmed: a reason, a note. */
export const reasonText = z.string().check(z.trim(), z.maxLength(1000));
/** A description: paragraphs, still bounded. */
export const longText = z.string().check(z.maxLength(5000));
export const personName = shortText(200);

/** RFC 5321: a path is at most 256 octets with its angle brackets, so an address at most 254; a local part at most 64. */
export const email = z
  .email()
  .check(
    z.maxLength(254, 'must be at most 254 characters (RFC 5321)'),
    z.refine((address) => address.lastIndexOf('@') <= 64, 'the part before @ must be at most 64 characters (RFC 5321)'),
  );

/** Lists: every one has a maximum; `boundedList(item, 100)`. */
export const boundedList = <T extends z.ZodMiniType>(item: T, max: number) => z.array(item).check(z.maxLength(max));

/** An amount in the currency's minor unit, up to ten million in major units of a two-decimal currency. */
export const money = z.int().check(z.positive(), z.lte(1_000_000_000));

const inRange = (ms: number) => ms >= EARLIEST && ms < AFTER_LATEST;

/** An ISO 8601 date-time with an offset, up to nanoseconds, between MIN_YEAR and MAX_YEAR. */
export const instant = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with an offset, e.g. 2030-01-07T09:00:00Z' })
  .check(
    z.maxLength(35),
    z.refine((value) => inRange(Date.parse(value)), yearMessage),
  );

/** A calendar date YYYY-MM-DD between MIN_YEAR and MAX_YEAR. */
export const date = z.iso
  .date({ message: 'must be a date YYYY-MM-DD' })
  .check(
    z.maxLength(10),
    z.refine((value) => inRange(Date.parse(`${value}T00:00:00Z`)), yearMessage),
  );

/**
 * A date or an instant, as the read routes take them (a date is a whole day in some zone, the route says
 * which). Not a union: the caller hears why their value failed (its year, say), not only that both shapes did.
 */
export const dateOrInstant = z.string().check(
  z.maxLength(35, 'must be a date (YYYY-MM-DD) or an ISO 8601 date-time with an offset'),
  z.superRefine((value, context) => {
    const shape = /^\d{4}-\d{2}-\d{2}$/.test(value) ? date : value.includes('T') ? instant : undefined;
    const result = shape?.safeParse(value);
    if (!result?.success) {
      context.addIssue({ code: 'custom', message: result?.error.issues[0]?.message ?? 'must be a date (YYYY-MM-DD) or an ISO 8601 date-time with an offset' });
    }
  }),
);

/**
 * An opaque value passed through (a correlation id, an id another system gave us): visible ASCII but for
 * `"` and `\`, so it never needs escaping in JSON, bounded.
 */
export const token = (max = 128) =>
  z.string().check(
    z.maxLength(max, { abort: true }),
    z.regex(new RegExp(`^[\\x21\\x23-\\x5b\\x5d-\\x7e]{1,${max}}$`), `must be 1-${max} visible ASCII characters other than " and \\`),
  );

/** An id given to us by an outside system (Stripe payment, calendar, calendar event). */
export const externalId = token(512);

// IANA names are letters, digits, _ + - and /; this also refuses the offsets ("+01:00") that Intl accepts.
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;
// Keyed by the lower-cased name so that a caller cycling through spellings cannot grow it past the zone count.
const canonicalZones = new Map<string, string>();

/** The canonical spelling of an IANA zone (`europe/berlin` -> `Europe/Berlin`), or undefined for no zone. */
export function canonicalTimeZone(zone: string): string | undefined {
  if (!ZONE_NAME.test(zone)) return undefined;
  const known = canonicalZones.get(zone.toLowerCase());
  if (known) return known;
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  canonicalZones.set(zone.toLowerCase(), canonical);
  return canonical;
}

export const isValidTimeZone = (zone: string): boolean => canonicalTimeZone(zone) !== undefined;

/** An IANA time zone, stored and echoed in its canonical spelling whatever case it was typed in. */
export const timeZone = z.string().check(
  z.minLength(1),
  z.maxLength(64),
  z.overwrite((zone) => canonicalTimeZone(zone) ?? zone),
  z.refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
);

/** Text we compose ourselves from unbounded parts (an error's message, a list of hosts), cut to fit its field. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
