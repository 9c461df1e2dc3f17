// Command benchmedian reads `go test -bench` output (several -count runs
// of the same benchmarks) on stdin and prints, for each benchmark and each
// unit, the median and every run's value, in the order they first
// appeared. It is what bench/connect.sh uses instead of benchstat, which
// the benchmark machine does not have.
//
//	go test -run '^$' -bench . -count 5 ./integration/ | benchmedian
//
// ns/op is shown as ms/op. The GOMAXPROCS suffix ("-2") is kept in the
// names. Lines that are not benchmark results are ignored. Only the
// standard library is used.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: go test -bench … | benchmedian")
		os.Exit(2)
	}
	results, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchmedian:", err)
		os.Exit(1)
	}
	if err := write(os.Stdout, results); err != nil {
		fmt.Fprintln(os.Stderr, "benchmedian:", err)
		os.Exit(1)
	}
}

// benchmark is one benchmark's values, by unit, one per run.
type benchmark struct {
	name   string
	units  []string // in the order first seen
	values map[string][]float64
}

// parse collects the result lines of r by benchmark name.
func parse(r io.Reader) ([]*benchmark, error) {
	var out []*benchmark
	byName := make(map[string]*benchmark)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// Name, iterations, then value-unit pairs.
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
			continue
		}
		b := byName[f[0]]
		if b == nil {
			b = &benchmark{name: f[0], values: make(map[string][]float64)}
			byName[f[0]] = b
			out = append(out, b)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", sc.Text(), err)
			}
			unit := f[i+1]
			if unit == "ns/op" {
				unit, v = "ms/op", v/1e6
			}
			if _, ok := b.values[unit]; !ok {
				b.units = append(b.units, unit)
			}
			b.values[unit] = append(b.values[unit], v)
		}
	}
	return out, sc.Err()
}

// write prints one block per benchmark: "  unit  median  (run values)".
func write(w io.Writer, bs []*benchmark) error {
	bw := bufio.NewWriter(w)
	for _, b := range bs {
		fmt.Fprintln(bw, b.name)
		width := 0
		for _, u := range b.units {
			width = max(width, len(u))
		}
		for _, u := range b.units {
			vs := b.values[u]
			runs := make([]string, len(vs))
			for i, v := range vs {
				runs[i] = format(v)
			}
			fmt.Fprintf(bw, "  %-*s %10s  (%s)\n", width, u, format(median(vs)), strings.Join(runs, " "))
		}
	}
	return bw.Flush()
}

// median is the middle value, or the mean of the two middle ones.
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// format shows four significant digits, and whole numbers from 1000 up
// (never an exponent there).
func format(v float64) string {
	if max(v, -v) >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
