package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// runCPUSample logs the CPU time of processes every -interval until ctx is
// done or all of them have exited:
//
//	<unix_us> <role> <utime+stime in clock ticks>
//
// Arguments are role=PID pairs.
func runCPUSample(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cpusample", flag.ContinueOnError)
	interval := fs.Duration("interval", 50*time.Millisecond, "sampling interval")
	logPath := fs.String("log", "", "file to write the samples to")
	if err := fs.Parse(args); err != nil || *logPath == "" || fs.NArg() == 0 {
		return errUsage
	}
	type proc struct {
		role string
		pid  int
	}
	var procs []proc
	for _, a := range fs.Args() {
		role, p, ok := strings.Cut(a, "=")
		pid, err := strconv.Atoi(p)
		if !ok || err != nil || role == "" {
			return fmt.Errorf("cpusample: want ROLE=PID, got %q", a)
		}
		procs = append(procs, proc{role, pid})
	}
	f, err := os.Create(*logPath)
	if err != nil {
		return err
	}
	t := time.NewTicker(*interval)
	defer t.Stop()
	for {
		now := time.Now()
		alive := 0
		for _, p := range procs {
			ticks, err := procTicks(p.pid)
			if err != nil {
				continue
			}
			alive++
			fmt.Fprintf(f, "%d %s %d\n", now.UnixMicro(), p.role, ticks)
		}
		if alive == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return f.Close()
		case <-t.C:
		}
	}
	return f.Close()
}

// procTicks reads utime+stime of all threads of pid from /proc/PID/stat.
func procTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("cpusample: malformed stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 || f[0] == "Z" {
		return 0, errors.New("cpusample: process gone")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return u + st, nil
}
