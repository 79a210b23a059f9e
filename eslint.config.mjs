// ESLint (v9, flat config) for the page's JavaScript: scripts/test.sh runs it on
// journal_proxy/static and tests/js, and any finding fails the build.  A real parser and standard
// rules rather than code of our own: ESLint's recommended rules, and no function over 50 lines
// counted as tests/test_layering.py counts a Python one (from its first line to its last, blank
// lines and comments included).
//
// ESLint is not a dependency of the package: scripts/test.sh installs it under .venv/eslint, so
// its own rules are loaded from there rather than from a node_modules beside this file.
import { createRequire } from "node:module";

const require = createRequire(new URL("./.venv/eslint/", import.meta.url));
const js = require("@eslint/js");

// The browser's names the page uses (ES built-ins such as Date, Map and Promise come with the
// language version).  A name missing here is a no-undef finding: add it when the page starts to
// use it.
const BROWSER = [
  "document", "window", "location", "history", "navigator", "localStorage", "performance",
  "getComputedStyle", "requestAnimationFrame", "setTimeout", "clearTimeout", "setInterval",
  "clearInterval", "fetch", "URL", "CustomEvent", "IntersectionObserver", "ResizeObserver",
  "TextDecoderStream",
];
// What node gives the tests and this file beyond the language.
const NODE = ["URL", "console", "process"];

const readonly = (names) => Object.fromEntries(names.map((name) => [name, "readonly"]));

export default [
  js.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "max-lines-per-function": ["error", { max: 50, skipBlankLines: false, skipComments: false, IIFEs: true }],
    },
  },
  {
    files: ["journal_proxy/static/**/*.js"],
    languageOptions: { globals: readonly(BROWSER) },
  },
  {
    files: ["tests/js/**/*.mjs", "eslint.config.mjs"],
    languageOptions: { globals: readonly(NODE) },
  },
];
