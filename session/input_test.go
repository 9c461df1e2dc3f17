package session_test

import (
	"errors"
	"testing"

	"github.com/gethelp/gethelp/session"
)

func TestParseInput(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"move", `{"k":"move","x":10,"y":20}`, true},
		{"button", `{"k":"button","x":1,"y":2,"b":1,"d":true}`, true},
		{"key", `{"k":"key","key":"Escape","d":true}`, true},
		{"text", `{"k":"text","text":"Hello, World! ü\n"}`, true},
		{"wheel", `{"k":"wheel","dy":-3}`, true},
		{"unknown kind", `{"k":"teleport"}`, false},
		{"negative position", `{"k":"move","x":-1,"y":2}`, false},
		{"button zero", `{"k":"button","x":1,"y":2}`, false},
		{"empty key", `{"k":"key","d":true}`, false},
		{"huge wheel", `{"k":"wheel","dy":100000}`, false},
		{"not json", `k=move`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := session.ParseInput([]byte(tc.in))
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok {
				if err == nil {
					t.Fatalf("accepted %+v", in)
				}
				if !errors.Is(err, session.ErrBadFrame) {
					t.Errorf("error %v does not wrap ErrBadFrame", err)
				}
			}
		})
	}
}

func FuzzParseInput(f *testing.F) {
	f.Add([]byte(`{"k":"text","text":"hi"}`))
	f.Add([]byte(`{"k":"button","x":1,"y":2,"b":3,"d":true}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		in, err := session.ParseInput(p)
		if err != nil {
			return
		}
		out, err := session.AppendInput(nil, in)
		if err != nil {
			t.Fatalf("an accepted input does not encode: %v", err)
		}
		again, err := session.ParseInput(out)
		if err != nil || again != in {
			t.Fatalf("round trip: %+v -> %+v (%v)", in, again, err)
		}
	})
}
