package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// maxBody bounds a request from Slack; its payloads are a few KiB.
const maxBody = 1 << 20

// maxSkew is how far a request's timestamp may be from the clock.
const maxSkew = 5 * time.Minute

// Handler returns the HTTP handler of the Events API (ModeHTTP), to be
// served at the app's Request URLs:
//
//	POST /slack/events       Event Subscriptions (JSON): url_verification, message events
//	POST /slack/commands     the /gethelp slash command (a form)
//	POST /slack/interactive  Interactivity: button presses (a form, payload=JSON)
//
// Every request must carry Slack's signature: X-Slack-Signature is
// "v0=" and the hex HMAC-SHA256, keyed with the signing secret, of
// "v0:" + X-Slack-Request-Timestamp + ":" + the body, and the timestamp
// must be within 5 minutes of the clock; otherwise the answer is 401 and
// nothing is handled. A url_verification is answered with its challenge.
// Anything else is answered 200 at once (the ack) and queued for Run;
// payloads that cannot be parsed are logged and dropped (200 as well, so
// that Slack does not send them again). While no Run receives, or when the
// queue is full, the answer is 503 and Slack retries events. Other methods
// get 405, bodies over 1 MiB 413, other paths 404.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/slack/events", a.serveEvents)
	mux.HandleFunc("/slack/commands", a.serveCommands)
	mux.HandleFunc("/slack/interactive", a.serveInteractive)
	return mux
}

// readSigned reads the body and checks the signature; on failure it has
// answered and returns nil.
func (a *Adapter) readSigned(w http.ResponseWriter, r *http.Request) []byte {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "bad request", http.StatusBadRequest)
		}
		return nil
	}
	if err := a.verify(r.Header, body); err != nil {
		a.logger.Warn("refusing a request without a valid Slack signature", "path", r.URL.Path, "err", err)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil
	}
	return body
}

var (
	errNoSignature = errors.New("no signature or timestamp")
	errStale       = errors.New("a timestamp more than 5 minutes from now")
	errSignature   = errors.New("a signature that does not match")
)

// verify checks X-Slack-Signature and X-Slack-Request-Timestamp.
func (a *Adapter) verify(h http.Header, body []byte) error {
	ts, sig := h.Get("X-Slack-Request-Timestamp"), h.Get("X-Slack-Signature")
	if ts == "" || sig == "" {
		return errNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errNoSignature
	}
	if d := a.now().Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return errStale
	}
	mac := hmac.New(sha256.New, []byte(a.opts.SigningSecret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	want := "v0=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return errSignature
	}
	return nil
}

// accept queues j for Run and answers: 200, or 503 while no Run receives
// or the queue is full.
func (a *Adapter) accept(w http.ResponseWriter, j job) {
	if !a.running.Load() {
		http.Error(w, "not receiving yet", http.StatusServiceUnavailable)
		return
	}
	if !a.enqueue(j) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// drop logs a payload that cannot be parsed and answers 200.
func (a *Adapter) drop(w http.ResponseWriter, what string, err error) {
	a.logger.Warn("dropping a payload that cannot be parsed", "what", what, "err", err)
	w.WriteHeader(http.StatusOK)
}

func (a *Adapter) serveEvents(w http.ResponseWriter, r *http.Request) {
	body := a.readSigned(w, r)
	if body == nil {
		return
	}
	c, m, err := parseCallback(body)
	if err != nil {
		a.drop(w, "event", err)
		return
	}
	switch c.Type {
	case "url_verification":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"challenge": c.Challenge})
		return
	case "app_rate_limited":
		a.logger.Warn("Slack is dropping events: the app exceeded 30,000 events an hour")
		w.WriteHeader(http.StatusOK)
		return
	}
	if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
		a.logger.Debug("Slack retried an event", "attempt", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
	if m == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	a.accept(w, job{post: m, team: c.TeamID, id: c.EventID})
}

func (a *Adapter) serveCommands(w http.ResponseWriter, r *http.Request) {
	body := a.readSigned(w, r)
	if body == nil {
		return
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		a.drop(w, "command", err)
		return
	}
	c, err := parseCommandForm(v)
	if err != nil {
		a.drop(w, "command", err)
		return
	}
	a.accept(w, job{command: &c})
}

func (a *Adapter) serveInteractive(w http.ResponseWriter, r *http.Request) {
	body := a.readSigned(w, r)
	if body == nil {
		return
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		a.drop(w, "interaction", err)
		return
	}
	i, err := parseInteraction([]byte(v.Get("payload")))
	if err != nil {
		a.drop(w, "interaction", err)
		return
	}
	if i.Type != "block_actions" {
		w.WriteHeader(http.StatusOK)
		return
	}
	a.accept(w, job{press: &i})
}
