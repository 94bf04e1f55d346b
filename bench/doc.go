// Package bench measures sockmsg against the raw net package and the
// messaging libraries a Go programmer would otherwise pick: gorilla/websocket,
// coder/websocket, go-zeromq/zmq4 and pion's UDP listener.
//
// It is its own module so that none of the peers enter the library's
// dependencies. Everything lives in the _test.go files: the benchmarks
// (Benchmark<Scenario>/<peer>), and the tests that check every peer really
// delivered every message, intact, before its numbers are believed.
//
// Run it from this directory:
//
//	go test -run '^$' -bench . -benchmem            # every scenario, every peer (about a minute)
//	go test ./...                                   # delivery tests only
//
// The published numbers (BENCHMARKS.md in the repository root) come from
//
//	go test -c -o bench.test
//	for i in 1 2 3 4 5; do ./bench.test -test.run '^$' -test.bench . -test.benchmem -test.v; done > results.txt
//	go run ./cmd/benchchart -in results.txt -md results.md -svg results.svg
//
// Five passes one after another (about six minutes) rather than -count 5, so
// that a burst of load from elsewhere is spread over all the peers; -v makes
// the skipped sub-benchmarks and their reasons visible to benchchart.
//
// All traffic stays on 127.0.0.1; every listener takes its port from :0.
package bench
