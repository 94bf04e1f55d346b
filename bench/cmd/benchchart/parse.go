package main

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
)

// A result is one sub-benchmark's metrics: the median of its runs (-count).
type result struct {
	scenario, peer string
	runs           int
	metrics        map[string]float64 // unit -> median value
	spread         map[string]float64 // unit -> (max-min)/median over the runs
	skipped        string             // why the benchmark skipped, if it did
}

// runInfo is what `go test -bench` prints about the machine.
type runInfo struct {
	goos, goarch, cpu, pkg string
}

// parse reads `go test -bench` output. Lines that are not benchmark results
// are skipped, except the goos/goarch/cpu/pkg header. Results keep the order
// in which their scenario and peer first appear.
func parse(r io.Reader) ([]result, runInfo, error) {
	var info runInfo
	type key struct{ scenario, peer string }
	var order []key
	samples := map[key]map[string][]float64{}
	runs := map[key]int{}
	skipped := map[key]string{}
	// With -v the reason for a skip is logged just before "--- SKIP: name";
	// in other outputs it may follow it.
	var lastLog string
	var skipping *key
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "    ") {
			_, msg, _ := strings.Cut(strings.TrimSpace(line), ": ") // drop "file.go:12: "
			if skipping != nil {
				skipped[*skipping] = msg
				skipping = nil
			} else {
				lastLog = msg
			}
			continue
		}
		skipping = nil
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "--- SKIP: Benchmark"); ok {
			scenario, peer, _ := strings.Cut(name, "/")
			peer, _, _ = strings.Cut(peer, " ")
			k := key{scenario, peer}
			if _, seen := samples[k]; !seen {
				order = append(order, k)
				samples[k] = map[string][]float64{}
			}
			if lastLog != "" {
				skipped[k] = lastLog
			} else {
				skipped[k] = "skipped"
				skipping = &k
			}
			lastLog = ""
			continue
		}
		if strings.HasPrefix(line, "Benchmark") {
			lastLog = ""
		}
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "Benchmark") {
			switch k {
			case "goos":
				info.goos = v
			case "goarch":
				info.goarch = v
			case "cpu":
				info.cpu = v
			case "pkg":
				info.pkg = v
			}
			continue
		}
		name, metrics, ok := parseLine(line)
		if !ok {
			continue
		}
		scenario, peer, _ := strings.Cut(strings.TrimPrefix(name, "Benchmark"), "/")
		k := key{scenario, peer}
		if _, seen := samples[k]; !seen {
			order = append(order, k)
			samples[k] = map[string][]float64{}
		}
		runs[k]++
		for unit, v := range metrics {
			samples[k][unit] = append(samples[k][unit], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, info, err
	}
	out := make([]result, 0, len(order))
	for _, k := range order {
		res := result{scenario: k.scenario, peer: k.peer, runs: runs[k], metrics: map[string]float64{}, spread: map[string]float64{}}
		if runs[k] == 0 {
			res.skipped = skipped[k]
		}
		for unit, vs := range samples[k] {
			m := median(vs)
			res.metrics[unit] = m
			if m != 0 {
				res.spread[unit] = (slices.Max(vs) - slices.Min(vs)) / m
			}
		}
		out = append(out, res)
	}
	return out, info, nil
}

// parseLine splits "BenchmarkX/peer-2  1000  123 ns/op  4 msgs/s ..." into the
// name (GOMAXPROCS suffix dropped) and its value-unit pairs.
func parseLine(line string) (string, map[string]float64, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return "", nil, false
	}
	if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
		return "", nil, false
	}
	name := f[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	metrics := map[string]float64{}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, false
		}
		metrics[f[i+1]] = v
	}
	return name, metrics, true
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
