import { busyFromIcs } from './shared/calendars/ics.ts';
import { busyFromIcs as oracle } from './test/support/ics-oracle.ts';
const cal = (...l: string[]) => ['BEGIN:VCALENDAR','VERSION:2.0','PRODID:x',...l,'END:VCALENDAR'].join('\r\n');
const ev = (...l: string[]) => ['BEGIN:VEVENT','UID:u','DTSTAMP:20260101T000000Z',...l,'END:VEVENT'];
const w = { from: '2026-01-01T00:00:00Z', to: '2028-01-01T00:00:00Z', timeZone: 'UTC' };
const [start, ...rules] = process.argv.slice(2);
for (const rule of rules) {
  const t = cal(...ev(`DTSTART:${start}`,`DURATION:PT1H`, 'RRULE:'+rule));
  const a = busyFromIcs(t, w).events[0].spans.map(s=>s.start.slice(0,16)), b = oracle(t, w).events[0].spans.map(s=>s.start.slice(0,16));
  console.log(rule, JSON.stringify(a)===JSON.stringify(b) ? 'SAME' : 'DIFF', '\n ours  ', a.slice(0,12).join(' '), '\n oracle', b.slice(0,12).join(' '));
}
