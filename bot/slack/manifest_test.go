package slack_test

import (
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gethelp/gethelp/bot/slack/slackfake"
)

// TestManifest: the app manifest asks for what the adapter uses, and the
// fake grants by default exactly its scopes.
func TestManifest(t *testing.T) {
	b, err := os.ReadFile("manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			BotUser struct {
				DisplayName string `yaml:"display_name"`
			} `yaml:"bot_user"`
			SlashCommands []struct {
				Command      string `yaml:"command"`
				UsageHint    string `yaml:"usage_hint"`
				ShouldEscape bool   `yaml:"should_escape"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct{ Bot []string } `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				BotEvents []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				IsEnabled bool `yaml:"is_enabled"`
			} `yaml:"interactivity"`
			SocketMode bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if got := m.OAuth.Scopes.Bot; !slices.Equal(got, slackfake.DefaultScopes) {
		t.Errorf("bot scopes %q, want %q", got, slackfake.DefaultScopes)
	}
	if c := m.Features.SlashCommands; len(c) != 1 || c[0].Command != "/gethelp" || c[0].UsageHint == "" || !c[0].ShouldEscape {
		t.Errorf("slash commands %+v", c)
	}
	if e := m.Settings.Events.BotEvents; !slices.Equal(e, []string{"message.channels", "message.groups", "message.im"}) {
		t.Errorf("bot events %q", e)
	}
	if !m.Settings.SocketMode || !m.Settings.Interactivity.IsEnabled || m.Features.BotUser.DisplayName == "" {
		t.Errorf("settings %+v", m.Settings)
	}
}
