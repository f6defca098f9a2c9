/** The pure part of `demo.report`: generated daily figures, totals and a summary. */
export interface ReportRow {
  day: number;
  date: string;
  visitors: number;
  orders: number;
  revenue: number;
  conversionPct: number;
}

export interface ReportDocument {
  title: string;
  period: { from: string; to: string; days: number };
  rows: ReportRow[];
  totals: { visitors: number; orders: number; revenue: number; conversionPct: number; averageOrderValue: number };
  best: { date: string; revenue: number };
  worst: { date: string; revenue: number };
  summary: string;
}

const DAY_MS = 86_400_000;

/** A 32-bit hash of a string (FNV-1a): the seed of a task's figures. */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: a small deterministic PRNG, so a resumed report is the report it would have been. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The figures of day `index` (0-based) of a report that starts at `fromMs`. */
export function reportRow(seed: number, index: number, fromMs: number): ReportRow {
  const rnd = random(seed + index * 7919);
  const weekday = new Date(fromMs + index * DAY_MS).getUTCDay();
  const weekend = weekday === 0 || weekday === 6 ? 0.75 : 1;
  const trend = 1 + index * 0.004;
  const visitors = Math.round((800 + rnd() * 700) * weekend * trend);
  const conversionPct = round2(1.5 + rnd() * 2.5);
  const orders = Math.max(0, Math.round((visitors * conversionPct) / 100));
  const revenue = round2(orders * (35 + rnd() * 40));
  return { day: index + 1, date: isoDate(fromMs + index * DAY_MS), visitors, orders, revenue, conversionPct };
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The first day of a `days`-day report that ends the day before `nowMs`. */
export function reportStart(nowMs: number, days: number): number {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return today - days * DAY_MS;
}

const money = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const count = (n: number) => n.toLocaleString('en-US');

/** The progress message of one finished day. */
export function dayMessage(row: ReportRow, days: number): string {
  return `Day ${row.day} of ${days} (${row.date}): ${count(row.orders)} orders, ${money(row.revenue)} revenue`;
}

/** The finished document from all rows (at least one). */
export function buildReport(rows: ReportRow[]): ReportDocument {
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  const visitors = rows.reduce((s, r) => s + r.visitors, 0);
  const orders = rows.reduce((s, r) => s + r.orders, 0);
  const revenue = round2(rows.reduce((s, r) => s + r.revenue, 0));
  const conversionPct = visitors ? round2((orders / visitors) * 100) : 0;
  const averageOrderValue = orders ? round2(revenue / orders) : 0;
  const best = rows.reduce((b, r) => (r.revenue > b.revenue ? r : b), first);
  const worst = rows.reduce((w, r) => (r.revenue < w.revenue ? r : w), first);
  const half = Math.floor(rows.length / 2);
  const firstHalf = rows.slice(0, half).reduce((s, r) => s + r.revenue, 0);
  const secondHalf = rows.slice(half).reduce((s, r) => s + r.revenue, 0) * (half / Math.max(1, rows.length - half));
  const trend = half && firstHalf ? Math.round(((secondHalf - firstHalf) / firstHalf) * 1000) / 10 : 0;
  const trendText =
    half === 0 ? '' : ` Revenue in the second half was ${Math.abs(trend)}% ${trend >= 0 ? 'higher' : 'lower'} than in the first.`;
  const summary =
    `Over ${rows.length} day${rows.length === 1 ? '' : 's'} (${first.date} to ${last.date}) the shop had ` +
    `${count(visitors)} visitors and ${count(orders)} orders: ${money(revenue)} in revenue at a ${conversionPct}% ` +
    `conversion rate and ${money(averageOrderValue)} per order. Best day ${best.date} (${money(best.revenue)}), ` +
    `weakest ${worst.date} (${money(worst.revenue)}).${trendText}`;
  return {
    title: `Sales report, ${first.date} to ${last.date}`,
    period: { from: first.date, to: last.date, days: rows.length },
    rows,
    totals: { visitors, orders, revenue, conversionPct, averageOrderValue },
    best: { date: best.date, revenue: best.revenue },
    worst: { date: worst.date, revenue: worst.revenue },
    summary,
  };
}
