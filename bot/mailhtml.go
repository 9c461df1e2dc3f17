package bot

import (
	"bytes"
	"html/template"

	"github.com/gethelp/gethelp/bot/store"
)

var invitationTemplate = template.Must(template.New("invitation").Parse(`<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5; color: #1a1a1a">
<p><strong>{{.Requester}}</strong> asked you for help{{if .Description}}: {{.Description}}{{end}}.</p>
<p>Open the attached invitation with gethelp:<br>
<code style="background:#f2f2f2; padding: 2px 6px">gethelp viewer open {{.File}}</code></p>
<p>Its password comes separately, {{.PasswordVia}}. The invitation expires at {{.Expires}}.</p>
<p style="color:#555">Reply to this e-mail to write in the conversation.</p>
</body></html>`))

// invitationHTML is the HTML body of the invitation e-mail; everything
// people wrote is escaped.
func invitationHTML(t store.Ticket, file, passwordVia, expires string) string {
	var b bytes.Buffer
	_ = invitationTemplate.Execute(&b, map[string]string{
		"Requester": t.Requester.DisplayName, "Description": t.Description,
		"File": file, "PasswordVia": passwordVia, "Expires": expires,
	})
	return b.String()
}
