#!/usr/bin/env bash
# Lint: every tracked .c/.h file is formatted as .clang-format says (clang-format-14).
# Without clang-format-14: a failure in CI (CI=true), otherwise exit 77 (ctest: skipped).
#   tests/lint/format.sh [REPO]
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cf=${CLANG_FORMAT:-clang-format-14}
if ! command -v "$cf" >/dev/null; then
  echo "format: $cf not found (apt-get install clang-format-14)" >&2
  [[ ${CI:-} == true ]] && exit 1
  exit 77
fi
cd "$root" || exit 1
skip=()
files=()
while IFS= read -r f; do
  for s in "${skip[@]}"; do [[ $f == "$s" ]] && continue 2; done
  files+=("$f")
done < <(git ls-files '*.c' '*.h')
(( ${#files[@]} > 0 )) || { echo "format: no tracked .c/.h files found" >&2; exit 1; }
if ! "$cf" --dry-run -Werror "${files[@]}"; then
  echo "format: run $cf -i on the files above" >&2
  exit 1
fi
echo "format: ${#files[@]} files clean"
