#!/usr/bin/env bash
# make test's preflight: say what a fresh machine lacks, in words, before the
# tests fail obscurely on it. Usage: test-prereqs.sh "$(TEST_FLAGS)"
set -euo pipefail
flags=${1:-}
problems=()
if [[ " $flags " == *" -race "* ]]; then
	cc=${CC:-gcc}
	if ! command -v "$cc" >/dev/null; then
		problems+=("-race needs cgo and a C compiler ($cc not found): apt-get install gcc libc6-dev, or run make test TEST_FLAGS='-count=1 -timeout 20m' without -race")
	elif ! printf '#include <stdlib.h>\nint main(void){return 0;}\n' | "$cc" -x c -o /dev/null - 2>/dev/null; then
		problems+=("-race needs the C library headers ($cc cannot build a program): apt-get install libc6-dev")
	fi
fi
# The web tests drive a real headless Chromium (chromedp): no Chromium, no test.
# $CHROMIUM, else these on PATH: the list of internal/app/browser_helpers_test.go
# (chromiumNames; TestChromiumLookup keeps the two alike).
browsers=(chromium chromium-browser google-chrome google-chrome-stable)
if grep -rlq --include='*_test.go' 'chromedp' . 2>/dev/null; then
	if [[ -n ${CHROMIUM:-} ]]; then
		if ! command -v "$CHROMIUM" >/dev/null; then
			problems+=("CHROMIUM=$CHROMIUM is not a program: point it at a Chromium or Chrome binary, or unset it and apt-get install chromium")
		fi
	else
		found=
		for b in "${browsers[@]}"; do
			if command -v "$b" >/dev/null; then found=$b; break; fi
		done
		if [[ -z $found ]]; then
			problems+=("the web tests drive a headless Chromium and none is installed (looked for ${browsers[*]}): apt-get install chromium, or set CHROMIUM")
		fi
	fi
fi
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && [[ -z ${DATABASE_URL:-} && -z ${PGHOST:-} ]]; then
	problems+=("no PostgreSQL server to start a throwaway cluster from: apt-get install postgresql postgresql-common, or set DATABASE_URL")
fi
if ((${#problems[@]})); then
	printf 'make test cannot run here:\n' >&2
	printf '  - %s\n' "${problems[@]}" >&2
	exit 1
fi
