package main

import (
	"fmt"
	"io"
	"strings"
)

// The reference peer: every ratio is to it, in the same run.
const reference = "raw"

// primary is the metric a scenario is ranked by, and whether more is better.
func primary(r result) (unit string, higherBetter bool) {
	if _, ok := r.metrics["bytes/conv"]; ok {
		return "bytes/conv", false
	}
	return "msgs/s", true
}

// ratio is r's primary metric over the reference peer's in the same scenario
// (0 when there is no reference).
func ratio(r result, all []result) float64 {
	unit, _ := primary(r)
	for _, ref := range all {
		if ref.scenario == r.scenario && ref.peer == reference {
			if d := ref.metrics[unit]; d != 0 {
				return r.metrics[unit] / d
			}
		}
	}
	return 0
}

// writeTable writes one Markdown table row per result.
func writeTable(w io.Writer, results []result) error {
	var b strings.Builder
	b.WriteString("| scenario | peer | msgs/s | spread | ns/op | B/op | allocs/op | ratio to raw | other |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|---|\n")
	for _, r := range results {
		unit, _ := primary(r)
		rat := "—"
		if x := ratio(r, results); x != 0 {
			rat = fmt.Sprintf("%.2fx", x)
			if unit != "msgs/s" {
				rat += " (" + unit + ")"
			}
		}
		var other []string
		if r.skipped != "" {
			other = append(other, "skipped: "+r.skipped)
		}
		for _, u := range []string{"loss%", "bytes/conv", "stack-bytes/conv", "convs", "MB/s"} {
			if v, ok := r.metrics[u]; ok {
				other = append(other, fmt.Sprintf("%s %s", num(v), u))
			}
		}
		spread := "—"
		if sp, ok := r.spread[unit]; ok && r.runs > 1 {
			spread = fmt.Sprintf("±%.0f%%", 50*sp)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.scenario, r.peer, metric(r, "msgs/s"), spread, metric(r, "ns/op"), metric(r, "B/op"),
			metric(r, "allocs/op"), rat, strings.Join(other, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func metric(r result, unit string) string {
	v, ok := r.metrics[unit]
	if !ok {
		return "—"
	}
	return num(v)
}

// num prints v with thousands separators, and decimals only when small.
func num(v float64) string {
	if v != 0 && v < 100 && v > -100 {
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	}
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
