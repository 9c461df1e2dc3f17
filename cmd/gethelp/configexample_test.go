package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// config.example.yaml documents every setting: its commented examples,
// uncommented, are a valid configuration, bot section included.
func TestConfigExampleParses(t *testing.T) {
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	setting := regexp.MustCompile(`^# ?( *[a-z_]+:( |$)| *- \{)`)
	inPolicy := false
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, "Administrator policy") {
			inPolicy = true
		}
		switch {
		case inPolicy:
		case !strings.HasPrefix(l, "#"):
			lines = append(lines, l)
		case setting.MatchString(l):
			lines = append(lines, strings.TrimPrefix(strings.TrimPrefix(l, "#"), " "))
		}
	}
	path := t.TempDir() + "/config.yaml"
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(path, true)
	if err != nil {
		t.Fatalf("the example does not parse: %v\n%s", err, strings.Join(lines, "\n"))
	}
	if c.Bot == nil || c.Bot.Email.Inbound.Domain != "reply.example.org" || c.Bot.Webchat == nil || len(c.Bot.Webchat.Users) != 2 {
		t.Errorf("the bot section did not come through: %+v", c.Bot)
	}
	if len(c.MaskedWindows) == 0 || c.BotPin == "" {
		t.Errorf("commented settings were lost: %+v", c)
	}
}
