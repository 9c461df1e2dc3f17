package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/gethelp/gethelp/bot"
)

var (
	_ bot.Network    = (*Adapter)(nil)
	_ bot.UserLookup = (*Adapter)(nil)
)

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// The modes of receiving events.
const (
	ModeSocket = "socket" // Socket Mode: a WebSocket the bot opens; no public URL
	ModeHTTP   = "http"   // the Events API: Slack POSTs to the bot's public URL
)

// Options configure an Adapter. Tokens and the signing secret are secrets:
// the Adapter never logs them.
type Options struct {
	// APIURL is the Web API's base URL; "" means DefaultAPIURL. GovSlack,
	// a proxy or a test fake go here.
	APIURL string
	// BotToken (xoxb-…) makes every Web API call. Required.
	BotToken string
	// AppToken (xapp-…, with connections:write) opens Socket Mode
	// connections. Required in ModeSocket.
	AppToken string
	// SigningSecret verifies the Events API's requests. Required in
	// ModeHTTP.
	SigningSecret string
	// Mode is ModeSocket ("" means it) or ModeHTTP.
	Mode string
	// HTTPAddr is where Run listens for the Events API in ModeHTTP
	// (host:port). "" means Run does not listen: the caller serves
	// Handler itself.
	HTTPAddr string
	// HTTPClient makes the Web API calls, uploads and response_url
	// posts; nil means a client with a 30s timeout.
	HTTPClient *http.Client
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Now is the clock for signature timestamps, caches and history
	// look-ups; nil means time.Now.
	Now func() time.Time
}

// LogValue shows the Options without their secrets, for logs.
func (o Options) LogValue() slog.Value {
	set := func(s string) string {
		if s == "" {
			return ""
		}
		return "(set)"
	}
	return slog.GroupValue(
		slog.String("api_url", o.APIURL), slog.String("mode", o.Mode), slog.String("http_addr", o.HTTPAddr),
		slog.String("bot_token", set(o.BotToken)), slog.String("app_token", set(o.AppToken)),
		slog.String("signing_secret", set(o.SigningSecret)),
	)
}

// Adapter is the bot's adapter to one Slack workspace (one bot token): a
// bot.Network and a bot.UserLookup. Its methods may be called from
// several goroutines at once; Run only once at a time.
type Adapter struct {
	api      *slack.Client
	apiURL   *url.URL
	opts     Options
	logger   *slog.Logger
	now      func() time.Time
	queue    chan job    // what Handler and the Socket Mode loop received, for Run's worker
	running  atomic.Bool // a Run is receiving
	whoamiMu sync.Mutex  // held by the first whoami while it asks

	mu     sync.Mutex
	self   *self                     // the bot, from auth.test; guarded by mu
	ims    map[string]string         // user id → direct conversation id; guarded by mu
	people map[string]cachedIdentity // team/user → identity; guarded by mu
}

// self is who the bot is, as auth.test says.
type self struct {
	TeamID, UserID, BotID string
}

type cachedIdentity struct {
	id      bot.Identity
	expires time.Time
}

// Errors New and Run return.
var (
	// ErrConfig: the Options are incomplete or wrong.
	ErrConfig = errors.New("slack: bad configuration")
	// ErrRunning: Run was called while another Run receives.
	ErrRunning = errors.New("slack: already running")
)

// New checks opts and returns an Adapter. It makes no network call: a bad
// token shows in Run (or the first Send). It returns an error wrapping
// ErrConfig when a required token or secret is missing or of the wrong
// kind, the mode is unknown, or APIURL is not an absolute http(s) URL.
func New(opts Options) (*Adapter, error) {
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(opts.APIURL, "/") {
		opts.APIURL += "/"
	}
	u, err := url.Parse(opts.APIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: api_url %q is not an http(s) URL", ErrConfig, opts.APIURL)
	}
	if opts.Mode == "" {
		opts.Mode = ModeSocket
	}
	switch {
	case !strings.HasPrefix(opts.BotToken, "xoxb-"):
		return nil, fmt.Errorf("%w: the bot token must be a bot token (xoxb-…)", ErrConfig)
	case opts.Mode == ModeSocket && !strings.HasPrefix(opts.AppToken, "xapp-"):
		return nil, fmt.Errorf("%w: Socket Mode needs an app-level token (xapp-…)", ErrConfig)
	case opts.Mode == ModeHTTP && opts.SigningSecret == "":
		return nil, fmt.Errorf("%w: the Events API over HTTP needs the signing secret", ErrConfig)
	case opts.Mode != ModeSocket && opts.Mode != ModeHTTP:
		return nil, fmt.Errorf("%w: mode %q is neither %q nor %q", ErrConfig, opts.Mode, ModeSocket, ModeHTTP)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "slack")
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	api := slack.New(opts.BotToken,
		slack.OptionAPIURL(opts.APIURL),
		slack.OptionHTTPClient(opts.HTTPClient),
		slack.OptionAppLevelToken(opts.AppToken),
		slack.OptionLog(logOutput{logger}),
	)
	return &Adapter{
		api:    api,
		apiURL: u,
		opts:   opts,
		logger: logger,
		now:    now,
		queue:  make(chan job, queueSize),
		ims:    map[string]string{},
		people: map[string]cachedIdentity{},
	}, nil
}

// Name returns "slack", the network's name in identities.
func (a *Adapter) Name() string { return "slack" }

// logOutput passes slack-go's log lines (debug only) to slog.
type logOutput struct{ l *slog.Logger }

func (o logOutput) Output(_ int, s string) error {
	o.l.Debug(strings.TrimSpace(s))
	return nil
}

// whoami returns the bot's team, user and bot ids (auth.test), once.
func (a *Adapter) whoami(ctx context.Context) (self, error) {
	a.mu.Lock()
	s := a.self
	a.mu.Unlock()
	if s != nil {
		return *s, nil
	}
	a.whoamiMu.Lock()
	defer a.whoamiMu.Unlock()
	a.mu.Lock()
	s = a.self
	a.mu.Unlock()
	if s != nil {
		return *s, nil
	}
	var r *slack.AuthTestResponse
	err := a.call(ctx, "auth.test", func(ctx context.Context) error {
		var err error
		r, err = a.api.AuthTestContext(ctx)
		return err
	})
	if err != nil {
		return self{}, err
	}
	s = &self{TeamID: r.TeamID, UserID: r.UserID, BotID: r.BotID}
	a.mu.Lock()
	a.self = s
	a.mu.Unlock()
	return *s, nil
}

// maxWait is the longest rate-limit wait within one call; longer ones
// are returned to the caller (the core's outbox retries).
const maxWait = 5 * time.Second

// call runs one Web API call, waiting out short rate limits, and returns
// its error as an *Error.
func (a *Adapter) call(ctx context.Context, method string, f func(context.Context) error) error {
	var waited time.Duration
	for attempt := 0; ; attempt++ {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) {
			wait := max(rl.RetryAfter, 100*time.Millisecond)
			if attempt >= 3 || waited+wait > maxWait {
				return &Error{Method: method, Code: "ratelimited", RetryAfter: rl.RetryAfter, Err: err}
			}
			a.logger.Info("rate limited; waiting", "method", method, "retry_after", rl.RetryAfter)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			waited += wait
			continue
		}
		return classify(method, err)
	}
}

// Error is a Web API call that failed. It wraps bot.ErrPermanent when
// retrying cannot help (Permanent), and the error slack-go returned.
type Error struct {
	Method string // "chat.postMessage"
	// Code is Slack's error code ("channel_not_found", "missing_scope",
	// "ratelimited", …), or "" for a transport error.
	Code       string
	Needed     string        // for missing_scope: the scope the bot lacks
	RetryAfter time.Duration // for ratelimited
	Permanent  bool
	Err        error
}

func (e *Error) Error() string {
	switch {
	case e.Code == "missing_scope" && e.Needed != "":
		return fmt.Sprintf("slack: %s: missing_scope %s (add it in the app's settings and reinstall)", e.Method, e.Needed)
	case e.Code == "ratelimited":
		return fmt.Sprintf("slack: %s: rate limited for %v", e.Method, e.RetryAfter)
	case e.Code != "":
		return fmt.Sprintf("slack: %s: %s", e.Method, e.Code)
	}
	return fmt.Sprintf("slack: %s: %v", e.Method, e.Err)
}

func (e *Error) Unwrap() []error {
	errs := []error{e.Err}
	if e.Permanent {
		errs = append(errs, bot.ErrPermanent)
	}
	return errs
}

// permanentCodes are Slack's errors that a retry will not fix.
var permanentCodes = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "channel_is_archived": true,
	"user_not_found": true, "users_not_found": true, "user_not_in_channel": true, "user_disabled": true,
	"cannot_dm_bot": true, "users_list_not_supplied": true, "too_many_users": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "no_permission": true, "missing_scope": true, "not_allowed_token_type": true,
	"org_login_required": true, "ekm_access_denied": true, "team_access_not_granted": true,
	"msg_too_long": true, "no_text": true, "invalid_blocks": true, "invalid_blocks_format": true,
	"invalid_arguments": true, "invalid_form_data": true, "invalid_metadata_format": true,
	"invalid_metadata_schema": true, "metadata_too_large": true, "too_many_attachments": true,
	"restricted_action": true, "restricted_action_read_only_channel": true,
	"restricted_action_thread_only_channel": true, "restricted_action_non_threadable_channel": true,
	"thread_not_found": true, "file_not_found": true, "unknown_method": true, "method_deprecated": true,
	"invalid_cursor": true, "invalid_limit": true, "invalid_ts_latest": true, "invalid_ts_oldest": true,
}

// classify turns slack-go's error into an *Error.
func classify(method string, err error) *Error {
	e := &Error{Method: method, Err: err}
	var se slack.SlackErrorResponse
	var sc slack.StatusCodeError
	switch {
	case errors.As(err, &se):
		e.Code, e.Needed = se.Err, se.Needed
		e.Permanent = permanentCodes[se.Err]
	case errors.As(err, &sc):
		e.Code = fmt.Sprintf("http_%d", sc.Code)
		e.Permanent = sc.Code >= 400 && sc.Code < 500 && sc.Code != http.StatusRequestTimeout && sc.Code != http.StatusTooManyRequests
	}
	return e
}

// code returns err's Slack error code, or "".
func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
