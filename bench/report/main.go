// Command report is the Go half of the gethelp screen-sharing benchmark
// (bench/run.sh). It counts bytes with two small relays and turns the logs of
// a benchmark run into per-phase numbers and the RESULT and RATIO lines.
//
//	report relay    -listen 127.0.0.1:0 -to 127.0.0.1:5900  -log FILE
//	report udprelay -listen 127.0.0.1:0 -to 127.0.0.1:40000 -log FILE
//	report cpusample -interval 50ms -log FILE ROLE=PID...
//	report freeport
//	report field FILE TYPE KEY
//	report summary RUNDIR...
//
// relay forwards TCP connections (VNC) and udprelay UDP datagrams (gethelp's
// QUIC) between a viewer and a server, both on loopback only. Each prints
// "listening ADDR" on stdout once ready and logs every read, one line each:
//
//	<unix_us> <conn> <dir> <bytes>
//
// where dir is open (bytes 0), s2c (server to viewer), c2s or close. They
// stop on SIGINT or SIGTERM and flush the log then.
//
// cpusample logs the CPU time (utime+stime, clock ticks, all threads) of
// each process every interval, as "<unix_us> <role> <ticks>", so that summary
// can split it by phase.
//
// freeport prints a TCP port that is free on 127.0.0.1 right now. field
// prints KEY of the first JSON line of FILE whose "type" is TYPE and exits
// with status 3 when there is none yet. summary is described in summary.go.
//
// Only the standard library is used, so that the benchmark builds whatever
// the rest of the module needs.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// errUsage makes main print the usage and exit with status 2.
var errUsage = errors.New("usage")

// errNotFound makes main exit with status 3 without a message.
var errNotFound = errors.New("not found")

const usage = `usage:
  report relay    -listen 127.0.0.1:0 -to HOST:PORT -log FILE
  report udprelay -listen 127.0.0.1:0 -to HOST:PORT -log FILE
  report cpusample -interval 50ms -log FILE ROLE=PID...
  report freeport
  report field FILE TYPE KEY
  report summary RUNDIR...`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errNotFound):
		os.Exit(3)
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "report: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "relay":
		return runTCPRelay(ctx, args[1:], stdout)
	case "udprelay":
		return runUDPRelay(ctx, args[1:], stdout)
	case "cpusample":
		return runCPUSample(ctx, args[1:], stdout)
	case "freeport":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		_, err = fmt.Fprintln(stdout, ln.Addr().(*net.TCPAddr).Port)
		return err
	case "field":
		if len(args) != 4 {
			return errUsage
		}
		return printField(args[1], args[2], args[3], stdout)
	case "summary":
		if len(args) < 2 {
			return errUsage
		}
		return summarize(args[1:], stdout)
	}
	return errUsage
}

// printField prints key of the first JSON object in file whose "type" is typ:
// strings as they are, anything else as JSON.
func printField(file, typ, key string, w io.Writer) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		var obj map[string]json.RawMessage
		if json.Unmarshal(sc.Bytes(), &obj) != nil {
			continue
		}
		var t string
		if json.Unmarshal(obj["type"], &t) != nil || t != typ {
			continue
		}
		raw, ok := obj[key]
		if !ok {
			return fmt.Errorf("%s: the first %q event has no %q", file, typ, key)
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			_, err = fmt.Fprintln(w, s)
		} else {
			_, err = fmt.Fprintln(w, strings.TrimSpace(string(raw)))
		}
		return err
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errNotFound
}
