package discordfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// session is a gateway session: what IDENTIFY started and RESUME
// continues, with the events sent in it, for replays.
type session struct {
	id      string
	intents int
	seq     int64
	log     []frame // the last dispatches, for RESUME
	conn    *conn   // the connection carrying it; nil while none
}

type frame struct {
	seq  int64
	data []byte
}

// conn is a gateway connection.
type conn struct {
	s       *Server
	ws      *websocket.Conn
	out     chan []byte   // frames for the writer
	done    chan struct{} // closed when the connection ends
	session *session      // guarded by s.mu
}

const maxLog = 4096

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		s.failf("gateway: %v", err)
		return
	}
	c := &conn{s: s, ws: ws, out: make(chan []byte, 4096), done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	go c.write()
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		if c.session != nil && c.session.conn == c {
			c.session.conn = nil
		}
		s.changedLocked()
		s.mu.Unlock()
		close(c.done)
		ws.Close()
	}()
	c.serve(r)
}

// write writes the frames queued for the connection.
func (c *conn) write() {
	defer c.s.wg.Done()
	for {
		select {
		case f := <-c.out:
			c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				c.ws.Close()
				return
			}
		case <-c.done:
			return
		}
	}
}

// send queues a frame; a client that reads nothing fails the test.
func (c *conn) send(f []byte) {
	select {
	case c.out <- f:
	case <-c.done:
	default:
		c.s.failf("gateway: the client reads nothing: 4096 frames wait")
		c.ws.Close()
	}
}

func (c *conn) sendJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	c.send(b)
}

// closeWith closes the connection with a gateway close code.
func (c *conn) closeWith(code int, text string) {
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	c.ws.Close()
}

// Gateway opcodes.
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opPresence       = 3
	opVoiceState     = 4
	opResume         = 6
	opRequestMembers = 8
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatAck   = 11
)

func (c *conn) serve(r *http.Request) {
	s := c.s
	q := r.URL.Query()
	if v := q.Get("v"); v != "9" && v != "10" {
		s.failf("gateway: version %q; want 9 or 10", v)
		c.closeWith(4012, "Invalid API version")
		return
	}
	if e := q.Get("encoding"); e != "json" {
		s.failf("gateway: encoding %q; the fake speaks json", e)
		c.closeWith(4002, "Decode error")
		return
	}
	interval := s.opts.HeartbeatInterval
	c.sendJSON(map[string]any{"op": opHello, "d": map[string]any{"heartbeat_interval": interval.Milliseconds()}, "s": nil, "t": nil})
	for {
		c.ws.SetReadDeadline(time.Now().Add(3*interval + 2*time.Second))
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			var ne net.Error
			if !closed && errors.As(err, &ne) && ne.Timeout() {
				s.failf("gateway: no heartbeat for %v (interval %v)", 3*interval+2*time.Second, interval)
				c.closeWith(4009, "Session timed out")
			}
			return
		}
		if mt != websocket.TextMessage {
			s.failf("gateway: a binary frame; the fake speaks json")
			c.closeWith(4002, "Decode error")
			return
		}
		var f struct {
			Op *int            `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if err := json.Unmarshal(data, &f); err != nil || f.Op == nil {
			s.failf("gateway: a frame that is not a gateway payload: %q", data)
			c.closeWith(4002, "Decode error")
			return
		}
		s.mu.Lock()
		identified := c.session != nil
		s.mu.Unlock()
		switch op := *f.Op; {
		case op == opHeartbeat:
			if !c.heartbeat(f.D) {
				return
			}
		case op == opIdentify:
			if !c.identify(f.D) {
				return
			}
		case op == opResume:
			if !c.resume(f.D) {
				return
			}
		case !identified:
			s.failf("gateway: op %d before IDENTIFY", op)
			c.closeWith(4003, "Not authenticated")
			return
		case op == opPresence || op == opVoiceState || op == opRequestMembers:
		default:
			s.failf("gateway: unknown op %d", op)
			c.closeWith(4001, "Unknown opcode")
			return
		}
	}
}

func (c *conn) heartbeat(d json.RawMessage) bool {
	s := c.s
	var seq *int64
	if err := json.Unmarshal(d, &seq); err != nil {
		s.failf("gateway: heartbeat %s is not a sequence number", d)
		c.closeWith(4002, "Decode error")
		return false
	}
	s.mu.Lock()
	s.heartbeats++
	var last int64
	if c.session != nil {
		last = c.session.seq
	}
	s.mu.Unlock()
	if seq != nil && *seq > last {
		s.failf("gateway: heartbeat with sequence %d, beyond the last sent, %d", *seq, last)
	}
	c.sendJSON(map[string]any{"op": opHeartbeatAck, "d": nil})
	return true
}

func (c *conn) identify(d json.RawMessage) bool {
	s := c.s
	var id struct {
		Token string `json:"token"`
		// Discord takes os, browser, device, and the older $os, $browser...
		Properties     map[string]json.RawMessage `json:"properties"`
		Compress       bool                       `json:"compress"`
		LargeThreshold int                        `json:"large_threshold"`
		Shard          *[2]int                    `json:"shard"`
		Presence       json.RawMessage            `json:"presence"`
		Intents        *int                       `json:"intents"`
	}
	dec := json.NewDecoder(bytes.NewReader(d))
	dec.DisallowUnknownFields()
	err := dec.Decode(&id)
	if err == nil && id.Properties["os"] == nil && id.Properties["$os"] == nil {
		err = errors.New("no properties.os")
	}
	if err != nil || id.Intents == nil {
		s.failf("gateway: IDENTIFY %s: %v (it needs token, properties and intents)", d, err)
		c.closeWith(4002, "Decode error")
		return false
	}
	s.mu.Lock()
	s.identifies = append(s.identifies, Identify{Token: id.Token, Intents: *id.Intents})
	already := c.session != nil
	s.changedLocked()
	s.mu.Unlock()
	switch {
	case already:
		s.failf("gateway: IDENTIFY twice on one connection")
		c.closeWith(4005, "Already authenticated")
		return false
	case strings.TrimPrefix(id.Token, "Bot ") != s.opts.Token:
		c.closeWith(4004, "Authentication failed.")
		return false
	case *id.Intents < 0 || *id.Intents&^allIntents != 0:
		s.failf("gateway: intents %d", *id.Intents)
		c.closeWith(4013, "Invalid intent(s).")
		return false
	case *id.Intents&s.opts.DisabledIntents != 0:
		c.closeWith(4014, "Disallowed intent(s).")
		return false
	case id.Shard != nil && (id.Shard[0] != 0 || id.Shard[1] != 1):
		s.failf("gateway: shard %v of a bot that needs one", *id.Shard)
		c.closeWith(4010, "Invalid shard.")
		return false
	case id.LargeThreshold != 0 && (id.LargeThreshold < 50 || id.LargeThreshold > 250):
		s.failf("gateway: large_threshold %d", id.LargeThreshold)
		c.closeWith(4002, "Decode error")
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := &session{id: randomToken()[16:48], intents: *id.Intents, conn: c}
	s.sessions[sess.id] = sess
	s.current = sess
	c.session = sess
	var guilds []any
	for _, g := range s.guilds {
		guilds = append(guilds, map[string]any{"id": g.id, "unavailable": true})
	}
	if guilds == nil {
		guilds = []any{}
	}
	s.dispatchLocked("READY", 0, map[string]any{
		"v": 10, "user": userJSON(s.users[s.opts.BotID]), "guilds": guilds, "session_id": sess.id,
		"resume_gateway_url": s.GatewayURL(), "shard": []int{0, 1}, "private_channels": []any{},
		"application": map[string]any{"id": s.opts.ApplicationID, "flags": 1 << 19},
	})
	for _, g := range s.guilds {
		s.dispatchLocked("GUILD_CREATE", IntentGuilds, s.guildJSONLocked(g))
	}
	s.changedLocked()
	return true
}

func (c *conn) resume(d json.RawMessage) bool {
	s := c.s
	var rs struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	dec := json.NewDecoder(bytes.NewReader(d))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		s.failf("gateway: RESUME %s: %v", d, err)
		c.closeWith(4002, "Decode error")
		return false
	}
	if strings.TrimPrefix(rs.Token, "Bot ") != s.opts.Token {
		c.closeWith(4004, "Authentication failed.")
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[rs.SessionID]
	if sess == nil || rs.Seq > sess.seq {
		c.sendJSON(map[string]any{"op": opInvalidSession, "d": false})
		return true
	}
	if old := sess.conn; old != nil && old != c {
		old.ws.Close()
	}
	sess.conn = c
	c.session = sess
	s.current = sess
	for _, f := range sess.log {
		if f.seq > rs.Seq {
			c.send(f.data)
		}
	}
	s.dispatchLocked("RESUMED", 0, map[string]any{})
	s.changedLocked()
	return true
}

func (s *Server) guildJSONLocked(g *guild) map[string]any {
	var channels, threads []any
	for _, ch := range s.channels {
		if ch.guild != g.id {
			continue
		}
		if ch.parent != "" {
			threads = append(threads, s.channelJSONLocked(ch))
		} else {
			channels = append(channels, s.channelJSONLocked(ch))
		}
	}
	if channels == nil {
		channels = []any{}
	}
	if threads == nil {
		threads = []any{}
	}
	return map[string]any{
		"id": g.id, "name": g.name, "unavailable": false, "joined_at": epoch, "large": false,
		"member_count": len(g.members), "owner_id": s.opts.BotID, "channels": channels, "threads": threads,
		"members": []any{}, "voice_states": []any{}, "presences": []any{}, "roles": []any{}, "emojis": []any{},
		"stickers": []any{}, "features": []any{}, "stage_instances": []any{}, "guild_scheduled_events": []any{},
	}
}

// dispatchLocked sends a dispatch in the current session, if its intents
// cover intent (0: every session gets it), and keeps it for RESUME.
func (s *Server) dispatchLocked(t string, intent int, d any) {
	sess := s.current
	if sess == nil || (intent != 0 && sess.intents&intent == 0) {
		return
	}
	sess.seq++
	b, err := json.Marshal(map[string]any{"op": opDispatch, "s": sess.seq, "t": t, "d": d})
	if err != nil {
		panic(err)
	}
	sess.log = append(sess.log, frame{seq: sess.seq, data: b})
	if len(sess.log) > maxLog {
		sess.log = sess.log[len(sess.log)-maxLog:]
	}
	if sess.conn != nil {
		sess.conn.send(b)
	}
}

// WaitReady waits until a client has identified (or resumed) and is
// connected; after WaitTimeout it fails the test and returns false.
func (s *Server) WaitReady() bool {
	s.tb.Helper()
	if !s.waitFor(func() bool { return s.current != nil && s.current.conn != nil }) {
		s.tb.Errorf("discordfake: no client on the gateway within %v", s.opts.WaitTimeout)
		return false
	}
	return true
}

// Dispatch sends an event to the connected client (waiting for one), as
// Discord would, whatever the intents.
func (s *Server) Dispatch(t string, d any) {
	s.tb.Helper()
	if !s.WaitReady() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dispatchLocked(t, 0, d)
}

// SendRaw sends a frame as it is to the connected client: for junk.
func (s *Server) SendRaw(data []byte) {
	s.tb.Helper()
	if !s.WaitReady() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.current.conn; c != nil {
		c.send(append([]byte(nil), data...))
	}
}

// DropConnection breaks the client's gateway connection without a close
// frame, as a network failure would; the session can be resumed.
func (s *Server) DropConnection() {
	s.mu.Lock()
	var c *conn
	if s.current != nil {
		c = s.current.conn
	}
	s.mu.Unlock()
	if c != nil {
		c.ws.UnderlyingConn().Close()
	}
}

// Connected reports whether a client is identified and connected.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current != nil && s.current.conn != nil
}
