// Speed of computeSlots on a realistic team month. Not a test: nothing passes or fails on time.
// Run directly (`node_modules/.bin/node test/bench/availability-bench.ts`) to print the figures.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  computeSlots, type HostAvailabilityInput, type Interval, type SlotQuery, type Weekday,
} from '../../shared/scheduling/availability.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
export const BENCH_DAYS = 30;
const BUSY_PER_HOST = 300;
const ZONES = ['America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'America/Los_Angeles'];
// March 2026: both the US and the EU change clocks inside the month.
const RANGE: Interval = { start: Date.UTC(2026, 2, 1), end: Date.UTC(2026, 2, 1) + BENCH_DAYS * DAY };

/** Deterministic pseudo-random numbers (mulberry32), so every run measures the same team. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A team whose month starts at `rangeStart` (a UTC midnight): schedules in four zones, 300 busy intervals each. */
export function benchTeam(size: number, rangeStart = RANGE.start): HostAvailabilityInput[] {
  const date = (dayOfMonth: number) => new Date(rangeStart + (dayOfMonth - 1) * DAY).toISOString().slice(0, 10);
  const next = random(7);
  const workdays: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
  return Array.from({ length: size }, (_, i) => {
    const timeZone = ZONES[i % ZONES.length];
    // Approximate local-to-UTC shift; the busy times only need to fall roughly inside working hours.
    const shift = { 'America/New_York': 5, 'Europe/Berlin': -1, 'Asia/Kolkata': -5.5, 'America/Los_Angeles': 8 }[timeZone]! * HOUR;
    const busy: Interval[] = [];
    for (let day = 0; day < BENCH_DAYS; day++) {
      const midnight = rangeStart + day * DAY + shift;
      const weekday = new Date(rangeStart + day * DAY).getUTCDay();
      if (weekday === 0 || weekday === 6) continue;
      busy.push({ start: midnight + 9.5 * HOUR, end: midnight + 9.75 * HOUR }); // daily standup
      if (weekday === 2) busy.push({ start: midnight + 14 * HOUR, end: midnight + 14.5 * HOUR }); // weekly 1:1
      if (weekday === 5) busy.push({ start: midnight + 16 * HOUR, end: midnight + 17 * HOUR }); // weekly review
    }
    while (busy.length < BUSY_PER_HOST) {
      const start = rangeStart + Math.floor(next() * BENCH_DAYS * 24 * 4) * 15 * MINUTE; // calendar noise, any hour
      busy.push({ start, end: start + (1 + Math.floor(next() * 4)) * 15 * MINUTE });
    }
    busy.sort(() => next() - 0.5); // as a calendar API would hand them over: in no particular order
    return {
      hostId: `host-${String(i).padStart(2, '0')}`,
      schedule: {
        timeZone,
        weekly: [...workdays.map((day) => ({ day, start: '09:00', end: '12:00' })), ...workdays.map((day) => ({ day, start: '13:00', end: '17:30' }))],
        overrides: [{ date: date(13), ranges: [{ start: '10:00', end: '14:00' }] }, { date: date(21), ranges: [{ start: '10:00', end: '13:00' }] }],
        outOfOffice: i % 3 === 0 ? [{ start: date(16), end: date(18) }] : [],
      },
      busy,
    };
  });
}

function measure(name: string, query: SlotQuery, runs = 200, warmUp = 50) {
  for (let i = 0; i < warmUp; i++) computeSlots(query);
  const times: number[] = [];
  let slots = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    slots = computeSlots(query).length;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(runs - 1, Math.floor(p * runs))];
  return { name: `${name} (${slots} slots)`, medianMs: at(0.5), p99Ms: at(0.99), runs };
}

export async function benchAvailability(): Promise<{ name: string; medianMs: number; p99Ms: number; runs: number }[]> {
  const hosts = benchTeam(10);
  const common = {
    lengthMinutes: 30, slotIntervalMinutes: 15, bufferBeforeMinutes: 5, bufferAfterMinutes: 10, minimumNoticeMinutes: 120,
    bookingWindow: { type: 'rolling', days: 60 } as const, range: RANGE, now: RANGE.start - DAY,
  };
  return [
    measure('round robin, 10 hosts x 300 busy, 30 days', { ...common, hosts, schedulingType: 'round_robin' }),
    // Same-zone colleagues: across these zones office hours hardly overlap.
    measure('collective, 3 hosts x 300 busy, 30 days', { ...common, hosts: [hosts[0], hosts[4], hosts[8]], schedulingType: 'collective' }),
    measure('single host, 300 busy, 30 days', { ...common, hosts: hosts.slice(0, 1), schedulingType: 'single' }),
  ];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const figure of await benchAvailability()) {
    console.log(`${figure.name}: median ${figure.medianMs.toFixed(2)} ms, p99 ${figure.p99Ms.toFixed(2)} ms over ${figure.runs} runs`);
  }
}
