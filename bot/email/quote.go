package email

import (
	"regexp"
	"strings"
)

// Attribution lines, matched on a line (or up to three lines joined by
// spaces) with non-breaking spaces made plain and surrounding space trimmed.
var attributions = []*regexp.Regexp{
	regexp.MustCompile(`^On\s.*\swrote:$`),        // English
	regexp.MustCompile(`^Le\s.*\sa\s+écrit\s?:$`), // French
	regexp.MustCompile(`^Am\s.*\sschrieb\s.*:$`),  // German
	regexp.MustCompile(`^Am\s.*\sgeschrieben:$`),  // German, long form
	regexp.MustCompile(`^El\s.*\sescribió:$`),     // Spanish
	regexp.MustCompile(`^Il\s.*\sha\s+scritto:$`), // Italian
	regexp.MustCompile(`^Em\s.*\sescreveu:$`),     // Portuguese
	regexp.MustCompile(`^Op\s.*\sschreef\s.*:$`),  // Dutch
	regexp.MustCompile(`^Op\s.*\sgeschreven:$`),   // Dutch, long form
}

// attributionStarts are the first words an attribution can start with; they
// keep the regexps off most lines.
var attributionStarts = []string{"On ", "Le ", "Am ", "El ", "Il ", "Em ", "Op "}

// originalMessage matches "-----Original Message-----" and its relatives.
var originalMessage = regexp.MustCompile(`(?i)^-{2,}\s*(original message|forwarded message|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|mensagem original|oorspronkelijk bericht)\s*-{2,}$`)

// headerBlockField matches the lines that follow "From:" in a quoted header
// block, in English and a few other languages, optionally in bold (*Sent:*).
var headerBlockField = regexp.MustCompile(`(?i)^\*?(sent|date|to|subject|cc|envoyé|à|objet|gesendet|an|betreff|datum|enviado|para|asunto|fecha|inviato|data|oggetto|verzonden|aan|onderwerp)\s?:\*?\s`)

var headerBlockFrom = regexp.MustCompile(`(?i)^\*?(from|de|von|da|van)\s?:\*?\s`)

var mobileSignature = regexp.MustCompile(`^(Sent from my |Sent from Mail for |Get Outlook for |Envoyé de mon |Von meinem .* gesendet)`)

// stripQuotes returns the new text of a reply body: quoted history,
// attribution lines and signature removed, blank runs collapsed, trimmed.
// See the package documentation for the rules.
func stripQuotes(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	norm := make([]string, len(lines))
	for i, l := range lines {
		norm[i] = strings.TrimSpace(strings.ReplaceAll(l, "\u00a0", " "))
	}

	end := len(lines)
	drop := make([]bool, len(lines))
	for i := 0; i < end; i++ {
		l := lines[i]
		n := norm[i]
		if strings.HasPrefix(l, ">") {
			drop[i] = true
			continue
		}
		if n == "--" || originalMessage.MatchString(n) || isSeparator(n) {
			end = i
			break
		}
		if headerBlockFrom.MatchString(n) && i > 0 && norm[i-1] == "" && headerBlockFollows(norm, i+1) {
			end = i
			break
		}
		if k := attributionLen(norm, i); k > 0 {
			next := i + k
			for next < len(lines) && norm[next] == "" {
				next++
			}
			if next < len(lines) && strings.HasPrefix(lines[next], ">") {
				// Quoted text follows: drop the attribution with it and keep
				// whatever answer comes after the quote.
				for j := i; j < i+k; j++ {
					drop[j] = true
				}
				i += k - 1
				continue
			}
			end = i
			break
		}
	}

	var kept []string
	for i := 0; i < end; i++ {
		if drop[i] {
			kept = append(kept, "") // a removed quote separates what surrounds it
		} else {
			kept = append(kept, strings.TrimRight(lines[i], " \t\u00a0"))
		}
	}
	// A trailing mobile signature.
	last := len(kept) - 1
	for last >= 0 && strings.TrimSpace(kept[last]) == "" {
		last--
	}
	if last >= 0 && mobileSignature.MatchString(strings.TrimSpace(kept[last])) {
		kept = kept[:last]
	}
	return strings.TrimSpace(collapseBlanks(kept))
}

// isSeparator reports whether a line is an Outlook separator: underscores
// only, at least 20 of them.
func isSeparator(n string) bool {
	return len(n) >= 20 && strings.Trim(n, "_") == ""
}

// headerBlockFollows reports whether one of the four lines from i is a header
// field of a quoted header block.
func headerBlockFollows(norm []string, i int) bool {
	for j := i; j < i+4 && j < len(norm); j++ {
		if headerBlockField.MatchString(norm[j]) {
			return true
		}
	}
	return false
}

// attributionLen returns how many lines (1 to 3) from i form an attribution
// line, or 0.
func attributionLen(norm []string, i int) int {
	if !hasAttributionStart(norm[i]) {
		return 0
	}
	joined := ""
	for k := 0; k < 3 && i+k < len(norm); k++ {
		n := norm[i+k]
		if n == "" || (k > 0 && strings.HasPrefix(n, ">")) {
			break
		}
		if len(joined) > 1000 {
			break
		}
		if joined != "" {
			joined += " "
		}
		joined += n
		if !strings.ContainsAny(joined, "0123456789") {
			continue
		}
		for _, re := range attributions {
			if re.MatchString(joined) {
				return k + 1
			}
		}
	}
	return 0
}

func hasAttributionStart(n string) bool {
	for _, s := range attributionStarts {
		if strings.HasPrefix(n, s) {
			return true
		}
	}
	return false
}

// collapseBlanks joins lines, keeping at most one blank line in a row, and
// trims the result.
func collapseBlanks(lines []string) string {
	var b strings.Builder
	blank := false
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			blank = true
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
			if blank {
				b.WriteByte('\n')
			}
		}
		blank = false
		b.WriteString(l)
	}
	return b.String()
}

// unflow undoes RFC 3676 format=flowed: a line ending in a space continues on
// the next line of the same quote depth; space-stuffing is removed; with
// delsp the trailing space itself is deleted.
func unflow(text string, delsp bool) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	var out []string
	var cur strings.Builder
	curDepth, open := 0, false
	flush := func() {
		if open {
			out = append(out, cur.String())
			cur.Reset()
			open = false
		}
	}
	for _, l := range lines {
		depth := 0
		for depth < len(l) && l[depth] == '>' {
			depth++
		}
		body := l[depth:]
		body = strings.TrimPrefix(body, " ") // space-stuffing
		if open && depth != curDepth {
			flush()
		}
		if !open {
			cur.WriteString(strings.Repeat(">", depth))
			if depth > 0 {
				cur.WriteByte(' ')
			}
			curDepth, open = depth, true
		}
		flowed := strings.HasSuffix(body, " ") && body != "-- "
		if flowed && delsp {
			body = body[:len(body)-1]
		}
		cur.WriteString(body)
		if !flowed {
			flush()
		}
	}
	flush()
	return strings.Join(out, "\n")
}
