import { busyFromIcs } from './shared/calendars/ics.ts';
import { busyFromIcs as oracle } from './test/support/ics-oracle.ts';
const run = (extra: string[], exdate: boolean) => {
const t = ['BEGIN:VCALENDAR','VERSION:2.0','PRODID:x','BEGIN:VEVENT','UID:u','DTSTART;VALUE=DATE:20241124','RRULE:FREQ=DAILY;COUNT=40;BYMONTH=11,8,1', ...(exdate ? ['EXDATE;VALUE=DATE:20250122'] : []), ...(process.env.RD ? ['RDATE;VALUE=DATE:20250326,20251119'] : []), ...(process.env.TR ? ['TRANSP:TRANSPARENT'] : []), 'END:VEVENT', ...extra,'END:VCALENDAR'].join('\r\n');
const w = { from: '2025-01-21T00:00:00Z', to: '2026-01-21T00:00:00Z', timeZone: process.env.HZ ?? 'UTC' };
const f = (r: any) => r.events[0].spans.map((s: any) => s.start.slice(5, 10)).sort().join(' ');
console.log('ours  ', f(busyFromIcs(t, w))); console.log('oracle', f(oracle(t, w)));
};
const range = ['BEGIN:VEVENT','UID:u','RECURRENCE-ID;RANGE=THISANDFUTURE;VALUE=DATE:20250113','DTSTART;VALUE=DATE:20250110','DTEND;VALUE=DATE:20250111','END:VEVENT'];
run(range, true); run(range, false); run([], true);
console.log('--');
const o2 = ['BEGIN:VEVENT','UID:u','RECURRENCE-ID;VALUE=DATE:20250115','DTSTART;VALUE=DATE:20250222','DTEND;VALUE=DATE:20250223','END:VEVENT'];
run([...range, ...o2], true); run([...o2, ...range], true); run([...o2], true);
