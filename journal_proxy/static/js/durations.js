// Durations and times as the page writes them; pure, so node's test runner checks them.

const MS_PER_SECOND = 1000;
const SECONDS_PER_MINUTE = 60;
const SECONDS_PER_HOUR = 3600;
// Under this many seconds a short duration keeps a tenth ("9.5s"), from it on whole seconds.
const TENTHS_BELOW = 10;

export const pad = (n, width) => String(n).padStart(width || 2, "0");
export function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

// A step's or group's duration in its header: "9.5s", "42s", "3m 7s", "2h 5m".
export function shortDuration(sec) {
  if (isNaN(sec)) return "";
  if (sec < SECONDS_PER_MINUTE) return sec.toFixed(sec < TENTHS_BELOW ? 1 : 0) + "s";
  const m = Math.floor(sec / SECONDS_PER_MINUTE);
  if (m < SECONDS_PER_MINUTE) return m + "m " + Math.floor(sec % SECONDS_PER_MINUTE) + "s";
  return Math.floor(m / SECONDS_PER_MINUTE) + "h " + (m % SECONDS_PER_MINUTE) + "m";
}

// A span's seconds from its ISO start and end, NaN when either is missing.
export function spanSeconds(start, end) {
  const a = Date.parse(start), b = Date.parse(end);
  return isNaN(a) || isNaN(b) ? NaN : Math.max(0, (b - a) / MS_PER_SECOND);
}

// A running log's elapsed time, counting up: "7s", "3m 07s", "1h 02m 03s".
export function formatElapsed(sec) {
  sec = Math.max(0, Math.floor(sec));
  const h = Math.floor(sec / SECONDS_PER_HOUR);
  const m = Math.floor(sec / SECONDS_PER_MINUTE) % SECONDS_PER_MINUTE;
  const s = sec % SECONDS_PER_MINUTE;
  if (h) return h + "h " + pad(m) + "m " + pad(s) + "s";
  return m ? m + "m " + pad(s) + "s" : s + "s";
}

// A finished run's duration as the server writes it in the header: "12.3s", "2m 05.0s".
export function formatFinal(sec) {
  if (sec < SECONDS_PER_MINUTE) return sec.toFixed(1) + "s";
  return Math.floor(sec / SECONDS_PER_MINUTE) + "m " + (sec % SECONDS_PER_MINUTE).toFixed(1).padStart(4, "0") + "s";
}

// "+1:02.345" (or "+1:02:03.456" past an hour) from t0 to ms, both in epoch milliseconds.
export function formatRelative(ms, t0) {
  if (isNaN(t0) || isNaN(ms)) return "";
  let d = Math.max(0, ms - t0);
  const h = Math.floor(d / (SECONDS_PER_HOUR * MS_PER_SECOND)); d -= h * SECONDS_PER_HOUR * MS_PER_SECOND;
  const m = Math.floor(d / (SECONDS_PER_MINUTE * MS_PER_SECOND)); d -= m * SECONDS_PER_MINUTE * MS_PER_SECOND;
  const sec = Math.floor(d / MS_PER_SECOND);
  return "+" + (h ? h + ":" + pad(m) : String(m)) + ":" + pad(sec) + "." + pad(Math.floor(d - sec * MS_PER_SECOND), 3);
}
