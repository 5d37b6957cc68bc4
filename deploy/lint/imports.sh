#!/usr/bin/env bash
# The dependency direction of DESIGN.md, checked on direct imports:
#   - domain imports none of this module's packages, and of the rest only the standard
#     library plus the value types in DOMAIN_ALLOW (github.com/google/uuid);
#   - api imports none of pgx, Watermill, sarama, franz-go (they stay behind commands,
#     projections and eventstore);
#   - no production package imports internal/testenv.
# Runs on whatever packages exist; prints every violation, exits 1 if any.
set -euo pipefail
cd "$(dirname "$0")/../.."

MODULE=$(go list -m)
# third-party imports domain may use: an extended regular expression
DOMAIN_ALLOW=${DOMAIN_ALLOW:-'^github\.com/google/uuid$'}
API_DENY='^(github\.com/jackc/pgx|github\.com/ThreeDotsLabs/watermill|github\.com/IBM/sarama|github\.com/twmb/franz-go)'

fail=0
violation() {
	echo "imports: $1 imports $2: $3" >&2
	fail=1
}

# one line per package: import path, then its direct imports (not its tests')
while read -r pkg imports; do
	rel=${pkg#"$MODULE"}
	rel=${rel#/}
	for imp in $imports; do
		case $rel in
		domain | domain/*)
			# a standard library path has no dot in its first element
			first=${imp%%/*}
			if [[ $imp == "$MODULE" || $imp == "$MODULE"/* ]]; then
				[[ $imp == "$MODULE"/domain || $imp == "$MODULE"/domain/* ]] ||
					violation "$pkg" "$imp" "domain imports none of the project's other packages"
			elif [[ $first == *.* ]] && ! [[ $imp =~ $DOMAIN_ALLOW ]]; then
				violation "$pkg" "$imp" "domain imports the standard library (and DOMAIN_ALLOW) only"
			fi
			;;
		api | api/*)
			if [[ $imp =~ $API_DENY ]]; then
				violation "$pkg" "$imp" "pgx, Watermill and Kafka clients stay out of api"
			fi
			;;
		esac
		if [[ $imp == "$MODULE/internal/testenv" && $rel != internal/testenv ]]; then
			violation "$pkg" "$imp" "test helpers are for tests only"
		fi
	done
done < <(go list -e -f '{{.ImportPath}} {{join .Imports " "}}' ./...)

if ((fail)); then
	echo "imports: dependency direction violated (see DESIGN.md, 'Layout and dependency direction')" >&2
	exit 1
fi
echo "imports: ok"
