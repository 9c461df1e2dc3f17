package email_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot/email"
)

func parseFile(t *testing.T, name string) (*email.Reply, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "replies", name))
	if err != nil {
		t.Fatal(err)
	}
	return email.ParseReply(bytes.NewReader(b), 0)
}

func TestParseReplyFiles(t *testing.T) {
	for _, tc := range []struct {
		file      string
		from      string // "Name <address>"
		subject   string
		messageID string
		inReplyTo string
		refs      string
		date      time.Time
		text      string
		automatic bool
	}{
		{
			file: "gmail.eml", from: "Zoe Helper <zoe.helper@gmail.example>", subject: "Re: Jörg asks for help",
			messageID: "CAH+w=7Y3xqZ8fQ1-Lm0nB5@mail.gmail.example", inReplyTo: "chat-7@gethelp.example",
			refs: "invitation-42@gethelp.example chat-7@gethelp.example",
			date: time.Date(2026, 3, 3, 10, 14, 51, 0, time.UTC),
			text: "Hi Jörg,\n\nI can help in ten minutes. Please keep the invitation open.\n\nZoe",
		},
		{
			file: "outlook.eml", from: "Example, Zoe <Zoe.Example@contoso.example>", subject: "RE: Jörg asks for help",
			messageID: "AM6PR05MB1234ABCD5678EF@AM6PR05MB1234.eurprd05.prod.outlook.example", inReplyTo: "invitation-42@gethelp.example",
			refs: "invitation-42@gethelp.example", date: time.Date(2026, 3, 3, 10, 20, 9, 0, time.UTC),
			text: "Hi Jörg,\n\nI am connected now. You should see a consent prompt.\n\nKind regards,\nZoe",
		},
		{
			file: "latin1.eml", from: "Renée Bérubé <renee@exemple.test>", subject: "Re: Jörg demande de l'aide",
			messageID: "20260303120100.4711@exemple.test", inReplyTo: "invitation-42@gethelp.example",
			date: time.Date(2026, 3, 3, 11, 1, 0, 0, time.UTC),
			text: "Bonjour Jörg,\n\nJe me connecte dans cinq minutes. Gardez l'invitation ouverte, s'il vous plaît.\n\nRenée",
		},
		{
			file: "htmlonly.eml", from: "Sam Support <sam@helpdesk.example>", subject: "Re: Help",
			messageID: "html-only-1@helpdesk.example", inReplyTo: "chat-9@gethelp.example",
			refs: "invitation-42@gethelp.example chat-9@gethelp.example", date: time.Date(2026, 3, 3, 12, 30, 0, 0, time.UTC),
			text: "Hello Jörg,\n\nTry these steps:\n\n- Open Settings & choose Display\n- Read the guide at our help page <https://help.example/display?x=1&y=2>\n\nTell me if it works — I'm here <until 5pm>.\nSam",
		},
		{
			file: "flowed.eml", from: "Kim <kim@mac.example>", subject: "Re: help",
			messageID: "8F0C1E4A-1B2C-4D5E-9F00-ABCDEF012345@mac.example", date: time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC),
			text: "This is a long line that Apple Mail wrapped with format=flowed so it continues on the next line.\n\nKim",
		},
		{
			file: "thunderbird-de.eml", from: "Jana Beispiel <jana@beispiel.test>", subject: "Re: Jörg braucht Hilfe",
			messageID: "b1c2d3e4-f5a6-7890-abcd-ef0123456789@beispiel.test", inReplyTo: "invitation-42@gethelp.example",
			date: time.Date(2026, 3, 3, 13, 0, 0, 0, time.UTC),
			text: "Hallo Jörg,\n\nich bin gleich da.",
		},
		{
			file: "interleaved.eml", from: "Dev Eloper <dev@example.test>", subject: "Re: printer",
			messageID: "inline-1@example.test", date: time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC),
			text: "Yes, the light is green.\n\nTwice, no change.",
		},
		{
			file: "autoreply.eml", from: "Zoe Helper <zoe@example.test>", subject: "Automatic reply: Jörg asks for help",
			messageID: "ooo-1@example.test", date: time.Date(2026, 3, 3, 16, 0, 0, 0, time.UTC),
			text: "I am out of the office until Monday – for urgent matters call the service desk.", automatic: true,
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := parseFile(t, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.From.Name + " <" + r.From.Address + ">"; got != tc.from {
				t.Errorf("From = %q, want %q", got, tc.from)
			}
			if r.Subject != tc.subject {
				t.Errorf("Subject = %q, want %q", r.Subject, tc.subject)
			}
			if r.MessageID != tc.messageID || r.InReplyTo != tc.inReplyTo || strings.Join(r.References, " ") != tc.refs {
				t.Errorf("ids = %q / %q / %q, want %q / %q / %q", r.MessageID, r.InReplyTo, r.References, tc.messageID, tc.inReplyTo, tc.refs)
			}
			if !r.Date.Equal(tc.date) {
				t.Errorf("Date = %v, want %v", r.Date, tc.date)
			}
			if r.Text != tc.text {
				t.Errorf("Text =\n%q\nwant\n%q", r.Text, tc.text)
			}
			if r.Automatic != tc.automatic {
				t.Errorf("Automatic = %v", r.Automatic)
			}
			if r.Token != "" {
				t.Errorf("Token = %q, want empty from ParseReply", r.Token)
			}
		})
	}
}

// plain returns a message with a text/plain body.
func plain(body string) string {
	return "From: Zoe <zoe@example.test>\r\nTo: bot+abc12345@example.test\r\nSubject: Re: help\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
}

func TestParseReplyStripsQuotes(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"nothing to strip", "Hello\n\nthere\n", "Hello\n\nthere"},
		{"quoted lines", "Yes.\n> old\n> older\n", "Yes."},
		{"gmail attribution", "Yes.\n\nOn Mon, Mar 2, 2026 at 10:00 AM Bot <bot@x.test> wrote:\n\n> old\n", "Yes."},
		{"attribution wrapped over two lines", "Yes.\n\nOn Mon, Mar 2, 2026 at 10:00 AM Somebody With A Long Name <\nsomebody@example.test> wrote:\n> old\n", "Yes."},
		{"attribution without quote marks", "Yes.\n\nOn 2 Mar 2026, at 10:00, Bot wrote:\n\nold text not marked\n", "Yes."},
		{"french attribution with nbsp", "Oui.\n\nLe lun. 2 mars 2026 à 10:00, Bot <b@x.test> a écrit\u00a0:\n> vieux\n", "Oui."},
		{"german attribution", "Ja.\n\nAm 02.03.2026 um 10:00 schrieb Bot <b@x.test>:\n> alt\n", "Ja."},
		{"spanish attribution", "Sí.\n\nEl lun, 2 mar 2026 a las 10:00, Bot (<b@x.test>) escribió:\n> viejo\n", "Sí."},
		{"not an attribution without a digit", "On Monday I wrote:\nthe printer works\n", "On Monday I wrote:\nthe printer works"},
		{"original message", "Done.\n\n-----Original Message-----\nFrom: Bot\nSent: Monday\n\nold\n", "Done."},
		{"original message, mobile style", "Done.\n\n-------- Original message --------\nFrom: Bot\n", "Done."},
		{"outlook separator", "Done.\n________________________________\nFrom: Bot <b@x.test>\nSent: Monday, 2 March 2026 10:00\nTo: Zoe\nSubject: help\n\nold\n", "Done."},
		{"from block after a blank line", "Done.\n\nFrom: Bot <b@x.test>\nSent: Monday, 2 March 2026 10:00\nTo: Zoe\n\nold\n", "Done."},
		{"bold from block", "Done.\n\n*From:* Bot <b@x.test>\n*Sent:* Monday\n\nold\n", "Done."},
		{"from line in prose is kept", "Done.\n\nFrom: my desk I can see it.\nIt works now.\n", "Done.\n\nFrom: my desk I can see it.\nIt works now."},
		{"signature", "Thanks!\n\n-- \nZoe Helper\nACME IT\n", "Thanks!"},
		{"signature without trailing space", "Thanks!\n--\nZoe\n", "Thanks!"},
		{"quoted signature is not ours", "Thanks!\n> -- \n> Bot\nMore text.\n", "Thanks!\n\nMore text."},
		{"interleaved after attribution", "On Mon, Mar 2, 2026 at 10:00 AM Bot wrote:\n> Q1?\nA1.\n> Q2?\nA2.\n", "A1.\n\nA2."},
		{"sent from my phone", "OK\n\nSent from my iPhone\n", "OK"},
		{"blank runs collapse", "a\n\n\n\n\nb\n\n\n", "a\n\nb"},
		{"crlf and trailing spaces", "a  \r\nb\t\r\n", "a\nb"},
		{"only quotes", "> everything\n> quoted\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := email.ParseReply(strings.NewReader(plain(tc.body)), 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != tc.want {
				t.Errorf("Text =\n%q\nwant\n%q", r.Text, tc.want)
			}
		})
	}
}

func TestParseReplyCharsets(t *testing.T) {
	for _, tc := range []struct {
		name, headers, body, want string
	}{
		{"iso-8859-1 quoted-printable", "Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n", "Gr=FC=DFe, J=F6rg", "Grüße, Jörg"},
		{"windows-1252 8bit", "Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n", "\x93quoted\x94 \x80", "“quoted” €"},
		{"utf-8 base64", "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n", "SsO2cmcg4pyU", "Jörg ✔"},
		{"koi8-r", "Content-Type: text/plain; charset=koi8-r\r\n", "\xf0\xd2\xc9\xd7\xc5\xd4", "Привет"},
		{"shift_jis", "Content-Type: text/plain; charset=Shift_JIS\r\n", "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd", "こんにちは"},
		{"no charset is ascii", "", "plain", "plain"},
		{"unknown charset read as is", "Content-Type: text/plain; charset=x-klingon\r\n", "qapla\xff", "qapla\uFFFD"},
		{"invalid utf-8 replaced", "Content-Type: text/plain; charset=utf-8\r\n", "ok \xc3\x28", "ok \uFFFD("},
		{"html in latin-1", "Content-Type: text/html; charset=iso-8859-1\r\n", "<p>Salut J\xf6rg&nbsp;!</p>", "Salut Jörg !"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := "From: a@example.test\r\nSubject: =?iso-8859-1?q?=C0_bient=F4t?=\r\nMIME-Version: 1.0\r\n" + tc.headers + "\r\n" + tc.body
			r, err := email.ParseReply(strings.NewReader(msg), 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != tc.want {
				t.Errorf("Text = %q, want %q", r.Text, tc.want)
			}
			if r.Subject != "À bientôt" {
				t.Errorf("Subject = %q", r.Subject)
			}
		})
	}
}

func TestParseReplyPrefersPlainText(t *testing.T) {
	msg := "From: a@example.test\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n" +
		"--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\r\n" + // empty plain part: use the HTML
		"--b2\r\nContent-Type: text/html\r\n\r\n<p>from <b>html</b></p>\r\n--b2--\r\n" +
		"--b1\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\nnot the body\r\n" +
		"--b1--\r\n"
	r, err := email.ParseReply(strings.NewReader(msg), 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "from html" {
		t.Errorf("Text = %q", r.Text)
	}
}

func TestParseReplyLenientHeaders(t *testing.T) {
	msg := "From: John Q. Public <jqp@example.test>\r\nMessage-ID: no-brackets@example.test\r\nDate: yesterday\r\n\r\nhi"
	r, err := email.ParseReply(strings.NewReader(msg), 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.From.Address != "jqp@example.test" || r.From.Name != "John Q. Public" {
		t.Errorf("From = %+v", r.From)
	}
	if r.MessageID != "no-brackets@example.test" || !r.Date.IsZero() {
		t.Errorf("MessageID %q, Date %v", r.MessageID, r.Date)
	}
}

func TestParseReplyErrors(t *testing.T) {
	big := plain(strings.Repeat("x", 2000))
	for _, tc := range []struct {
		name string
		msg  string
		max  int64
		kind error
		want string
	}{
		{"no From", "To: a@example.test\r\n\r\nhi", 0, email.ErrMalformed, "email: message has no From header"},
		{"bad From", "From: nobody\r\n\r\nhi", 0, email.ErrMalformed, "email: bad From header"},
		{"too large", big, 1000, email.ErrTooLarge, "email: message larger than 1000 bytes"},
		{"default limit", plain(strings.Repeat("y", email.DefaultMaxBytes)), 0, email.ErrTooLarge, "email: message larger than 1048576 bytes"},
		{"multipart without boundary", "From: a@example.test\r\nContent-Type: multipart/mixed\r\n\r\nhi", 0, email.ErrMalformed, "email: multipart/mixed part has no boundary"},
		{"multipart cut short", "From: a@example.test\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nno end", 0, email.ErrMalformed, "email: bad text/plain part: unexpected EOF"},
		{"corrupt base64", "From: a@example.test\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64", 0, email.ErrMalformed, "email: bad text/plain part"},
		{"nesting too deep", "From: a@example.test\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" + nested(40), 0, email.ErrMalformed, "email: MIME parts nested deeper than 32"},
		{"header without colon", "From: a@example.test\r\nthis is not a header\r\n\r\nhi", 0, email.ErrMalformed, "email: bad header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := email.ParseReply(strings.NewReader(tc.msg), tc.max)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("ParseReply = %v, want %v", err, tc.kind)
			}
			if !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error = %q, want one line starting %q", err, tc.want)
			}
		})
	}
}

func TestParseReplyBrokenFile(t *testing.T) {
	_, err := parseFile(t, "broken.eml")
	if !errors.Is(err, email.ErrMalformed) {
		t.Fatalf("ParseReply = %v, want ErrMalformed", err)
	}
}

func TestParseReplyHTML(t *testing.T) {
	for _, tc := range []struct{ name, html, want string }{
		{"line breaks", "one<br>two<br/>three", "one\ntwo\nthree"},
		{"divs", "<div>a</div><div><br></div><div>b</div>", "a\n\nb"},
		{"white space collapses", "<p>  lots   of\n\n space </p>", "lots of space"},
		{"pre keeps lines", "<pre>  x = 1\n  y = 2</pre>", "x = 1\n  y = 2"},
		{"script and style dropped", "<style>p{}</style><script>evil()</script>shown", "shown"},
		{"entities", "&lt;b&gt; &amp; &quot;q&quot; &#8364; &euro;", "<b> & \"q\" € €"},
		{"link text is its address", `<a href="https://x.test/">https://x.test/</a>`, "https://x.test/"},
		{"link with text", `see <a href="https://x.test/a">the page</a>.`, "see the page <https://x.test/a>."},
		{"javascript link hidden", `<a href="javascript:alert(1)">click</a>`, "click"},
		{"nested quotes removed", "new<blockquote>old<blockquote>older</blockquote>old again</blockquote>after", "new\n\nafter"},
		{"table cells", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
		{"unclosed tags", "<p><b>bold<i>both", "boldboth"},
		{"list", "<ul><li>one</li><li>two</li></ul>", "- one\n- two"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := "From: a@example.test\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + tc.html
			r, err := email.ParseReply(strings.NewReader(msg), 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != tc.want {
				t.Errorf("Text = %q, want %q", r.Text, tc.want)
			}
		})
	}
}

// nested returns n levels of multipart/mixed, the first opened by the caller.
func nested(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i-1, i)
	}
	return b.String()
}
