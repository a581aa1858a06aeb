// Five-field cron expressions (minute hour day-of-month month day-of-week) read in an IANA time zone,
// with the next and the previous time they fire. Wall-clock fields come from Intl, so daylight saving
// needs no table of ours: a local time that does not exist (the hour skipped in spring) never fires,
// and one that exists twice (the hour repeated in autumn) fires at each.
import { describe } from './checker.js';

export interface CronExpression {
  minute: ReadonlySet<number>;
  hour: ReadonlySet<number>;
  day: ReadonlySet<number>;
  month: ReadonlySet<number>;
  weekday: ReadonlySet<number>;
  /** Whether day of month and day of week were restricted: when both are, either one matching is enough (as cron does). */
  dayRestricted: boolean;
  weekdayRestricted: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** The first name's number (JAN is 1, SUN is 0). */
  namesFrom?: number;
}

const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  // 7 is Sunday too, as most crons accept.
  { name: 'day of week', min: 0, max: 7, names: DAYS, namesFrom: 0 },
];

function value(text: string, f: FieldSpec): number | undefined {
  const named = f.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + (f.namesFrom ?? 0);
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= f.min && n <= f.max ? n : undefined;
}

function parseField(text: string, f: FieldSpec): Set<number> | string {
  const out = new Set<number>();
  const range = `${f.min}-${f.max}${f.names ? ` or ${f.names[0]}-${f.names[f.names.length - 1]}` : ''}`;
  for (const part of text.split(',')) {
    const [span, stepText, extra] = part.split('/');
    if (extra !== undefined || span === undefined || span === '') return `the ${f.name} field has a bad part "${part}"`;
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) return `the ${f.name} field's step "${stepText}" must be a whole number of at least 1`;
      step = Number(stepText);
    }
    let from: number | undefined;
    let to: number | undefined;
    if (span === '*') {
      from = f.min;
      to = f.max;
    } else {
      const [a, b, more] = span.split('-');
      if (more !== undefined) return `the ${f.name} field has a bad range "${span}"`;
      from = value(a!, f);
      // "5/15" means from 5 to the end, every 15.
      to = b === undefined ? (stepText !== undefined ? f.max : from) : value(b, f);
      if (from === undefined || to === undefined) return `the ${f.name} field's "${span}" is not within ${range}`;
      if (from > to) return `the ${f.name} field's range "${span}" runs backwards`;
    }
    for (let n = from; n <= to; n += step) out.add(n);
  }
  return out;
}

/** The expression, or a sentence saying what is wrong with it. */
export function parseCron(text: unknown): CronExpression | { error: string } {
  if (typeof text !== 'string') return { error: `must be a cron expression (a string), not ${describe(text)}` };
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5 || parts[0] === '') {
    return { error: `must have 5 fields (minute hour day-of-month month day-of-week, such as "0 8 * * MON-FRI"), not ${parts[0] === '' ? 0 : parts.length}` };
  }
  const sets: Set<number>[] = [];
  for (let i = 0; i < 5; i++) {
    const parsed = parseField(parts[i]!, FIELDS[i]!);
    if (typeof parsed === 'string') return { error: parsed };
    sets.push(parsed);
  }
  const weekday = sets[4]!;
  if (weekday.delete(7)) weekday.add(0);
  return {
    minute: sets[0]!,
    hour: sets[1]!,
    day: sets[2]!,
    month: sets[3]!,
    weekday,
    dayRestricted: parts[2] !== '*',
    weekdayRestricted: parts[4] !== '*',
  };
}

/** Whether the name is a time zone this Node.js knows (IANA names such as Europe/Berlin, or UTC). */
export function isTimeZone(name: unknown): name is string {
  if (typeof name !== 'string' || name === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

interface Wall {
  month: number;
  day: number;
  weekday: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(ms: number, timeZone: string): Wall {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', month: 'numeric', day: 'numeric', weekday: 'short', hour: 'numeric', minute: 'numeric' });
    formatters.set(timeZone, f);
  }
  const w: Wall = { month: 0, day: 0, weekday: 0, hour: 0, minute: 0 };
  for (const p of f.formatToParts(ms)) {
    if (p.type === 'month') w.month = Number(p.value);
    else if (p.type === 'day') w.day = Number(p.value);
    else if (p.type === 'weekday') w.weekday = DAYS.indexOf(p.value.toUpperCase());
    else if (p.type === 'hour') w.hour = Number(p.value);
    else if (p.type === 'minute') w.minute = Number(p.value);
  }
  return w;
}

function dayMatches(c: CronExpression, w: Wall): boolean {
  if (!c.month.has(w.month)) return false;
  const byDay = c.day.has(w.day);
  const byWeekday = c.weekday.has(w.weekday);
  if (c.dayRestricted && c.weekdayRestricted) return byDay || byWeekday;
  return byDay && byWeekday;
}

const MINUTE = 60_000;
/** Far enough for any expression that can fire at all (29 February on a Monday comes within 28 years). */
const HORIZON_MS = 29 * 366 * 24 * 60 * MINUTE;

/**
 * The first time after `after` (ms since the epoch) the expression fires, or undefined when it never
 * does (31 February). Whole minutes only; skips a day or an hour at a time where they do not match.
 */
export function nextFire(c: CronExpression, timeZone: string, after: number): number | undefined {
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  const end = after + HORIZON_MS;
  while (t <= end) {
    const w = wallClock(t, timeZone);
    // To an hour before the next local midnight: a clock change later today cannot make it overshoot.
    if (!dayMatches(c, w)) t += Math.max(60 - w.minute, (23 - w.hour) * 60 + (60 - w.minute) - 60) * MINUTE;
    else if (!c.hour.has(w.hour)) t += (60 - w.minute) * MINUTE;
    else if (!c.minute.has(w.minute)) t += MINUTE;
    else return t;
  }
  return undefined;
}

/** The last time at or before `atOrBefore` the expression fired, or undefined within the horizon. */
export function previousFire(c: CronExpression, timeZone: string, atOrBefore: number): number | undefined {
  let t = Math.floor(atOrBefore / MINUTE) * MINUTE;
  const end = atOrBefore - HORIZON_MS;
  while (t >= end) {
    const w = wallClock(t, timeZone);
    // To the first hour of today: a clock change earlier today cannot make it overshoot into yesterday.
    if (!dayMatches(c, w)) t -= Math.max(w.minute + 1, (w.hour * 60 + w.minute + 1) - 60) * MINUTE;
    else if (!c.hour.has(w.hour)) t -= (w.minute + 1) * MINUTE;
    else if (!c.minute.has(w.minute)) t -= MINUTE;
    else return t;
  }
  return undefined;
}
