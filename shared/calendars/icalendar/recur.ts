// Recurrence rules (RFC 5545 3.3.10, 3.8.5.3) expanded over wall clocks, pure. Each period of the frequency
// (a year, a month, a week, a day, an hour...) is built the RFC's way: the BYxxx parts expand or limit the
// period's days and times, BYSETPOS picks among them, then COUNT and UNTIL bound the whole. Dates that do not
// exist (Feb 30, the 31st of a short month) are never made, so they are skipped, not moved.
//
// Bounded by the caller's budget: every period costs a step, a period with candidates one per candidate, so a
// rule whose BYxxx parts never match (FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30) spends its steps and stops instead
// of spinning. DTSTART is always the first instance (and counts toward COUNT), whether or not the rule matches it.
import { DAY_SECONDS, fieldsOf, localSeconds, type RecurValue } from './values.ts';

export type Steps = { spend: (n: number) => boolean };

/** The wall clocks of a recurrence, DTSTART first; stops on COUNT, UNTIL (`beyondUntil`), the budget, or year 9999. */
export function* expandRecur(rule: RecurValue, dtstart: number, beyondUntil: (local: number) => boolean, steps: Steps): Generator<number> {
  let emitted = 0;
  if (!steps.spend(1)) return;
  yield dtstart;
  emitted++;
  if (rule.count !== undefined && emitted >= rule.count) return;
  const start = fieldsOf(dtstart);
  const noDays = !rule.byWeekNo && !rule.byYearDay && !rule.byMonthDay && !rule.byDay;
  const byMonth = rule.byMonth ?? (rule.freq === 'YEARLY' && noDays ? [start.month] : undefined);
  const byMonthDay = rule.byMonthDay ?? (noDays && (rule.freq === 'YEARLY' || rule.freq === 'MONTHLY') ? [start.day] : undefined);
  const byDay = rule.byDay ?? (noDays && rule.freq === 'WEEKLY' ? [{ ordinal: 0, weekday: weekdayOf(Math.floor(dtstart / DAY_SECONDS)) }] : undefined);
  const rank = RANK[rule.freq];
  const hours = rule.byHour ?? (rank >= RANK.DAILY ? [start.hour] : undefined);
  const minutes = rule.byMinute ?? (rank >= RANK.HOURLY ? [start.minute] : undefined);
  const seconds = rule.bySecond ?? (rank >= RANK.MINUTELY ? [start.second] : undefined);
  const ordinals = byDay?.some((d) => d.ordinal !== 0) && (rule.freq === 'MONTHLY' || (rule.freq === 'YEARLY' && !rule.byWeekNo));

  // `f`: the day's year, month and day of month, when the caller knows them (no Date per day in a year's loop).
  const dayMatches = (day: number, f: { year: number; month: number; day: number } = fieldsOf(day * DAY_SECONDS)): boolean => {
    if (byMonth && !byMonth.includes(f.month)) return false;
    if (rule.byWeekNo && !weekNoMatches(day, rule.byWeekNo, rule.wkst)) return false;
    if (rule.byYearDay) {
      const yearDay = day - daysFrom(f.year, 1, 1) + 1;
      const length = daysFrom(f.year + 1, 1, 1) - daysFrom(f.year, 1, 1);
      if (!rule.byYearDay.includes(yearDay) && !rule.byYearDay.includes(yearDay - length - 1)) return false;
    }
    if (byMonthDay) {
      const length = monthLength(f.year, f.month);
      if (!byMonthDay.includes(f.day) && !byMonthDay.includes(f.day - length - 1)) return false;
    }
    if (byDay) {
      const weekday = weekdayOf(day);
      if (!ordinals) return byDay.some((d) => d.weekday === weekday);
      // The nth weekday of the month (MONTHLY, or YEARLY with BYMONTH), else of the year.
      const inMonth = rule.freq === 'MONTHLY' || !!rule.byMonth;
      const first = inMonth ? daysFrom(f.year, f.month, 1) : daysFrom(f.year, 1, 1);
      const last = inMonth ? first + monthLength(f.year, f.month) - 1 : daysFrom(f.year + 1, 1, 1) - 1;
      const nth = Math.floor((day - first) / 7) + 1;
      const nthFromEnd = -(Math.floor((last - day) / 7) + 1);
      return byDay.some((d) => d.weekday === weekday && (d.ordinal === 0 || d.ordinal === nth || d.ordinal === nthFromEnd));
    }
    return true;
  };
  const timesOf = (h: number[], m: number[], s: number[]) => {
    const times: number[] = [];
    for (const hour of h) for (const minute of m) for (const second of s) times.push(hour * 3600 + minute * 60 + second);
    return [...new Set(times)].sort((a, b) => a - b);
  };
  const dayTimes = rank >= RANK.DAILY ? timesOf(hours!, minutes!, seconds!) : [];

  // The period's cursor: a day number for YEARLY..DAILY periods (the period's first day), local seconds below.
  let year = start.year;
  let month = start.month;
  let day = Math.floor(dtstart / DAY_SECONDS);
  if (rule.freq === 'WEEKLY') day -= (weekdayOf(day) - rule.wkst + 7) % 7;
  const unit = rule.freq === 'HOURLY' ? 3600 : rule.freq === 'MINUTELY' ? 60 : 1;
  let clock = dtstart;

  for (;;) {
    let candidates: number[] = [];
    if (rank >= RANK.DAILY) {
      if (rule.freq === 'YEARLY' || rule.freq === 'MONTHLY') {
        if (year > 9999) return;
        // Week numbers reach into the neighbouring years: the days of the year itself are what the period holds.
        const months = rule.freq === 'MONTHLY' ? [month] : byMonth ? [...byMonth].sort((a, b) => a - b) : MONTHS;
        for (const m of months) {
          if (byMonth && !byMonth.includes(m)) continue;
          const first = daysFrom(year, m, 1);
          for (let dom = 1, length = monthLength(year, m); dom <= length; dom++) {
            if (dayMatches(first + dom - 1, { year, month: m, day: dom })) for (const t of dayTimes) candidates.push((first + dom - 1) * DAY_SECONDS + t);
          }
        }
      } else {
        for (let d = day, end = rule.freq === 'WEEKLY' ? day + 7 : day + 1; d < end; d++) if (dayMatches(d)) for (const t of dayTimes) candidates.push(d * DAY_SECONDS + t);
      }
    } else {
      const d = Math.floor(clock / DAY_SECONDS);
      if (d * DAY_SECONDS >= YEAR_10000) return;
      const f = fieldsOf(clock);
      if (!dayMatches(d)) {
        // Skip the rest of the day at once: whole periods of `interval` units up to the next day.
        if (!steps.spend(1)) return;
        clock += Math.ceil(((d + 1) * DAY_SECONDS - clock) / (rule.interval * unit)) * rule.interval * unit;
        continue;
      }
      const hourOk = !hours || hours.includes(f.hour);
      const minuteOk = rank < RANK.HOURLY ? !minutes || minutes.includes(f.minute) : true;
      if (!hourOk || !minuteOk) {
        const boundary = hourOk ? 60 : 3600;
        if (!steps.spend(1)) return;
        clock += Math.max(1, Math.ceil((clock - (clock % boundary) + boundary - clock) / (rule.interval * unit))) * rule.interval * unit;
        continue;
      }
      const base = clock - (clock % unit);
      if (rule.freq === 'HOURLY') candidates = timesOf([0], minutes!, seconds!).map((t) => base + t);
      else if (rule.freq === 'MINUTELY') candidates = (seconds ?? [0]).map((s) => base + s).sort((a, b) => a - b);
      else candidates = !seconds || seconds.includes(f.second) ? [clock] : [];
    }
    if (rule.bySetPos && candidates.length) {
      const all = candidates;
      candidates = [...new Set(rule.bySetPos.map((p) => all[p > 0 ? p - 1 : all.length + p]).filter((c): c is number => c !== undefined))].sort((a, b) => a - b);
    }
    if (!steps.spend(Math.max(1, candidates.length))) return;
    for (const candidate of candidates) {
      if (candidate <= dtstart) continue;
      if (beyondUntil(candidate)) return;
      yield candidate;
      if (rule.count !== undefined && ++emitted >= rule.count) return;
    }
    // The next period.
    if (rule.freq === 'YEARLY') year += rule.interval;
    else if (rule.freq === 'MONTHLY') {
      const index = year * 12 + month - 1 + rule.interval;
      year = Math.floor(index / 12);
      month = (index % 12) + 1;
    } else if (rule.freq === 'WEEKLY') day += 7 * rule.interval;
    else if (rule.freq === 'DAILY') day += rule.interval;
    else clock += rule.interval * unit;
    if (rank >= RANK.DAILY && rule.freq !== 'YEARLY' && rule.freq !== 'MONTHLY' && day * DAY_SECONDS >= YEAR_10000) return;
    // A period wholly after UNTIL ends the expansion.
    if (rule.until && periodStart() > dtstart && beyondUntil(periodStart())) return;
  }

  function periodStart(): number {
    if (rule.freq === 'YEARLY') return localSeconds(year, 1, 1);
    if (rule.freq === 'MONTHLY') return localSeconds(year, month, 1);
    if (rank >= RANK.DAILY) return day * DAY_SECONDS;
    return clock - (clock % unit);
  }
}

const RANK = { SECONDLY: 0, MINUTELY: 1, HOURLY: 2, DAILY: 3, WEEKLY: 4, MONTHLY: 5, YEARLY: 6 } as const;
const YEAR_10000 = localSeconds(10000, 1, 1);
const MONTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

/** Day number (days since 1970-01-01) of a date. */
export const daysFrom = (year: number, month: number, day: number) => Math.floor(Date.UTC(year, month - 1, day) / 86_400_000);
export const weekdayOf = (day: number) => (((day + 4) % 7) + 7) % 7;
const monthLength = (year: number, month: number) => daysFrom(year, month + 1, 1) - daysFrom(year, month, 1);

/** The first day of week 1 of `year`: the first week starting on `wkst` with at least four days in the year. */
function firstWeek(year: number, wkst: number): number {
  const jan1 = daysFrom(year, 1, 1);
  const back = (weekdayOf(jan1) - wkst + 7) % 7;
  return back > 3 ? jan1 - back + 7 : jan1 - back;
}

/** Whether `day` is in one of the weeks (1..53, or -1..-53 from the end) of the year its week belongs to. */
function weekNoMatches(day: number, weeks: number[], wkst: number): boolean {
  let year = fieldsOf(day * DAY_SECONDS).year;
  if (day < firstWeek(year, wkst)) year--;
  else if (day >= firstWeek(year + 1, wkst)) year++;
  const start = firstWeek(year, wkst);
  const total = (firstWeek(year + 1, wkst) - start) / 7;
  const week = Math.floor((day - start) / 7) + 1;
  return weeks.includes(week) || weeks.includes(week - total - 1);
}
