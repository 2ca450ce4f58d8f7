#!/usr/bin/env bash
# The UI's API types (ui/src/api/schema.gen.ts) are generated from the server's OpenAPI document (`ygt openapi`)
# by openapi-typescript (a pinned devDependency). `api-types.sh` regenerates them; `api-types.sh --check` fails
# when the committed file differs from what the current API would generate (CI: `make check-types`).
set -euo pipefail
cd "$(dirname "$0")/../.."
YGT=${YGT:-.venv/bin/ygt}
OPENAPI_TS=${OPENAPI_TS:-ui/node_modules/.bin/openapi-typescript}
if [ ! -x "$OPENAPI_TS" ]; then   # node_modules installed before the devDependency was added: the same pinned version
  version=$(sed -n 's/.*"openapi-typescript": "\(.*\)".*/\1/p' ui/package.json)
  OPENAPI_TS="npx --yes openapi-typescript@$version"
fi
TARGET=ui/src/api/schema.gen.ts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$YGT" openapi > "$tmp/openapi.json"
$OPENAPI_TS "$tmp/openapi.json" --output "$tmp/schema.gen.ts" >/dev/null
if [ "${1:-}" = "--check" ]; then
  if ! diff -u "$TARGET" "$tmp/schema.gen.ts" > "$tmp/diff"; then
    head -40 "$tmp/diff"
    echo "$TARGET is stale: the API changed. Run \`make types\` and commit the result." >&2
    exit 1
  fi
  echo "$TARGET matches the API"
else
  cp "$tmp/schema.gen.ts" "$TARGET"
  echo "wrote $TARGET"
fi
