package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartWidth = 960
	labelWidth = 90  // peer names
	barWidth   = 560 // the bar of the largest ratio
	rowHeight  = 18
	groupGap   = 30 // room for a scenario's title
	margin     = 16
)

var peerColors = map[string]string{
	"raw":     "#7f7f7f",
	"sockmsg": "#d62728",
	"gorilla": "#1f77b4",
	"coder":   "#2ca02c",
	"zmq4":    "#9467bd",
	"pion":    "#ff7f0e",
}

// writeSVG draws, per scenario, one bar per peer: its primary metric as a
// ratio to raw's in the same run, with a dashed line at 1x.
func writeSVG(w io.Writer, title string, results []result) error {
	scenarios := groupByScenario(results)
	maxRatio := 1.0
	for _, r := range results {
		maxRatio = max(maxRatio, ratio(r, results))
	}
	maxRatio = math.Ceil(maxRatio*2) / 2 // a round number of halves
	scale := barWidth / maxRatio

	height := margin*2 + 40
	for _, g := range scenarios {
		height += groupGap + len(g)*rowHeight
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="15" font-weight="bold">%s</text>`+"\n", margin, margin+14, esc(title))
	runs := 0
	for _, r := range results {
		runs = max(runs, r.runs)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">median of %d runs: ratio to raw in the same run (bar), absolute value (label); dashed line: raw = 1x</text>`+"\n", margin, margin+32, runs)

	x0 := margin + labelWidth
	y := margin + 40
	// The 1x line goes first, behind the bars.
	one := float64(x0) + scale
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999" stroke-dasharray="4 3"/>`+"\n", one, y+groupGap-4, one, height-margin)
	for _, g := range scenarios {
		unit, higher := primary(g[0])
		note := "msgs/s, higher is better"
		if !higher {
			note = unit + ", lower is better"
		}
		y += groupGap
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s <tspan font-weight="normal" fill="#555">(%s)</tspan></text>`+"\n",
			margin, y-8, esc(g[0].scenario), esc(note))
		for _, r := range g {
			rat := ratio(r, results)
			color, ok := peerColors[r.peer]
			if !ok {
				color = "#bcbd22"
			}
			bw := rat * scale
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", x0-6, y+rowHeight-5, esc(r.peer))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", x0, y+2, bw, rowHeight-4, color)
			label := fmt.Sprintf("%.2fx  %s %s", rat, num(r.metrics[unit]), unit)
			if r.skipped != "" {
				label = "skipped: " + shorten(r.skipped, 60)
			} else if rat == 0 {
				label = fmt.Sprintf("%s %s (no raw in this run)", num(r.metrics[unit]), unit)
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" stroke="white" stroke-width="3" paint-order="stroke">%s</text>`+"\n", float64(x0)+bw+6, y+rowHeight-5, esc(label))
			y += rowHeight
		}
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// groupByScenario splits results into runs of one scenario, in order.
func groupByScenario(results []result) [][]result {
	var groups [][]result
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.scenario]
		if !ok {
			i = len(groups)
			index[r.scenario] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	return groups
}

func esc(s string) string { return html.EscapeString(s) }

// shorten cuts s to at most n runes, marking the cut with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
