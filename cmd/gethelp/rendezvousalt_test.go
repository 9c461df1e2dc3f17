package main

import "testing"

// The rendezvous's second port: the next port by default, an ephemeral
// one beside an ephemeral rendezvous, as configured, or none.
func TestRendezvousAltAddr(t *testing.T) {
	for _, tc := range []struct {
		listen, alt string
		want        string
		wantErr     bool
	}{
		{listen: ":3478", want: ":3479"},
		{listen: "203.0.113.1:3478", want: "203.0.113.1:3479"},
		{listen: "[2001:db8::1]:3478", want: "[2001:db8::1]:3479"},
		{listen: "127.0.0.1:0", want: "127.0.0.1:0"},
		{listen: ":3478", alt: ":5000", want: ":5000"},
		{listen: ":3478", alt: "off", want: ""},
		{listen: "", want: ""},
		{listen: ":65535", wantErr: true},
		{listen: ":stun", wantErr: true},
		{listen: "no port", wantErr: true},
		{listen: ":65535", alt: "off", want: ""},
	} {
		got, err := rendezvousAltAddr(BotConfig{RendezvousListen: tc.listen, RendezvousAltListen: tc.alt})
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("rendezvous_listen %q, rendezvous_alt_listen %q: got %q, %v", tc.listen, tc.alt, got, err)
		}
	}
}
