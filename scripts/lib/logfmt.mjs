// Short, readable forms of the services' JSON log lines (and nats-server's),
// for `npm start`. Plain Node, no dependencies.

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 };
const NAME_COLORS = ['cyan', 'magenta', 'blue', 'green', 'yellow'];
const LEVEL_COLORS = { debug: 'gray', info: 'green', warn: 'yellow', error: 'red', fatal: 'red' };
// pino's numeric levels
const PINO_LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const SKIP = new Set(['time', 'level', 'service', 'msg', 'message', 'pid', 'hostname', 'v']);

export function paint(text, what, on) {
  return on ? `\u001b[${CODES[what] ?? 0}m${text}\u001b[0m` : text;
}

function nameColor(name) {
  let h = 0;
  for (const c of name.replace(/-\d+$/, '')) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return NAME_COLORS[h % NAME_COLORS.length];
}

function clock(time) {
  const d = typeof time === 'number' || typeof time === 'string' ? new Date(time) : new Date();
  return Number.isNaN(d.getTime()) ? new Date().toISOString().slice(11, 23) : d.toISOString().slice(11, 23);
}

function short(v) {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** One child output line → `HH:MM:SS.mmm name      level msg k=v ...`. */
export function formatLine(name, line, color = false) {
  const prefix = paint(name.padEnd(10), nameColor(name), color);
  const text = line.trimEnd();
  if (text.startsWith('{')) {
    try {
      const o = JSON.parse(text);
      if (o && typeof o === 'object') {
        const level = typeof o.level === 'number' ? (PINO_LEVELS[o.level] ?? String(o.level)) : String(o.level ?? 'info');
        const msg = o.msg ?? o.message ?? '';
        const fields = Object.entries(o)
          .filter(([k]) => !SKIP.has(k))
          .map(([k, v]) => `${paint(k, 'gray', color)}=${short(v)}`)
          .join(' ');
        const lvl = paint(level.padEnd(5), LEVEL_COLORS[level] ?? 'gray', color);
        return `${paint(clock(o.time), 'gray', color)} ${prefix} ${lvl} ${msg}${fields ? ` ${fields}` : ''}`;
      }
    } catch {
      // not JSON after all: print it as it is
    }
  }
  return `${paint(clock(), 'gray', color)} ${prefix} ${text}`;
}

/**
 * A nats-server line (`[pid] date time [INF] text`): its banner is noise, so
 * only warnings, errors and "ready" are shown unless LOG_LEVEL=debug.
 */
export function natsLine(line, color = false) {
  const m = /^\[\d+\] \S+ \S+ \[(\w+)\]\s?(.*)$/.exec(line.trim());
  if (!m) {
    if (line.trim()) process.stdout.write(formatLine('nats', line, color) + '\n');
    return;
  }
  const [, lvl, text] = m;
  const show = (lvl !== 'INF' && text) || /ready|Listening for client/i.test(text) || process.env.LOG_LEVEL === 'debug';
  if (!show) return;
  const level = { INF: 'info', WRN: 'warn', ERR: 'error', FTL: 'fatal', DBG: 'debug', TRC: 'debug' }[lvl] ?? 'info';
  process.stdout.write(formatLine('nats', JSON.stringify({ level, msg: text }), color) + '\n');
}
