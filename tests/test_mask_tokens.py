"""The tokens a deploy handles, in the shapes their services document, are masked where they
appear in tool output; words that only look alike are not.

The values are made up, in each service's format (prefix, alphabet, length): a real token never
goes into a test.
"""

from __future__ import annotations

import pytest

from journal_proxy.journal.entry import Entry
from journal_proxy.mask.masker import Masker

M = Masker.build()

_A36 = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
_HEX64 = "0123456789abcdef" * 4

#: (service, the line as a tool prints it, the secret part that must not be shown)
TOKENS = [
    (
        "gitlab pat",
        "git clone https://oauth2@gitlab.com/x.git # glpat-Xq3vB7nK9mP2rT5wY8zA",
        "glpat-Xq3vB7nK9mP2rT5wY8zA",
    ),
    (
        "gitlab runner",
        "Registering runner... token=glrt-t3_Xq3vB7nK9mP2rT5wY8zAbC",
        "Xq3vB7nK9mP2rT5wY8zAbC",
    ),
    ("npm", "//registry.npmjs.org/:_authToken=npm_" + _A36, "npm_" + _A36),
    (
        "pypi",
        "twine upload -p pypi-AgEIcHlwaS5vcmcCJGQ4ZjM5ZTM2LWRlYzEtNGY2NS1iN2YxLTk1YjQ5",
        "AgEIcHlwaS5vcmcCJGQ4ZjM5ZTM2",
    ),
    (
        "docker hub",
        "echo dckr_pat_2b3e36beeb386dfdaacb9b46004 | docker login -u ci --password-stdin",
        "dckr_pat_2b3e36beeb386dfdaacb9b46004",
    ),
    (
        "stripe",
        "STRIPE_KEY is sk_live_4eC39HqLyjWDarjtT1zdp7dc now",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    ),
    (
        "google",
        "maps: using key AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
        "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
    ),
    (
        "openai",
        "OPENAI: sk-proj-T3BlbkFJx8Qz1mNp4RtY7uVw2XcZ5aB9dE",
        "sk-proj-T3BlbkFJx8Qz1mNp4RtY7uVw2XcZ5aB9dE",
    ),
    (
        "anthropic",
        "key sk-ant-api03-Xq3vB7nK9mP2rT5wY8zA-Xq3vB7nK9mP2rT5wY8zA_AA end",
        "Xq3vB7nK9mP2rT5wY8zA-Xq3vB7nK9mP2rT5wY8zA",
    ),
    (
        "vault",
        "vault login hvs.CAESIJx8Qz1mNp4RtY7uVw2XcZ5aB9dE",
        "hvs.CAESIJx8Qz1mNp4RtY7uVw2XcZ5aB9dE",
    ),
    ("digitalocean", "doctl auth init -t dop_v1_" + _HEX64, "dop_v1_" + _HEX64),
    (
        "sendgrid",
        "SENDGRID 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",
        "ngeVfQFYQlKU0ufo8x5d1A",
    ),
    ("password flag", "mysql --user=deploy --password=Tr0ub4dor&3 -e 'select 1'", "Tr0ub4dor"),
    ("password flag, spaced", "psql --password  s3cr3t-pw --host db", "s3cr3t-pw"),
    ("password setting", "db.password: 'hunter2-prod'", "hunter2-prod"),
    ("password env", 'export DB_PASSWORD="Xq3vB7nK9mP2"', "Xq3vB7nK9mP2"),
    ("token env", "+ export NPM_TOKEN=abc123def456", "abc123def456"),
    ("api key env", "CLOUDFLARE_API_KEY=0123456789abcdef0123", "0123456789abcdef0123"),
    ("token flag", "deployctl --app-token=Zm9vYmFyYmF6cXV4 --region eu", "Zm9vYmFyYmF6cXV4"),
    ("secret env, yaml", "  SECRET_KEY_BASE: 9f8e7d6c5b4a39281706", "9f8e7d6c5b4a39281706"),
]

#: Lines that name a secret or look like a token's prefix but hold none: shown as they are.
NOT_SECRETS = [
    'psql: error: FATAL:  password authentication failed for user "deploy"',
    "echo $TOKEN | docker login -u ci --password-stdin",
    "SyntaxError: Unexpected token '<', \"<!DOCTYPE \" is not valid JSON",
    "tokens: 1234 prompt, 56 completion",
    "PWD=/home/runner/work/site",
    "Downloading https://github.com/gl-matrix/gl-matrix/archive/v3.4.3.tar.gz",
    "df: disk-usage report for /dev/sda1",
    "using scikit-learn 1.5.0 and npm_config_cache=/tmp/npm",
    "--token-file=/run/secrets/deploy-token read",
    "The API_KEY setting is missing: set it in the environment",
]


def _shown(text: str) -> str:
    e = Entry(1_700_000_000_000_000, 6, "deploy", text, "deploy.service", (), None, "")
    return M.session().apply(e).message


@pytest.mark.parametrize(("service", "line", "secret"), TOKENS, ids=[t[0] for t in TOKENS])
def test_a_services_token_is_masked(service: str, line: str, secret: str) -> None:
    shown = _shown(line)
    assert secret not in shown and "***" in shown, (service, shown)


@pytest.mark.parametrize("line", NOT_SECRETS)
def test_a_line_without_a_secret_is_shown_as_it_is(line: str) -> None:
    assert _shown(line) == line
