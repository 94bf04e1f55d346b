#!/usr/bin/env bash
# The project's whole check, as README.md gives it: formatting, vet, staticcheck, the
# race-enabled tests of the library and its examples, the benchmark module's delivery
# tests, and each fuzz target for a bounded time. It installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

# A count, not a duration: Go 1.26's fuzz coordinator can report a spurious "context
# deadline exceeded" failure when a -fuzztime duration runs out (go.dev/issue/75804,
# fixed in Go 1.27). A count has no deadline to race. 200000 runs take about 10 s a target
# here; -timeout still bounds each run.
FUZZTIME="${FUZZTIME:-200000x}"
STATICCHECK_VERSION=v0.8.2

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
	echo "these files need gofmt -w:"
	echo "$unformatted"
	exit 1
fi

step "go vet"
go vet ./...
if [ -d bench ]; then (cd bench && go vet ./...); fi

step "staticcheck $STATICCHECK_VERSION"
go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
"$(go env GOPATH)/bin/staticcheck" ./...
if [ -d bench ]; then (cd bench && "$(go env GOPATH)/bin/staticcheck" ./...); fi

step "go test -race"
go test -race -count=1 ./...

step "reliability suites at full size (RELIABILITY.md)"
SOCKMSG_RELIABILITY=1 go test -run 'Load|Faults|Hostile' -count=1 -timeout 30m .

if [ -d bench ]; then
	step "bench module: every peer delivers its messages"
	(cd bench && go test -count=1 ./...)
fi

step "fuzz, $FUZZTIME per target"
for target in $(go test -list '^Fuzz' . | grep '^Fuzz'); do
	go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" -timeout 10m .
done
