package slackfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// wsConn is a Socket Mode connection.
type wsConn struct {
	c       *websocket.Conn
	writeMu sync.Mutex
	dead    bool // guarded by Server.mu
}

// envelope is what the fake sent over Socket Mode and waits to see
// acknowledged.
type envelope struct {
	id, typ string
	sent    time.Time
	acked   bool
	ack     json.RawMessage // the ack's payload
	lost    bool            // its connection closed before the ack
	conn    *wsConn
	timer   *time.Timer
}

// sentEvent is the last events_api payload, for RetryLastEvent.
type sentEvent struct {
	payload map[string]any
	retries int
}

func (s *Server) ackTimeout() time.Duration {
	if s.AckTimeout > 0 {
		return s.AckTimeout
	}
	return 3 * time.Second
}

func (s *Server) replyTimeout() time.Duration {
	if s.ReplyTimeout > 0 {
		return s.ReplyTimeout
	}
	return 10 * time.Second
}

func (s *Server) pingInterval() time.Duration {
	if s.PingInterval > 0 {
		return s.PingInterval
	}
	return 5 * time.Second
}

// goLocked runs f in a goroutine that Close waits for, unless closed.
func (s *Server) goLocked(f func()) bool {
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("ticket")
	s.mu.Lock()
	ok := s.tickets[t]
	delete(s.tickets, t)
	if !ok {
		s.failLocked("a Socket Mode connection without a ticket from apps.connections.open (or with a used one)")
		s.mu.Unlock()
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		return
	}
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	s.mu.Unlock()

	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.fail("Socket Mode: accepting the WebSocket: %v", err)
		return
	}
	c.SetReadLimit(1 << 20)
	wc := &wsConn{c: c}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	s.mu.Lock()
	s.conns = append(s.conns, wc)
	live := 0
	for _, x := range s.conns {
		if !x.dead {
			live++
		}
	}
	s.mu.Unlock()
	hello, _ := json.Marshal(map[string]any{
		"type": "hello", "num_connections": live,
		"debug_info":      map[string]any{"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": AppID},
	})
	if err := wc.write(ctx, hello); err != nil {
		s.fail("Socket Mode: writing hello: %v", err)
		_ = c.CloseNow()
		return
	}
	s.mu.Lock()
	s.notifyLocked() // a connection is ready once it has its hello
	s.mu.Unlock()

	var pings sync.WaitGroup
	pings.Go(func() { s.ping(ctx, wc) })
	s.read(ctx, wc)
	cancel()
	pings.Wait()
	_ = c.CloseNow()
}

// ping pings the connection every PingInterval; a connection that does
// not answer is a failure.
func (s *Server) ping(ctx context.Context, wc *wsConn) {
	t := time.NewTicker(s.pingInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := wc.c.Ping(pctx)
		cancel()
		if err != nil {
			s.mu.Lock()
			if ctx.Err() == nil && !wc.dead {
				s.failLocked("Socket Mode: the client did not answer a ping: %v", err)
			}
			s.mu.Unlock()
			return
		}
	}
}

// read reads acks until the connection ends.
func (s *Server) read(ctx context.Context, wc *wsConn) {
	defer func() {
		s.mu.Lock()
		wc.dead = true
		for _, e := range s.envelopes {
			if e.conn == wc && !e.acked {
				e.lost = true
			}
		}
		s.notifyLocked()
		s.mu.Unlock()
	}()
	for {
		_, data, err := wc.c.Read(ctx)
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID *string         `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(data, &ack); err != nil || ack.EnvelopeID == nil {
			s.fail("Socket Mode: the client sent something other than an ack: %.200s", data)
			continue
		}
		s.mu.Lock()
		e, ok := s.envelopes[*ack.EnvelopeID]
		switch {
		case !ok:
			s.failLocked("Socket Mode: an ack for an unknown envelope %q", *ack.EnvelopeID)
		case e.acked:
			s.failLocked("Socket Mode: envelope %s acknowledged twice", e.id)
		default:
			e.acked, e.ack = true, ack.Payload
			if d := time.Since(e.sent); d > s.ackTimeout() {
				s.failLocked("Socket Mode: envelope %s (%s) acknowledged after %v, over %v", e.id, e.typ, d.Round(time.Millisecond), s.ackTimeout())
			}
			if len(ack.Payload) > 0 {
				if n := len(data); n >= 20*1024 {
					s.failLocked("Socket Mode: an ack of %d bytes, which Slack drops", n)
				}
			}
			e.timer.Stop()
			s.notifyLocked()
		}
		s.mu.Unlock()
	}
}

func (wc *wsConn) write(ctx context.Context, data []byte) error {
	wc.writeMu.Lock()
	defer wc.writeMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return wc.c.Write(ctx, websocket.MessageText, data)
}

// liveConnLocked returns the newest open connection, or nil.
func (s *Server) liveConnLocked() *wsConn {
	for i := len(s.conns) - 1; i >= 0; i-- {
		if !s.conns[i].dead {
			return s.conns[i]
		}
	}
	return nil
}

// Connections returns how many Socket Mode connections were opened so
// far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// WaitConnections waits until n Socket Mode connections were opened in
// all (closed ones included) and the newest is open, and reports whether
// that happened within timeout.
func (s *Server) WaitConnections(n int, timeout time.Duration) bool {
	s.start()
	return s.waitFor(timeout, func() bool { return len(s.conns) >= n && s.liveConnLocked() != nil })
}

// Disconnect asks the client to reconnect, as Slack does before it
// refreshes a connection: {"type":"disconnect","reason":"refresh_requested"}.
func (s *Server) Disconnect() {
	s.start()
	s.mu.Lock()
	wc := s.liveConnLocked()
	s.mu.Unlock()
	if wc == nil {
		s.fail("Disconnect: no Socket Mode connection")
		return
	}
	msg, _ := json.Marshal(map[string]any{"type": "disconnect", "reason": "refresh_requested", "debug_info": map[string]any{"host": "applink-fake"}})
	if err := wc.write(s.ctx, msg); err != nil {
		s.fail("Disconnect: %v", err)
	}
}

// SendRaw writes data as a text frame on the Socket Mode connection, as
// it is: for tests of junk.
func (s *Server) SendRaw(data []byte) {
	s.start()
	if !s.waitFor(5*time.Second, func() bool { return s.liveConnLocked() != nil }) {
		s.fail("SendRaw: no Socket Mode connection")
		return
	}
	var env struct {
		EnvelopeID string `json:"envelope_id"`
		Type       string `json:"type"`
	}
	s.mu.Lock()
	wc := s.liveConnLocked()
	if json.Unmarshal(data, &env) == nil && env.EnvelopeID != "" {
		s.trackLocked(&envelope{id: env.EnvelopeID, typ: env.Type, sent: time.Now(), conn: wc})
	}
	s.mu.Unlock()
	if err := wc.write(s.ctx, data); err != nil {
		s.fail("SendRaw: %v", err)
	}
}

// sendEnvelope sends payload in an envelope of type typ on the newest
// connection; with wait, it waits up to 5s for one.
func (s *Server) sendEnvelope(typ string, payload any, acceptsResponse bool, retry int, wait bool) (*envelope, error) {
	if wait && !s.waitFor(5*time.Second, func() bool { return s.liveConnLocked() != nil }) {
		return nil, fmt.Errorf("no Socket Mode connection")
	}
	id := randomHex(4) + "-" + randomHex(2) + "-" + randomHex(2) + "-" + randomHex(2) + "-" + randomHex(6)
	env := map[string]any{
		"envelope_id": id, "payload": payload, "type": typ,
		"accepts_response_payload": acceptsResponse, "retry_attempt": retry, "retry_reason": "",
	}
	if retry > 0 {
		env["retry_reason"] = "timeout"
	}
	data, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	wc := s.liveConnLocked()
	if wc == nil || s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("no Socket Mode connection")
	}
	e := &envelope{id: id, typ: typ, sent: time.Now(), conn: wc}
	s.trackLocked(e)
	s.mu.Unlock()
	if err := wc.write(s.ctx, data); err != nil {
		s.mu.Lock()
		e.lost = true
		e.timer.Stop()
		s.mu.Unlock()
		return nil, err
	}
	return e, nil
}

// deliver sends an event, command or interaction the way the fake is set
// up to (Socket Mode or HTTP), waits for the acknowledgement, and returns
// the ack's payload (Socket Mode) or response body (HTTP). Failing that it
// records a failure and returns false.
func (s *Server) deliver(typ string, payload map[string]any, acceptsResponse bool, retry int) (json.RawMessage, bool) {
	if typ == "events_api" {
		s.mu.Lock()
		s.lastEvent = &sentEvent{payload: payload, retries: retry}
		s.mu.Unlock()
	}
	s.mu.Lock()
	viaHTTP := s.RequestURL != ""
	s.mu.Unlock()
	if viaHTTP {
		return s.deliverHTTP(typ, payload, retry)
	}
	e, err := s.sendEnvelope(typ, payload, acceptsResponse, retry, true)
	if err != nil {
		s.fail("sending a %s envelope: %v", typ, err)
		return nil, false
	}
	s.waitFor(s.ackTimeout()+500*time.Millisecond, func() bool { return e.acked || e.lost })
	s.mu.Lock()
	defer s.mu.Unlock()
	if !e.acked {
		// The timer reports it, or the connection was lost.
		return nil, false
	}
	return e.ack, true
}

// Sign returns the X-Slack-Signature of body sent at ts with secret:
// "v0=" and the hex HMAC-SHA256 of "v0:TS:BODY".
func Sign(secret string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", ts.Unix())
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// SignedRequest returns a POST of body to u signed with secret at ts, as
// Slack sends to a Request URL.
func SignedRequest(u, contentType, secret string, ts time.Time, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("X-Slack-Signature", Sign(secret, ts, body))
	return req, nil
}

func (s *Server) deliverHTTP(typ string, payload map[string]any, retry int) (json.RawMessage, bool) {
	var path, ct string
	var body []byte
	switch typ {
	case "events_api":
		path, ct = "/events", "application/json"
		body, _ = json.Marshal(payload)
	case "slash_commands":
		path, ct = "/commands", "application/x-www-form-urlencoded"
		v := url.Values{}
		for k, x := range payload {
			v.Set(k, fmt.Sprint(x))
		}
		body = []byte(v.Encode())
	case "interactive":
		path, ct = "/interactive", "application/x-www-form-urlencoded"
		js, _ := json.Marshal(payload)
		body = []byte(url.Values{"payload": {string(js)}}.Encode())
	default:
		s.fail("no HTTP delivery for %s", typ)
		return nil, false
	}
	s.mu.Lock()
	base := s.RequestURL
	s.mu.Unlock()
	req, err := SignedRequest(base+path, ct, SigningSecret, s.now(), body)
	if err != nil {
		s.fail("HTTP delivery: %v", err)
		return nil, false
	}
	if retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.ackTimeout()+2*time.Second)
	defer cancel()
	client := s.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	start := time.Now()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		s.fail("HTTP delivery of %s to %s: %v", typ, req.URL, err)
		return nil, false
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if d := time.Since(start); d > s.ackTimeout() {
		s.fail("HTTP delivery of %s answered after %v, over %v", typ, d.Round(time.Millisecond), s.ackTimeout())
	}
	if resp.StatusCode != http.StatusOK {
		s.fail("HTTP delivery of %s: status %s: %.200s", typ, resp.Status, rb)
		return nil, false
	}
	return rb, true
}

// emitLocked sends the message event for m, as Slack does for every
// message in a conversation the bot is in, when a client listens. It does
// not wait for the ack (the ack is checked all the same).
func (s *Server) emitLocked(m *Message) {
	ch := s.channels[m.Channel]
	if ch == nil || !ch.member(BotUserID) || m.Ephemeral {
		return
	}
	if s.closed || s.RequestURL == "" && s.liveConnLocked() == nil {
		return
	}
	payload := s.eventLocked(m)
	viaHTTP := s.RequestURL != ""
	s.emitting++
	s.goLocked(func() {
		defer func() {
			s.mu.Lock()
			s.emitting--
			s.notifyLocked()
			s.mu.Unlock()
		}()
		if viaHTTP {
			s.deliverHTTP("events_api", payload, 0)
			return
		}
		if _, err := s.sendEnvelope("events_api", payload, false, 0, false); err != nil && s.ctx.Err() == nil {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.liveConnLocked() != nil {
				s.failLocked("sending a message event: %v", err)
			}
		}
	})
}

// eventLocked is the Events API payload (event_callback) of a message
// event for m.
func (s *Server) eventLocked(m *Message) map[string]any {
	ch := s.channels[m.Channel]
	ev := s.messageJSONLocked(m, false)
	delete(ev, "reply_count")
	delete(ev, "latest_reply")
	ev["channel"], ev["channel_type"], ev["event_ts"] = m.Channel, ch.kind(), m.TS
	if m.Via == "user" {
		ev["client_msg_id"] = randomHex(16)
	}
	return map[string]any{
		"token": VerificationToken, "team_id": TeamID, "context_team_id": TeamID, "api_app_id": AppID,
		"event": ev, "type": "event_callback", "event_id": s.newIDLocked("Ev"), "event_time": s.now().Unix(),
		"authorizations": []any{map[string]any{
			"enterprise_id": nil, "team_id": TeamID, "user_id": BotUserID, "is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false, "event_context": "4-fake-" + randomHex(8),
	}
}

// Settle waits until every event the fake sent has been acknowledged (or
// its connection closed), and reports whether that happened within
// timeout: after it, the client has seen every message event so far.
func (s *Server) Settle(timeout time.Duration) bool {
	s.start()
	return s.waitFor(timeout, func() bool {
		if s.emitting > 0 {
			return false
		}
		for _, e := range s.envelopes {
			if !e.acked && !e.lost {
				return false
			}
		}
		return true
	})
}

// trackLocked registers e as waiting for its ack, which must come within
// AckTimeout.
func (s *Server) trackLocked(e *envelope) {
	e.timer = time.AfterFunc(s.ackTimeout(), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !e.acked && !e.lost && !s.closed {
			s.failLocked("Socket Mode: envelope %s (%s) not acknowledged within %v", e.id, e.typ, s.ackTimeout())
		}
	})
	s.envelopes[e.id] = e
}

// SetRequestURL sets RequestURL while the fake runs: from now on events,
// commands and presses go to it by HTTP ("" for Socket Mode again).
func (s *Server) SetRequestURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.RequestURL = u
}
