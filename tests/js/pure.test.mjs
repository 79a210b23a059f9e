// The page's pure parts under node's own test runner: `node --test tests/js/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { catastrophic, makeMatcher, MAX_PATTERN } from "../../journal_proxy/static/js/regex_guard.js";
import { findUrls, safeHref, withLinks } from "../../journal_proxy/static/js/links.js";
import { SseParser } from "../../journal_proxy/static/js/sse.js";
import { formatElapsed, formatFinal, formatRelative, shortDuration } from "../../journal_proxy/static/js/durations.js";
import { parseHash } from "../../journal_proxy/static/js/anchors.js";

test("the regex guard refuses nested repetition and back-references", () => {
  for (const q of ["(a+)+", "(a|aa)*", "((x*)y){2,}", "(a)\\1", "(?<n>a)\\k<n>", "(a*)*b", "(.+)+$"]) {
    assert.equal(catastrophic(q), true, q);
  }
  for (const q of ["error", "a+b+", "(ab)+", "(foo|bar)", "[(+)]+", "\\(a+\\)+", "(a){2}", "x{3,}"]) {
    assert.equal(catastrophic(q), false, q);
  }
});

test("the search box's matcher says why a pattern is refused", () => {
  const regex = { regex: true, caseSensitive: false };
  assert.match(makeMatcher("a".repeat(MAX_PATTERN + 1), regex).error, /too long/);
  assert.match(makeMatcher("(a+)+", regex).error, /refused/);
  assert.match(makeMatcher("(", regex).error, /valid/);
  assert.match(makeMatcher("x*", regex).error, /empty/);
  assert.equal(makeMatcher("ERR.R", regex).test("an error"), true);
  const plain = makeMatcher("ERR.R", { regex: false, caseSensitive: false });
  assert.equal(plain.lower, true);
  assert.equal(plain.test("err.r here"), true);
  assert.equal(plain.test("error"), false);
  assert.equal(makeMatcher("Err", { regex: false, caseSensitive: true }).test("err"), false);
});

test("URLs are found as the server finds them", () => {
  const text = "see https://example.com/a_(b) and http://x.org/y). or ftp://no, https://, HTTPS://UP.case.";
  const found = findUrls(text).map(([a, b]) => text.slice(a, b));
  assert.deepEqual(found, ["https://example.com/a_(b)", "http://x.org/y", "HTTPS://UP.case"]);
  assert.deepEqual(findUrls("no scheme here"), []);
  assert.deepEqual(findUrls("https://" + "a".repeat(2048)), []);
  assert.deepEqual(findUrls('"https://q.example/x"<b>'), [[1, 20]]);
});

test("a URL across a colour change is one link per run", () => {
  const runs = withLinks([["c1", "go https://ex"], ["c2", "ample.com now"]]);
  assert.deepEqual(runs, [
    ["c1", "go ", null],
    ["c1", "https://ex", "https://ex" + "ample.com"],
    ["c2", "ample.com", "https://example.com"],
    ["c2", " now", null],
  ]);
});

test("only http and https become link targets", () => {
  assert.equal(safeHref("https://ok.example/"), "https://ok.example/");
  assert.equal(safeHref("javascript:alert(1)"), null);
  assert.equal(safeHref("http://" + "a".repeat(2048)), null);
  assert.equal(safeHref(null), null);
});

test("the SSE parser reads events split anywhere, CRLF, comments and multi-line data", () => {
  const p = new SseParser();
  const stream = ": keep-alive\r\nid: 3\r\nevent: status\r\ndata: {\"a\":\r\ndata:1}\r\n\r\ndata: x\n\nevent: end\ndata";
  const events = [];
  for (const ch of stream) events.push(...p.push(ch));
  assert.deepEqual(events, [{ type: "status", data: '{"a":\n1}' }, { type: "message", data: "x" }]);
  assert.deepEqual(p.push("\n\n"), [{ type: "end", data: "" }]);
  assert.deepEqual(p.push("event: lone\n\n"), []);  // no data: no event, and the type resets
  assert.deepEqual(p.push("data: y\n\n"), [{ type: "message", data: "y" }]);
});

test("durations read as the page writes them", () => {
  assert.equal(shortDuration(NaN), "");
  assert.equal(shortDuration(9.54), "9.5s");
  assert.equal(shortDuration(42.4), "42s");
  assert.equal(shortDuration(187), "3m 7s");
  assert.equal(shortDuration(7500), "2h 5m");
  assert.equal(formatElapsed(-3), "0s");
  assert.equal(formatElapsed(187.9), "3m 07s");
  assert.equal(formatElapsed(3723), "1h 02m 03s");
  assert.equal(formatFinal(12.34), "12.3s");
  assert.equal(formatFinal(125), "2m 05.0s");
  assert.equal(formatRelative(62345, 0), "+1:02.345");
  assert.equal(formatRelative(3723456, 0), "+1:02:03.456");
  assert.equal(formatRelative(5, 10), "+0:00.000");
  assert.equal(formatRelative(5, NaN), "");
});

test("line anchors", () => {
  assert.deepEqual(parseHash("#L42"), [42, 42]);
  assert.deepEqual(parseHash("#L20-L10"), [10, 20]);
  assert.equal(parseHash("#L1-"), null);
  assert.equal(parseHash("#top"), null);
});
