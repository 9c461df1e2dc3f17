package email

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlToText renders an HTML body as plain text: text runs with collapsed
// white space, line breaks for <br> and block elements, a blank line around
// paragraphs, "- " before list items, "> " before each line inside a
// blockquote (so that quote stripping sees it as quoted), and a link's address
// after its text when the two differ. Script, style and head contents are
// dropped. Entities are unescaped and non-breaking spaces become spaces.
func htmlToText(s string) string {
	c := htmlConverter{}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return c.String()
		case html.TextToken:
			if c.skip == 0 {
				c.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			var href string
			if a == atom.A && hasAttr {
				for {
					k, v, more := z.TagAttr()
					if string(k) == "href" {
						href = string(v)
					}
					if !more {
						break
					}
				}
			}
			c.start(a, href, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			c.end(atom.Lookup(name))
		}
	}
}

type htmlConverter struct {
	b         strings.Builder
	skip      int  // depth inside script, style, head…
	pre       int  // depth inside pre
	quote     int  // depth inside blockquote
	lineStart bool // nothing but a prefix written on the current line
	pendingSp bool // a space is due before the next word
	blanks    int  // line breaks ending b so far (0, 1 or 2)
	links     []link
}

type link struct {
	href  string
	start int // b.Len() when the link opened
}

func (c *htmlConverter) String() string {
	return strings.TrimSpace(c.b.String())
}

func skipped(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Head, atom.Title, atom.Template, atom.Noscript:
		return true
	}
	return false
}

func block(a atom.Atom) bool {
	switch a {
	case atom.Div, atom.Tr, atom.Table, atom.Ul, atom.Ol, atom.Dl, atom.Dt, atom.Dd, atom.Li,
		atom.Section, atom.Article, atom.Header, atom.Footer, atom.Nav, atom.Aside, atom.Address,
		atom.Center, atom.Form, atom.Fieldset, atom.Figure, atom.Figcaption, atom.Main, atom.Details, atom.Summary:
		return true
	}
	return false
}

func paragraph(a atom.Atom) bool {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Pre, atom.Blockquote, atom.Hr:
		return true
	}
	return false
}

func (c *htmlConverter) start(a atom.Atom, href string, selfClosing bool) {
	if skipped(a) {
		if !selfClosing {
			c.skip++
		}
		return
	}
	if c.skip > 0 {
		return
	}
	switch {
	case a == atom.Br:
		c.newline()
	case a == atom.Blockquote:
		c.paragraphBreak()
		if !selfClosing {
			c.quote++
		}
	case a == atom.Pre:
		c.paragraphBreak()
		if !selfClosing {
			c.pre++
		}
	case paragraph(a):
		c.paragraphBreak()
	case a == atom.Li:
		c.lineBreak()
		c.word("- ")
		c.pendingSp = false
	case block(a):
		c.lineBreak()
	case a == atom.Td || a == atom.Th:
		c.pendingSp = true
	case a == atom.A && !selfClosing:
		c.links = append(c.links, link{href: strings.TrimSpace(href), start: c.b.Len()})
	}
}

func (c *htmlConverter) end(a atom.Atom) {
	if skipped(a) {
		if c.skip > 0 {
			c.skip--
		}
		return
	}
	if c.skip > 0 {
		return
	}
	switch {
	case a == atom.Blockquote:
		if c.quote > 0 {
			c.quote--
		}
		c.paragraphBreak()
	case a == atom.Pre:
		if c.pre > 0 {
			c.pre--
		}
		c.paragraphBreak()
	case paragraph(a):
		c.paragraphBreak()
	case block(a):
		c.lineBreak()
	case a == atom.A:
		if len(c.links) == 0 {
			return
		}
		l := c.links[len(c.links)-1]
		c.links = c.links[:len(c.links)-1]
		shown := ""
		if l.start <= c.b.Len() {
			shown = strings.TrimSpace(c.b.String()[l.start:])
		}
		if worthShowing(l.href) && shown != l.href && shown != strings.TrimPrefix(l.href, "mailto:") {
			if shown != "" {
				c.pendingSp = true
			}
			c.word("<" + l.href + ">")
		}
	}
}

// worthShowing reports whether a link's address means something outside the
// HTML: web and mail addresses, not anchors or scripts.
func worthShowing(href string) bool {
	h := strings.ToLower(href)
	return (strings.HasPrefix(h, "http://") || strings.HasPrefix(h, "https://") || strings.HasPrefix(h, "mailto:")) &&
		!strings.ContainsFunc(href, unicode.IsSpace)
}

// text writes a text run.
func (c *htmlConverter) text(s string) {
	s = strings.ReplaceAll(s, "\u00a0", " ")
	if c.pre > 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		for i, line := range strings.Split(s, "\n") {
			if i > 0 {
				c.newline()
			}
			if line != "" {
				c.raw(line)
			}
		}
		return
	}
	for i, f := range strings.Fields(s) {
		if i == 0 && startsWithSpace(s) || i > 0 {
			c.pendingSp = true
		}
		c.word(f)
	}
	if endsWithSpace(s) {
		c.pendingSp = true
	}
}

func startsWithSpace(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

func endsWithSpace(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsSpace(r)
}

// word writes w, preceded by the line's quote prefix or by a pending space.
func (c *htmlConverter) word(w string) {
	if c.atLineStart() {
		c.pendingSp = false
	} else if c.pendingSp {
		c.b.WriteByte(' ')
		c.pendingSp = false
	}
	c.raw(w)
}

// raw writes s verbatim after the line's quote prefix.
func (c *htmlConverter) raw(s string) {
	if c.atLineStart() && c.quote > 0 {
		c.b.WriteString("> ")
	}
	c.b.WriteString(s)
	c.lineStart = false
	c.blanks = 0
}

func (c *htmlConverter) atLineStart() bool { return c.b.Len() == 0 || c.lineStart }

// newline ends the current line unconditionally (<br>).
func (c *htmlConverter) newline() {
	if c.quote > 0 && c.atLineStart() {
		c.b.WriteString(">") // keep an empty quoted line quoted
	}
	c.b.WriteByte('\n')
	c.lineStart = true
	c.pendingSp = false
	if c.blanks < 2 {
		c.blanks++
	}
}

// lineBreak ends the current line unless it is empty.
func (c *htmlConverter) lineBreak() {
	if !c.atLineStart() {
		c.newline()
	}
	c.pendingSp = false
}

// paragraphBreak leaves one blank line, unless at the very start.
func (c *htmlConverter) paragraphBreak() {
	c.lineBreak()
	if c.b.Len() > 0 && c.blanks < 2 {
		c.b.WriteByte('\n')
		c.blanks = 2
	}
}
