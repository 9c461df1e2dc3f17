package invitations_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/invitations"
)

func TestAlphabet(t *testing.T) {
	if invitations.Alphabet != "23456789ABCDEFGHJKMNPQRSTUVWXYZ" {
		t.Fatalf("Alphabet changed: %q", invitations.Alphabet)
	}
	if strings.ContainsAny(invitations.Alphabet, "01OIL") {
		t.Errorf("Alphabet %q holds an ambiguous character", invitations.Alphabet)
	}
}

// onlyAlphabet reports whether s is made of Alphabet characters.
func onlyAlphabet(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !strings.ContainsRune(invitations.Alphabet, r)
	})
}

func TestNewID(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		id := invitations.NewID()
		if len(id) != 10 || !onlyAlphabet(id) {
			t.Fatalf("NewID = %q, want 10 characters from Alphabet", id)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q", id)
		}
		seen[id] = true
	}
}

func TestNewPassword(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		p := invitations.NewPassword()
		groups := strings.Split(p, "-")
		if len(p) != 14 || len(groups) != 3 {
			t.Fatalf("NewPassword = %q, want XXXX-XXXX-XXXX", p)
		}
		for _, g := range groups {
			if len(g) != 4 || !onlyAlphabet(g) {
				t.Fatalf("NewPassword = %q, want groups of 4 characters from Alphabet", p)
			}
		}
		if c := invitations.CanonicalPassword(p); len(c) != 12 || !onlyAlphabet(c) {
			t.Fatalf("CanonicalPassword(%q) = %q, want its 12 characters", p, c)
		}
		if err := invitations.CheckPassword(p); err != nil {
			t.Fatalf("CheckPassword(%q) = %v", p, err)
		}
		if seen[p] {
			t.Fatalf("NewPassword repeated %q", p)
		}
		seen[p] = true
	}
}

// Every character of Alphabet turns up, at each position, in a few
// thousand draws: a coarse check that nothing is left out or stuck.
func TestNewIDUsesWholeAlphabet(t *testing.T) {
	var count [10]map[rune]int
	for i := range count {
		count[i] = make(map[rune]int)
	}
	for range 3000 {
		for i, r := range invitations.NewID() {
			count[i][r]++
		}
	}
	for i, c := range count {
		if len(c) != len(invitations.Alphabet) {
			t.Errorf("position %d used %d of %d characters", i, len(c), len(invitations.Alphabet))
		}
		for r, n := range c {
			// Expected ~97 per character; 30 is more than 6 standard deviations away.
			if n < 30 {
				t.Errorf("position %d: %q drawn only %d times in 3000", i, r, n)
			}
		}
	}
}

func TestCanonicalPassword(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"generated form", "K7PM-W3XQ-R9TD", "K7PMW3XQR9TD"},
		{"lower case with space and dash", "k7pm w3xq-r9td", "K7PMW3XQR9TD"},
		{"tabs and newlines", "\tk7pm\r\nw3xq\nr9td\n", "K7PMW3XQR9TD"},
		{"many dashes", "--K7PM--W3XQ--R9TD--", "K7PMW3XQR9TD"},
		{"no-break space", "K7PM\u00a0W3XQ R9TD", "K7PMW3XQR9TD"},
		{"chosen password keeps punctuation", "correct horse_battery!", "CORRECTHORSE_BATTERY!"},
		{"non-ASCII letters", "über öl", "ÜBERÖL"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := invitations.CanonicalPassword(tt.in); got != tt.want {
				t.Errorf("CanonicalPassword(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"generated", "K7PM-W3XQ-R9TD", false},
		{"eight characters", "abcd-efgh", false},
		{"eight multibyte characters", "ääääöööö", false},
		{"seven characters", "abcdefg", true},
		{"long but mostly dashes and spaces", "ab - cd - ef - g", true},
		{"empty", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := invitations.CheckPassword(tt.in)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("CheckPassword(%q) = %v", tt.in, err)
				}
				return
			}
			if !errors.Is(err, invitations.ErrWeakPassword) {
				t.Fatalf("CheckPassword(%q) = %v, want error wrapping ErrWeakPassword", tt.in, err)
			}
			checkMessage(t, err)
			if !strings.Contains(err.Error(), "at least 8 characters") {
				t.Errorf("CheckPassword error %q does not say the minimum", err)
			}
		})
	}
}
