// iCalendar value types (RFC 5545 3.3), pure. Times are wall clocks counted in seconds from 1970-01-01T00:00
// as if UTC ("local seconds"): calendar arithmetic is then integer arithmetic, and which instant a wall clock
// names is decided apart, by its zone (ics.ts, vtimezone.ts). Every parser throws ValueError on what it cannot read.

export class ValueError extends Error {}

export const DAY_SECONDS = 86_400;

/** A DATE or DATE-TIME value: its wall clock, whether it is a date, UTC ("Z"), and the TZID it was given with. */
export type DateTimeValue = { local: number; isDate: boolean; utc: boolean; tzid?: string };

export const localSeconds = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0) => Date.UTC(year, month - 1, day, hour, minute, second) / 1000;

export type Fields = { year: number; month: number; day: number; hour: number; minute: number; second: number };
export function fieldsOf(local: number): Fields {
  const d = new Date(local * 1000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
}

const DATE_TIME = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/i;

/** A DATE ("20261224") or DATE-TIME ("20261224T100000", "...Z"), the kind told by its shape; tzid applies to a local DATE-TIME. */
export function parseDateTime(text: string, tzid?: string): DateTimeValue {
  const match = DATE_TIME.exec(text.trim());
  if (!match) throw new ValueError(`not a DATE or DATE-TIME: ${text.slice(0, 40)}`);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((n) => Number(n ?? 0)) as [number, number, number, number, number, number];
  const isDate = match[4] === undefined;
  const local = localSeconds(year, month, day, hour, minute, Math.min(second, 59));
  const check = fieldsOf(local);
  if (year < 1 || check.month !== month || check.day !== day || hour > 23 || minute > 59 || second > 60) throw new ValueError(`no such date or time: ${text.slice(0, 40)}`);
  const utc = !isDate && match[7] !== undefined;
  return { local, isDate, utc, tzid: isDate || utc ? undefined : tzid };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** A wall clock as DATE or DATE-TIME text; `utc` appends Z. */
export function formatDateTime(local: number, options: { isDate?: boolean; utc?: boolean } = {}): string {
  const f = fieldsOf(local);
  const date = `${pad(f.year, 4)}${pad(f.month)}${pad(f.day)}`;
  return options.isDate ? date : `${date}T${pad(f.hour)}${pad(f.minute)}${pad(f.second)}${options.utc ? 'Z' : ''}`;
}

/** DURATION: days (weeks included) are nominal, seconds exact (RFC 5545 3.3.6); sign applies to both. */
export type DurationValue = { days: number; seconds: number };
const DURATION = /^([+-])?P(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,8})H)?(?:(\d{1,8})M)?(?:(\d{1,8})S)?)?$/i;
export function parseDuration(text: string): DurationValue {
  const value = text.trim();
  const match = DURATION.exec(value);
  if (!match || /^[+-]?PT?$/i.test(value) || /T$/i.test(value)) throw new ValueError(`not a DURATION: ${text.slice(0, 40)}`);
  const [weeks, days, hours, minutes, seconds] = match.slice(2, 7).map((n) => Number(n ?? 0)) as [number, number, number, number, number];
  const sign = match[1] === '-' ? -1 : 1;
  return { days: sign * (weeks * 7 + days), seconds: sign * (hours * 3600 + minutes * 60 + seconds) };
}

/** UTC-OFFSET (+0100, -0330, +053000) in seconds. */
export function parseUtcOffset(text: string): number {
  const match = /^([+-])(\d{2})(\d{2})(\d{2})?$/.exec(text.trim());
  if (!match || Number(match[3]) > 59 || Number(match[4] ?? 0) > 59) throw new ValueError(`not a UTC-OFFSET: ${text.slice(0, 40)}`);
  const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4] ?? 0);
  return match[1] === '-' ? -seconds : seconds;
}

/** PERIOD: a start and either an end or a duration. */
export type PeriodValue = { start: DateTimeValue; end?: DateTimeValue; duration?: DurationValue };
export function parsePeriod(text: string, tzid?: string): PeriodValue {
  const [start, rest, extra] = text.split('/');
  if (!start || !rest || extra !== undefined) throw new ValueError(`not a PERIOD: ${text.slice(0, 40)}`);
  const from = parseDateTime(start, tzid);
  if (from.isDate) throw new ValueError(`a PERIOD starts at a DATE-TIME: ${text.slice(0, 40)}`);
  return /^[+-]?P/i.test(rest) ? { start: from, duration: parseDuration(rest) } : { start: from, end: parseDateTime(rest, tzid) };
}

/** TEXT with its escapes undone (RFC 5545 3.3.11): \\ \; \, \n \N. */
export const text = (value: string) => value.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));

export const FREQUENCIES = ['SECONDLY', 'MINUTELY', 'HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'] as const;
export type Frequency = (typeof FREQUENCIES)[number];
/** SU..SA as 0..6, as Date.getUTCDay counts. */
export const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'] as const;

export type RecurValue = {
  freq: Frequency;
  interval: number;
  count?: number;
  until?: DateTimeValue;
  bySecond?: number[];
  byMinute?: number[];
  byHour?: number[];
  /** Weekday 0..6 (SU..SA) with its ordinal (0: every one). */
  byDay?: { ordinal: number; weekday: number }[];
  byMonthDay?: number[];
  byYearDay?: number[];
  byWeekNo?: number[];
  byMonth?: number[];
  bySetPos?: number[];
  /** Week start, 0..6 (default MO = 1). */
  wkst: number;
};

const MAX_LIST = 400;
const numbers = (name: string, value: string, min: number, max: number, signed: boolean) => {
  const list = value.split(',');
  if (list.length > MAX_LIST) throw new ValueError(`${name} has more than ${MAX_LIST} values`);
  return list.map((item) => {
    if (!/^[+-]?\d{1,3}$/.test(item)) throw new ValueError(`${name}=${item.slice(0, 20)} is not a number`);
    const n = Number(item);
    if ((!signed && n < 0) || Math.abs(n) < min || Math.abs(n) > max) throw new ValueError(`${name}=${item} is out of range`);
    return n;
  });
};

/** RECUR (RFC 5545 3.3.10), its parts validated and bounded. */
export function parseRecur(value: string, tzid?: string): RecurValue {
  const parts = new Map<string, string>();
  for (const part of value.trim().split(';')) {
    if (!part) continue;
    const [name, item, extra] = part.split('=');
    if (!name || item === undefined || extra !== undefined) throw new ValueError(`RRULE part "${part.slice(0, 30)}" is not NAME=VALUE`);
    const key = name.toUpperCase();
    if (parts.has(key)) throw new ValueError(`RRULE has ${key.slice(0, 20)} twice`);
    parts.set(key, item.toUpperCase());
  }
  const freq = parts.get('FREQ') as Frequency | undefined;
  if (!freq || !FREQUENCIES.includes(freq)) throw new ValueError(`RRULE without a valid FREQ`);
  const rule: RecurValue = { freq, interval: 1, wkst: 1 };
  for (const [key, item] of parts) {
    switch (key) {
      case 'FREQ':
        break;
      case 'INTERVAL':
        if (!/^\d{1,6}$/.test(item) || Number(item) < 1) throw new ValueError(`INTERVAL=${item.slice(0, 20)} is not a positive number`);
        rule.interval = Number(item);
        break;
      case 'COUNT':
        if (!/^\d{1,9}$/.test(item) || Number(item) < 1) throw new ValueError(`COUNT=${item.slice(0, 20)} is not a positive number`);
        rule.count = Number(item);
        break;
      case 'UNTIL':
        rule.until = parseDateTime(item, tzid);
        break;
      case 'BYSECOND':
        rule.bySecond = numbers(key, item, 0, 60, false);
        break;
      case 'BYMINUTE':
        rule.byMinute = numbers(key, item, 0, 59, false);
        break;
      case 'BYHOUR':
        rule.byHour = numbers(key, item, 0, 23, false);
        break;
      case 'BYDAY':
        rule.byDay = item.split(',').map((day) => {
          const match = /^([+-]?\d{1,2})?(SU|MO|TU|WE|TH|FR|SA)$/.exec(day);
          const ordinal = Number(match?.[1] ?? 0);
          if (!match || Math.abs(ordinal) > 53 || (match[1] !== undefined && ordinal === 0)) throw new ValueError(`BYDAY=${day.slice(0, 20)} is not a weekday`);
          return { ordinal, weekday: WEEKDAYS.indexOf(match[2] as (typeof WEEKDAYS)[number]) };
        });
        if (rule.byDay.length > MAX_LIST) throw new ValueError(`BYDAY has more than ${MAX_LIST} values`);
        break;
      case 'BYMONTHDAY':
        rule.byMonthDay = numbers(key, item, 1, 31, true);
        break;
      case 'BYYEARDAY':
        rule.byYearDay = numbers(key, item, 1, 366, true);
        break;
      case 'BYWEEKNO':
        rule.byWeekNo = numbers(key, item, 1, 53, true);
        break;
      case 'BYMONTH':
        rule.byMonth = numbers(key, item, 1, 12, false);
        break;
      case 'BYSETPOS':
        rule.bySetPos = numbers(key, item, 1, 366, true);
        break;
      case 'WKST': {
        const weekday = WEEKDAYS.indexOf(item as (typeof WEEKDAYS)[number]);
        if (weekday < 0) throw new ValueError(`WKST=${item.slice(0, 20)} is not a weekday`);
        rule.wkst = weekday;
        break;
      }
      default:
        // Unknown parts (X- names, RSCALE/SKIP of RFC 7529) are not ours to interpret; ignored as ical.js does.
        break;
    }
  }
  // RFC 5545 3.3.10's MUST NOTs, refused as ical.js refuses them (the event then blocks nothing).
  if (rule.byMonthDay && rule.freq === 'WEEKLY') throw new ValueError('BYMONTHDAY may not appear in a WEEKLY RRULE');
  if (rule.byYearDay && (rule.freq === 'DAILY' || rule.freq === 'WEEKLY' || rule.freq === 'MONTHLY')) throw new ValueError(`BYYEARDAY may not appear in a ${rule.freq} RRULE`);
  if (rule.byWeekNo && rule.freq !== 'YEARLY') throw new ValueError('BYWEEKNO appears only in a YEARLY RRULE');
  return rule;
}
