// http(s) URLs in log text as links, and text runs with colour classes: from DOM calls only.
// A link is made only for an http: or https: URL (checked again here, whatever the server sent);
// its text is set with textContent.  URL_RE and the trimming are the server's
// (journal_proxy/renderers/urls.py, held equal by tests/test_static_modules.py), for lines that
// arrive live.

// Python's \s also matches \x1c-\x1f and \x85, so they are named; "\[" is written as the server
// writes it (tests/test_static_modules.py compares the two texts).
// eslint-disable-next-line no-control-regex, no-useless-escape -- the server's expression, as is
export const URL_RE = /[hH][tT][tT][pP][sS]?:\/\/[A-Za-z0-9\[][^\s\ufeff\x1c-\x1f\x85<>"'`]*/g;
// Punctuation that ends a sentence rather than a URL, trimmed from a match's end.
export const URL_TRAILING = ".,;:!?)]}*";
// Longer "URLs" stay text (a link's target is meant to be read by a person).
export const MAX_URL = 2048;
const LINK_REL = "noopener noreferrer nofollow";
// The only class names a run may carry (the server's, renderers/html.py).
export const CLASS_OK = /^[a-z0-9 ]*$/;

export function safeHref(href) {
  if (typeof href !== "string" || href.length > MAX_URL || !/^https?:\/\//i.test(href)) return null;
  try {
    const u = new URL(href);
    return u.protocol === "http:" || u.protocol === "https:" ? href : null;
  } catch {
    return null;
  }
}

export function textPart(cls, text, href) {
  const safe = href == null ? null : safeHref(href);
  if (!safe && !(cls && CLASS_OK.test(cls))) return document.createTextNode(text);
  const el = document.createElement(safe ? "a" : "span");
  if (cls && CLASS_OK.test(cls)) el.className = cls;
  if (safe) { el.href = safe; el.rel = LINK_REL; }
  el.textContent = text;
  return el;
}

export function trimUrl(url) {
  while (url && URL_TRAILING.indexOf(url[url.length - 1]) >= 0) {
    if (url[url.length - 1] === ")" && url.split("(").length >= url.split(")").length) break;
    url = url.slice(0, -1);
  }
  return url;
}

// Where the http(s) URLs are in plain text, as [start, end] pairs.
export function findUrls(text) {
  const found = [];
  if (text.indexOf("://") < 0) return found;
  URL_RE.lastIndex = 0;
  let m;
  while ((m = URL_RE.exec(text)) !== null) {
    const url = trimUrl(m[0]);
    if (url.includes("://") && url.length <= MAX_URL && !url.endsWith("://")) found.push([m.index, m.index + url.length]);
  }
  return found;
}

// [[classes, text]] runs -> the same runs cut at URL boundaries, with each link's target: a URL
// that crosses a colour change is one link per run, each to the whole URL.
export function withLinks(spans) {
  const plain = spans.map((s) => s[1]).join("");
  const urls = findUrls(plain);
  if (!urls.length) return spans.map((s) => [s[0], s[1], null]);
  const out = [];
  let pos = 0;
  for (const [cls, run] of spans) {
    const start = pos, end = pos + run.length;
    pos = end;
    let cut = start;
    for (const [a, b] of urls) {
      if (b <= cut || a >= end) continue;
      if (a > cut) out.push([cls, plain.slice(cut, a), null]);
      const stop = Math.min(b, end);
      out.push([cls, plain.slice(Math.max(a, cut), stop), plain.slice(a, b)]);
      cut = stop;
    }
    if (cut < end) out.push([cls, plain.slice(cut, end), null]);
  }
  return out;
}
