package viewerui_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/viewer/viewerui"
)

// The token, the cookie, the 403s and the loopback addresses are
// localweb's, and tested there; these tests are about what the helper's
// window adds.

func TestNewRefusesOtherInterfaces(t *testing.T) {
	s, err := viewerui.New(nil, viewerui.Options{Addr: "0.0.0.0:0"})
	if err == nil {
		s.Close()
		t.Fatal("New succeeded")
	}
	if !errors.Is(err, viewerui.ErrNotLoopback) {
		t.Fatalf("New = %v, want ErrNotLoopback", err)
	}
}

func TestServeAndClose(t *testing.T) {
	// No page connects, so no viewer is needed.
	s, err := viewerui.New(nil, viewerui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "gethelp") {
		t.Fatalf("GET %s: %s", s.URL(), resp.Status)
	}

	// Close stops the server and the statistics, once.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := http.Get(s.URL()); err == nil {
		t.Fatal("the server still answers after Close")
	}
}
