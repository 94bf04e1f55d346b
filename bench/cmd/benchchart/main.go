// Command benchchart turns `go test -bench` output into a Markdown table and
// an SVG bar chart, each peer as a ratio to raw in the same run.
//
//	go test -run '^$' -bench . -benchmem -count 3 | tee bench.txt
//	go run ./cmd/benchchart -in bench.txt -md table.md -svg results.svg
//
// With -count, each metric is the median of the runs. Without -md the table
// goes to standard output.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchchart:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchchart", flag.ContinueOnError)
	in := fs.String("in", "-", "benchmark output to read (- for standard input)")
	md := fs.String("md", "-", "Markdown table to write (- for standard output)")
	svg := fs.String("svg", "", "SVG chart to write (none if empty)")
	title := fs.String("title", "sockmsg and its peers, ratio to raw net", "chart title")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r := stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	results, info, err := parse(r)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return errors.New("no benchmark results in the input")
	}
	if info.cpu != "" {
		*title += " (" + info.cpu + ")"
	}
	if err := writeTo(*md, stdout, func(w io.Writer) error { return writeTable(w, results) }); err != nil {
		return err
	}
	if *svg != "" {
		return writeTo(*svg, stdout, func(w io.Writer) error { return writeSVG(w, *title, results) })
	}
	return nil
}

// writeTo runs write on the named file, or on stdout for "-".
func writeTo(name string, stdout io.Writer, write func(io.Writer) error) error {
	if name == "-" {
		return write(stdout)
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
