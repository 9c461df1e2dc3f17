package slackfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// apiError is an error answer: {"ok":false,"error":code, …extra}.
type apiError struct {
	code  string
	extra map[string]any
	why   string // for the failure message
}

func errorf(code, format string, args ...any) *apiError {
	return &apiError{code: code, why: fmt.Sprintf(format, args...)}
}

// params are a request's parameters.
type params map[string]string

// method is a Web API method of the fake.
type method struct {
	token string // "bot", "app" or "any"
	scope string // needed by every call; "" if none or depending on the call
	run   func(s *Server, p params) (map[string]any, *apiError)
}

var methods = map[string]method{
	"auth.test":                    {token: "any", run: (*Server).authTest},
	"users.info":                   {token: "bot", scope: "users:read", run: (*Server).usersInfo},
	"users.list":                   {token: "bot", scope: "users:read", run: (*Server).usersList},
	"users.lookupByEmail":          {token: "bot", scope: "users:read.email", run: (*Server).usersLookupByEmail},
	"conversations.open":           {token: "bot", scope: "im:write", run: (*Server).conversationsOpen},
	"conversations.history":        {token: "bot", run: (*Server).conversationsHistory},
	"conversations.replies":        {token: "bot", run: (*Server).conversationsReplies},
	"chat.postMessage":             {token: "bot", scope: "chat:write", run: (*Server).chatPostMessage},
	"chat.postEphemeral":           {token: "bot", scope: "chat:write", run: (*Server).chatPostEphemeral},
	"files.getUploadURLExternal":   {token: "bot", scope: "files:write", run: (*Server).filesGetUploadURLExternal},
	"files.completeUploadExternal": {token: "bot", scope: "files:write", run: (*Server).filesCompleteUploadExternal},
	"apps.connections.open":        {token: "app", scope: "connections:write", run: (*Server).appsConnectionsOpen},
}

// readParams reads a request's parameters as slack-go sends them: a query,
// a form body, or a JSON object.
func readParams(r *http.Request) (params, error) {
	p := params{}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json":
		if len(strings.TrimSpace(string(body))) == 0 || string(body) == "null\n" {
			break
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("a JSON body that is not an object: %v", err)
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				p[k] = v
			default:
				b, _ := json.Marshal(v)
				p[k] = string(b)
			}
		}
	case len(body) > 0:
		if ct != "application/x-www-form-urlencoded" {
			return nil, fmt.Errorf("a body of type %q", ct)
		}
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		for k, vs := range v {
			p[k] = vs[0]
		}
	}
	return p, nil
}

func tokenKind(tok string) string {
	switch tok {
	case "":
		return "none"
	case BotToken:
		return "bot"
	case AppToken:
		return "app"
	}
	return "unknown"
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("method")
	p, perr := readParams(r)
	tok := bearer(r)
	if p != nil {
		if t := p["token"]; t != "" {
			tok = t
		}
		delete(p, "token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	call := Call{Method: name, Params: maps.Clone(p), Token: tokenKind(tok)}
	if l := s.limits[name]; l != nil && l.n > 0 {
		l.n--
		call.Error = "ratelimited"
		s.calls = append(s.calls, call)
		w.Header().Set("Retry-After", strconv.Itoa(int((l.retryAfter+999_999_999)/1_000_000_000)))
		http.Error(w, "rate limited", http.StatusTooManyRequests)
		return
	}
	res, aerr := s.callLocked(name, p, perr, call.Token)
	if aerr != nil {
		call.Error = aerr.code
		s.calls = append(s.calls, call)
		if !s.expectedLocked(aerr.code) {
			s.failLocked("%s answered %q: %s", name, aerr.code, aerr.why)
		}
		out := map[string]any{"ok": false, "error": aerr.code}
		maps.Copy(out, aerr.extra)
		writeJSON(w, out)
		return
	}
	s.calls = append(s.calls, call)
	res["ok"] = true
	writeJSON(w, res)
}

func (s *Server) callLocked(name string, p params, perr error, kind string) (map[string]any, *apiError) {
	m, ok := methods[name]
	if !ok {
		return nil, errorf("unknown_method", "the fake (or Slack) has no method %s", name)
	}
	if perr != nil {
		return nil, errorf("invalid_form_data", "%v", perr)
	}
	switch {
	case kind == "none":
		return nil, errorf("not_authed", "no token")
	case kind == "unknown":
		return nil, errorf("invalid_auth", "a token the workspace does not know")
	case m.token != "any" && m.token != kind:
		return nil, errorf("not_allowed_token_type", "%s needs a %s token, got a %s token", name, m.token, kind)
	}
	if m.scope != "" {
		if err := s.needScopeLocked(m.scope); err != nil {
			return nil, err
		}
	}
	return m.run(s, p)
}

func (s *Server) scopes() []string {
	if s.Scopes != nil {
		return s.Scopes
	}
	return DefaultScopes
}

func (s *Server) hasScope(scope string) bool {
	if scope == "connections:write" {
		return true // the app token's scope
	}
	return slices.Contains(s.scopes(), scope)
}

func (s *Server) needScopeLocked(scope string) *apiError {
	if s.hasScope(scope) {
		return nil
	}
	return &apiError{
		code:  "missing_scope",
		extra: map[string]any{"needed": scope, "provided": strings.Join(s.scopes(), ",")},
		why:   "the bot token lacks " + scope,
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) authTest(p params) (map[string]any, *apiError) {
	return map[string]any{
		"url": "https://" + TeamDomain + ".slack.com/", "team": TeamDomain, "user": BotName,
		"team_id": TeamID, "user_id": BotUserID, "bot_id": BotID, "is_enterprise_install": false,
	}, nil
}

func (s *Server) userJSON(u *User) map[string]any {
	profile := map[string]any{
		"display_name": u.DisplayName, "display_name_normalized": u.DisplayName,
		"real_name": u.RealName, "real_name_normalized": u.RealName, "team": TeamID,
	}
	if u.Email != "" && s.hasScope("users:read.email") {
		profile["email"] = u.Email
	}
	if u.IsBot {
		profile["bot_id"] = BotID
	}
	return map[string]any{
		"id": u.ID, "team_id": TeamID, "name": u.Name, "deleted": false, "real_name": u.RealName,
		"is_bot": u.IsBot, "is_app_user": false, "profile": profile, "tz": "Europe/Berlin",
	}
}

func (s *Server) usersInfo(p params) (map[string]any, *apiError) {
	id := p["user"]
	if id == "" {
		return nil, errorf("user_not_found", "no user parameter")
	}
	u, ok := s.users[id]
	if !ok {
		return nil, errorf("user_not_found", "no user %q", id)
	}
	return map[string]any{"user": s.userJSON(u)}, nil
}

func (s *Server) usersLookupByEmail(p params) (map[string]any, *apiError) {
	email := p["email"]
	if email == "" {
		return nil, errorf("invalid_arguments", "no email parameter")
	}
	for _, id := range s.userOrder {
		if u := s.users[id]; u.Email != "" && strings.EqualFold(u.Email, email) {
			return map[string]any{"user": s.userJSON(u)}, nil
		}
	}
	return nil, errorf("users_not_found", "nobody has the address %q", email)
}

// page cuts n items from the cursor on; the cursor is base64 of an offset.
func page(p params, total int) (from, to int, next string, err *apiError) {
	if c := p["cursor"]; c != "" {
		b, derr := base64.StdEncoding.DecodeString(c)
		off, aerr := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
		if derr != nil || aerr != nil || off < 0 || off > total {
			return 0, 0, "", errorf("invalid_cursor", "cursor %q", c)
		}
		from = off
	}
	limit := 100
	if l := p["limit"]; l != "" && l != "0" {
		n, cerr := strconv.Atoi(l)
		if cerr != nil || n < 1 {
			return 0, 0, "", errorf("invalid_limit", "limit %q", l)
		}
		limit = min(n, 1000)
	}
	to = min(from+limit, total)
	if to < total {
		next = base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(to)))
	}
	return from, to, next, nil
}

func (s *Server) usersList(p params) (map[string]any, *apiError) {
	from, to, next, err := page(p, len(s.userOrder))
	if err != nil {
		return nil, err
	}
	var members []any
	for _, id := range s.userOrder[from:to] {
		members = append(members, s.userJSON(s.users[id]))
	}
	return map[string]any{"members": members, "response_metadata": map[string]any{"next_cursor": next}}, nil
}

func (s *Server) conversationsOpen(p params) (map[string]any, *apiError) {
	if c := p["channel"]; c != "" {
		ch, ok := s.channels[c]
		if !ok || !ch.IM {
			return nil, errorf("channel_not_found", "no direct conversation %q", c)
		}
		return map[string]any{"channel": map[string]any{"id": ch.ID}, "no_op": true, "already_open": true}, nil
	}
	users := p["users"]
	if users == "" {
		return nil, errorf("users_list_not_supplied", "neither users nor channel")
	}
	if strings.Contains(users, ",") {
		return nil, errorf("invalid_arguments", "the fake opens direct conversations with one user only, not %q", users)
	}
	u, ok := s.users[users]
	if !ok {
		return nil, errorf("user_not_found", "no user %q", users)
	}
	if u.IsBot {
		return nil, errorf("cannot_dm_bot", "%s is a bot", users)
	}
	open := s.imLocked(u.ID, false) != nil
	ch := s.imLocked(u.ID, true)
	out := map[string]any{"channel": map[string]any{"id": ch.ID}}
	if open {
		out["no_op"], out["already_open"] = true, true
	}
	if p["return_im"] == "true" {
		out["channel"] = map[string]any{"id": ch.ID, "is_im": true, "user": u.ID, "created": 0}
	}
	return out, nil
}

// readableLocked checks that the bot may read channel's history.
func (s *Server) readableLocked(channel string) (*Channel, *apiError) {
	if channel == "" {
		return nil, errorf("channel_not_found", "no channel parameter")
	}
	ch, ok := s.channels[channel]
	if !ok {
		return nil, errorf("channel_not_found", "no channel %q", channel)
	}
	if err := s.needScopeLocked(ch.historyScope()); err != nil {
		return nil, err
	}
	if !ch.member(BotUserID) {
		return nil, errorf("not_in_channel", "the bot is not in %s", channel)
	}
	return ch, nil
}

// tsRange reports whether ts is within the request's oldest and latest.
func tsRange(p params) func(ts string) bool {
	oldest, latest := p["oldest"], p["latest"]
	incl := p["inclusive"] == "1" || p["inclusive"] == "true"
	f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	return func(ts string) bool {
		if oldest != "" && (f(ts) < f(oldest) || !incl && ts == oldest) {
			return false
		}
		if latest != "" && (f(ts) > f(latest) || !incl && ts == latest) {
			return false
		}
		return true
	}
}

func (s *Server) conversationsHistory(p params) (map[string]any, *apiError) {
	ch, err := s.readableLocked(p["channel"])
	if err != nil {
		return nil, err
	}
	in := tsRange(p)
	var ms []*Message
	for i := len(s.messages) - 1; i >= 0; i-- {
		if m := s.messages[i]; m.Channel == ch.ID && !m.Ephemeral && m.ThreadTS == "" && in(m.TS) {
			ms = append(ms, m)
		}
	}
	return s.messagesPage(p, ms)
}

func (s *Server) conversationsReplies(p params) (map[string]any, *apiError) {
	ch, err := s.readableLocked(p["channel"])
	if err != nil {
		return nil, err
	}
	ts := p["ts"]
	if ts == "" {
		return nil, errorf("invalid_arguments", "no ts parameter")
	}
	root := s.messageLocked(ch.ID, ts)
	if root == nil {
		return nil, errorf("thread_not_found", "no message %s in %s", ts, ch.ID)
	}
	if root.ThreadTS != "" {
		root = s.messageLocked(ch.ID, root.ThreadTS)
	}
	in := tsRange(p)
	ms := []*Message{root}
	for _, m := range s.messages {
		if m.Channel == ch.ID && !m.Ephemeral && m.ThreadTS == root.TS && in(m.TS) {
			ms = append(ms, m)
		}
	}
	return s.messagesPage(p, ms)
}

func (s *Server) messagesPage(p params, ms []*Message) (map[string]any, *apiError) {
	from, to, next, err := page(p, len(ms))
	if err != nil {
		return nil, err
	}
	meta := p["include_all_metadata"] == "1" || p["include_all_metadata"] == "true"
	out := []any{}
	for _, m := range ms[from:to] {
		out = append(out, s.messageJSONLocked(m, meta))
	}
	return map[string]any{
		"messages": out, "has_more": next != "",
		"response_metadata": map[string]any{"next_cursor": next},
	}, nil
}

// messageJSONLocked is m as Slack shows it in history and events.
func (s *Server) messageJSONLocked(m *Message, meta bool) map[string]any {
	out := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "user": m.User, "team": TeamID}
	if m.BotID != "" {
		out["bot_id"], out["app_id"] = m.BotID, AppID
	}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
		if root := s.messageLocked(m.Channel, m.ThreadTS); root != nil {
			out["parent_user_id"] = root.User
		}
	} else {
		n, latest := 0, ""
		for _, r := range s.messages {
			if r.Channel == m.Channel && r.ThreadTS == m.TS && !r.Ephemeral {
				n, latest = n+1, r.TS
			}
		}
		if n > 0 {
			out["thread_ts"], out["reply_count"], out["latest_reply"] = m.TS, n, latest
		}
	}
	if meta && m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	if len(m.Files) > 0 {
		var fs []any
		for _, f := range m.Files {
			fs = append(fs, map[string]any{"id": f.ID, "name": f.Name, "title": f.Title, "size": len(f.Data), "mode": "hosted"})
		}
		out["files"], out["upload"] = fs, true
		if m.BotID == "" {
			out["subtype"] = "file_share"
		}
	}
	return out
}

// postableLocked checks that the bot may post in channel, and in thread
// when set.
func (s *Server) postableLocked(channel, thread string) (*Channel, *apiError) {
	if channel == "" {
		return nil, errorf("channel_not_found", "no channel parameter")
	}
	ch, ok := s.channels[channel]
	if !ok {
		return nil, errorf("channel_not_found", "no channel %q", channel)
	}
	if !ch.member(BotUserID) {
		return nil, errorf("not_in_channel", "the bot is not in %s", channel)
	}
	if thread != "" {
		root := s.messageLocked(ch.ID, thread)
		if root == nil || root.ThreadTS != "" {
			return nil, errorf("thread_not_found", "thread_ts %s names no root message in %s", thread, ch.ID)
		}
	}
	return ch, nil
}

// content checks a message's text, blocks and metadata.
func content(p params, needText bool) (blocks json.RawMessage, buttons []Button, md *Metadata, err *apiError) {
	text := p["text"]
	if utf8.RuneCountInString(text) > 40000 {
		return nil, nil, nil, errorf("msg_too_long", "a text of %d characters", utf8.RuneCountInString(text))
	}
	if b := p["blocks"]; b != "" {
		var verr error
		if buttons, verr = validateBlocks([]byte(b)); verr != nil {
			return nil, nil, nil, &apiError{
				code:  "invalid_blocks",
				extra: map[string]any{"errors": []string{verr.Error()}, "response_metadata": map[string]any{"messages": []string{"[ERROR] " + verr.Error()}}},
				why:   verr.Error(),
			}
		}
		blocks = json.RawMessage(b)
	}
	if needText && strings.TrimSpace(text) == "" && (blocks == nil || string(blocks) == "[]") && p["attachments"] == "" {
		return nil, nil, nil, errorf("no_text", "neither text nor blocks")
	}
	if m := p["metadata"]; m != "" {
		md = &Metadata{}
		if jerr := json.Unmarshal([]byte(m), md); jerr != nil || md.EventType == "" || md.EventPayload == nil {
			return nil, nil, nil, errorf("invalid_metadata_format", "metadata %s", m)
		}
	}
	return blocks, buttons, md, nil
}

func (s *Server) chatPostMessage(p params) (map[string]any, *apiError) {
	ch, err := s.postableLocked(p["channel"], p["thread_ts"])
	if err != nil {
		return nil, err
	}
	blocks, buttons, md, err := content(p, true)
	if err != nil {
		return nil, err
	}
	m := &Message{
		TS: s.newTSLocked(), Channel: ch.ID, ThreadTS: p["thread_ts"], User: BotUserID, BotID: BotID,
		Text: p["text"], Blocks: blocks, Buttons: buttons, Metadata: md, Via: "chat.postMessage",
	}
	s.addMessageLocked(m)
	s.emitLocked(m)
	return map[string]any{"channel": ch.ID, "ts": m.TS, "message": s.messageJSONLocked(m, true)}, nil
}

func (s *Server) chatPostEphemeral(p params) (map[string]any, *apiError) {
	ch, err := s.postableLocked(p["channel"], p["thread_ts"])
	if err != nil {
		return nil, err
	}
	user := p["user"]
	if user == "" {
		return nil, errorf("user_not_found", "no user parameter")
	}
	if _, ok := s.users[user]; !ok {
		return nil, errorf("user_not_found", "no user %q", user)
	}
	if !ch.member(user) {
		return nil, errorf("user_not_in_channel", "%s is not in %s", user, ch.ID)
	}
	blocks, buttons, _, err := content(p, true)
	if err != nil {
		return nil, err
	}
	m := &Message{
		TS: s.newTSLocked(), Channel: ch.ID, ThreadTS: p["thread_ts"], User: BotUserID, BotID: BotID,
		Text: p["text"], Blocks: blocks, Buttons: buttons, Ephemeral: true, VisibleTo: user, Via: "chat.postEphemeral",
	}
	s.addMessageLocked(m)
	return map[string]any{"message_ts": m.TS}, nil
}

func (s *Server) filesGetUploadURLExternal(p params) (map[string]any, *apiError) {
	name := p["filename"]
	if name == "" {
		return nil, errorf("invalid_arguments", "no filename")
	}
	n, cerr := strconv.Atoi(p["length"])
	if cerr != nil || n < 1 {
		return nil, errorf("invalid_arguments", "length %q", p["length"])
	}
	id := s.newIDLocked("F")
	s.files[id] = &pendingFile{File: File{ID: id, Name: name, Title: name}, length: n}
	s.fileOrder = append(s.fileOrder, id)
	return map[string]any{"upload_url": s.srv.URL + "/upload/v1/" + id, "file_id": id}, nil
}

// serveUpload takes a file's bytes, raw or as slack-go sends them
// (multipart, field "file").
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	data, err := uploadBody(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[id]
	switch {
	case r.Method != http.MethodPost:
		s.failLocked("upload URL %s: method %s", id, r.Method)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	case !ok:
		s.failLocked("upload to an unknown URL %s", r.URL.Path)
		http.NotFound(w, r)
	case f.uploaded:
		s.failLocked("a second upload to %s", id)
		http.Error(w, "already uploaded", http.StatusBadRequest)
	case err != nil:
		s.failLocked("upload %s: %v", id, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		f.Data, f.uploaded = data, true
		s.calls = append(s.calls, Call{Method: "upload", Params: map[string]string{"file_id": id, "length": strconv.Itoa(len(data))}, Token: tokenKind(bearer(r))})
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "OK - %d", len(data))
	}
}

func uploadBody(r *http.Request) ([]byte, error) {
	ct, ps, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return io.ReadAll(io.LimitReader(r.Body, 1<<30))
	}
	mr := multipart.NewReader(r.Body, ps["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, fmt.Errorf("a multipart body without a file field")
		}
		if err != nil {
			return nil, err
		}
		if part.FormName() == "file" {
			return io.ReadAll(part)
		}
	}
}

func (s *Server) filesCompleteUploadExternal(p params) (map[string]any, *apiError) {
	var list []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(p["files"]), &list); err != nil || len(list) == 0 {
		return nil, errorf("invalid_arguments", "files %q", p["files"])
	}
	if p["channels"] != "" && p["channel_id"] != "" {
		return nil, errorf("invalid_arguments", "both channels and channel_id")
	}
	if p["channels"] != "" {
		return nil, errorf("invalid_arguments", "the fake takes channel_id, not channels")
	}
	if p["thread_ts"] != "" && p["channel_id"] == "" {
		return nil, errorf("invalid_arguments", "thread_ts without channel_id")
	}
	for _, e := range list {
		f, ok := s.files[e.ID]
		switch {
		case !ok:
			return nil, errorf("file_not_found", "no file %q", e.ID)
		case !f.uploaded:
			return nil, errorf("file_not_found", "file %s was never uploaded to its upload_url", e.ID)
		case f.done:
			return nil, errorf("file_not_found", "file %s was completed already", e.ID)
		case len(f.Data) != f.length:
			return nil, errorf("invalid_arguments", "file %s: %d bytes uploaded, %d announced", e.ID, len(f.Data), f.length)
		}
	}
	var ch *Channel
	if c := p["channel_id"]; c != "" {
		var err *apiError
		if ch, err = s.postableLocked(c, p["thread_ts"]); err != nil {
			return nil, err
		}
	}
	blocks, buttons, _, err := content(params{"text": p["initial_comment"], "blocks": p["blocks"]}, false)
	if err != nil {
		return nil, err
	}
	var out []any
	var shared []File
	var ts string
	if ch != nil {
		ts = s.newTSLocked()
	}
	for _, e := range list {
		f := s.files[e.ID]
		f.done = true
		if e.Title != "" {
			f.Title = e.Title
		}
		if ch != nil {
			f.Channel, f.ThreadTS, f.MessageTS = ch.ID, p["thread_ts"], ts
		}
		shared = append(shared, f.File)
		out = append(out, map[string]any{"id": f.ID, "title": f.Title})
	}
	if ch != nil {
		m := &Message{
			TS: ts, Channel: ch.ID, ThreadTS: p["thread_ts"], User: BotUserID, BotID: BotID,
			Text: p["initial_comment"], Blocks: blocks, Buttons: buttons, Files: shared, Via: "files.completeUploadExternal",
		}
		s.addMessageLocked(m)
		s.emitLocked(m)
	} else {
		s.notifyLocked()
	}
	return map[string]any{"files": out}, nil
}

func (s *Server) appsConnectionsOpen(p params) (map[string]any, *apiError) {
	t := randomHex(16)
	s.tickets[t] = true
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/socket?ticket=" + t + "&app_id=" + AppID
	return map[string]any{"url": u}, nil
}
