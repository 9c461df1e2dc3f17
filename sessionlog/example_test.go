package sessionlog_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gethelp/gethelp/sessionlog"
)

func Example() {
	dir, err := os.MkdirTemp("", "sessionlog-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	start := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	path := filepath.Join(dir, sessionlog.FileName(start, "7Q2M-K9XD", "host"))
	l, err := sessionlog.Open(path, clock(start, 2*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	l.Append("connected", map[string]any{"helper": "Ana Souza"})
	l.Append("chat", map[string]any{"from": "helper", "text": "Hi, I'm here."})
	l.Append("disconnected", map[string]any{"lines": 3})
	if err := l.Close(); err != nil {
		fmt.Println(err)
		return
	}

	f, err := os.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	fmt.Println(filepath.Base(path))
	if err := sessionlog.Show(os.Stdout, f); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 2025-03-14-7Q2M-K9XD-host.jsonl
	// 2025-03-14 09:26:53Z  connected       helper="Ana Souza"
	// 2025-03-14 09:26:55Z  chat            from=helper text="Hi, I'm here."
	// 2025-03-14 09:26:57Z  disconnected    lines=3
	// chain intact: 3 entries
}
