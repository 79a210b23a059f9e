// What the search box accepts: a plain substring, or a regular expression that cannot take for
// ever.  Patterns that can backtrack catastrophically (a repeated group that itself repeats or
// alternates, back-references) and overlong ones are refused with a message.  Pure.

export const MAX_PATTERN = 256;
// Characters of one line a regular expression looks at.
export const MAX_TEXT = 10000;
// Groups a pattern may nest before it is refused outright.
const MAX_GROUPS = 500;

// Groups are read innermost first; a group that repeats and holds a repetition or an alternation
// is refused, else it stands for one character (repeated or not) from then on.
const INNER_GROUP = /\(([^()]*)\)(\s*(?:[+*?]|\{\d*(?:,\d*)?\})?)/;
const HOLDS_REPETITION = /[+*|}]/;
const REPEATS = /[+*]|\{\d*,|\{\d*[2-9]\d*\}|\{\d{2,}\}/;

// Nested quantifiers such as (a+)+, (a|aa)*, ((x*)y){2,} and back-references: true.
export function catastrophic(q) {
  if (/\\[1-9]|\\k</.test(q)) return true;
  let s = q.replace(/\\./g, "x").replace(/\[(?:[^\]\\]|\\.)*\]/g, "x").replace(/\(\?<?[:=!]/g, "(");
  for (let i = 0; i < MAX_GROUPS; i++) {
    const m = INNER_GROUP.exec(s);
    if (!m) return false;
    const holds = HOLDS_REPETITION.test(m[1]);
    const repeats = REPEATS.test(m[2]);
    if (holds && repeats) return true;
    s = s.slice(0, m.index) + (holds || repeats ? "x+" : "x") + s.slice(m.index + m[0].length);
  }
  return true;
}

// {lower, test(text)} for the query, or {error} saying why it is refused.  `lower`: the texts
// given to test must be lower-cased first.
export function makeMatcher(q, { regex, caseSensitive }) {
  if (!regex) {
    const needle = caseSensitive ? q : q.toLowerCase();
    return { lower: !caseSensitive, test: (t) => t.includes(needle) };
  }
  if (q.length > MAX_PATTERN) return { error: "Pattern too long (over " + MAX_PATTERN + " characters)" };
  if (catastrophic(q)) return { error: "Pattern refused: nested repetition or a back-reference can take for ever" };
  let rx;
  try { rx = new RegExp(q, caseSensitive ? "" : "i"); } catch { return { error: "Not a valid regular expression" }; }
  if (rx.test("")) return { error: "The pattern matches empty text" };
  return { lower: false, test: (t) => rx.test(t.length > MAX_TEXT ? t.slice(0, MAX_TEXT) : t) };
}
