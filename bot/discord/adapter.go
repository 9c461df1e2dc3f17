package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/gethelp/gethelp/bot"
)

var (
	_ bot.Network    = (*Adapter)(nil)
	_ bot.UserLookup = (*Adapter)(nil)
)

// DefaultAPIURL is the public service, where Options.APIURL points by
// default.
const DefaultAPIURL = "https://discord.com"

// Options configure an Adapter. Token is required; the rest have
// defaults.
type Options struct {
	// APIURL is where the REST API is: DefaultAPIURL, or a proxy or a test
	// fake that serves Discord's paths (/api/v9/...) under it. The
	// gateway's address is whatever GET /api/v9/gateway there answers.
	APIURL string
	// Token is the bot's token, from the application's Bot page, with or
	// without the "Bot " prefix. It is a secret: it never reaches a log.
	Token string
	// ApplicationID is the application's id; "" takes it from the
	// gateway's READY.
	ApplicationID string
	// Guilds, when not empty, are the guilds (servers) where /gethelp is
	// registered, at once; otherwise it is registered globally, for every
	// guild the application is installed in.
	Guilds []string
	// HTTPClient makes the REST requests; nil means a client with a 20 s
	// timeout. The Adapter does not modify it; it wraps its transport to
	// send Discord's requests to APIURL.
	HTTPClient *http.Client
	// Logger receives diagnostics; nil discards. Tokens never reach it.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxRateLimitWait is the longest Send and LookupUser wait for a rate
	// limit to pass before they return an error wrapping ErrRateLimited
	// (which the core retries later); zero means 2 s.
	MaxRateLimitWait time.Duration
}

// Errors.
var (
	// ErrRunning: Run was called while another Run receives.
	ErrRunning = errors.New("discord: already running")
	// ErrRateLimited: Discord asked to wait longer than
	// Options.MaxRateLimitWait. It is not permanent: try again later.
	ErrRateLimited = errors.New("discord: rate limited")
)

// Limits of Discord's API that the Adapter keeps to.
const (
	// MaxText is the longest message content; Send splits longer texts
	// into several messages.
	MaxText = 2000
	// MaxFile is the largest attachment a bot may upload (10 MiB).
	MaxFile = 10 << 20
	// maxButtons is five action rows of five buttons.
	maxButtons = 25
)

// Adapter is the bot's adapter to Discord: a bot.Network and a
// bot.UserLookup. Its methods may be called from several goroutines at
// once.
type Adapter struct {
	opts    Options
	api     *url.URL // APIURL, parsed
	logger  *slog.Logger
	now     func() time.Time
	maxWait time.Duration
	s       *discordgo.Session // REST and gateway; never nil

	running atomic.Bool

	// conns are the gateway connections dialed while Run opens the
	// gateway, so that a cancelled Run can break an Open that hangs.
	connMu sync.Mutex
	conns  map[net.Conn]struct{} // guarded by connMu

	mu       sync.Mutex
	appID    string                           // guarded by mu
	botID    string                           // guarded by mu; "" before READY
	dms      *bounded[string, string]         // user id → DM channel id; guarded by mu
	channels *bounded[string, channelInfo]    // known channels and threads; guarded by mu
	names    *bounded[string, string]         // message id → thread name, for roots the bot posted; guarded by mu
	sent     *bounded[string, bot.MessageRef] // Message.Key → the first message; guarded by mu
	pending  map[pendingKey]pending           // interactions whose token can still answer; guarded by mu
}

// pendingKey names an interaction by where and who.
type pendingKey struct{ channel, user string }

// pending is an interaction that was acknowledged: its token can post
// follow-ups, ephemeral ones too, for 15 minutes.
type pending struct {
	appID, token string
	expires      time.Time
}

// interactionTokenLife is how long Discord takes follow-ups on a token.
const interactionTokenLife = 15 * time.Minute

// New checks opts and returns an Adapter. It opens no connection: Send and
// LookupUser work at once over REST; Run opens the gateway. Errors: no
// token, an APIURL that is not an absolute http or https URL, ids that are
// not snowflakes.
func New(opts Options) (*Adapter, error) {
	token := strings.TrimSpace(opts.Token)
	if rest, ok := strings.CutPrefix(token, "Bot"); ok && (rest == "" || rest[0] == ' ') {
		token = strings.TrimSpace(rest)
	}
	if token == "" {
		return nil, errors.New("discord: no bot token")
	}
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	api, err := url.Parse(strings.TrimSuffix(opts.APIURL, "/"))
	if err != nil || (api.Scheme != "http" && api.Scheme != "https") || api.Host == "" || api.RawQuery != "" || api.Fragment != "" {
		return nil, fmt.Errorf("discord: api_url %q is not an http or https URL", opts.APIURL)
	}
	if opts.ApplicationID != "" && !snowflake(opts.ApplicationID) {
		return nil, fmt.Errorf("discord: application id %q is not a Discord id", opts.ApplicationID)
	}
	for _, g := range opts.Guilds {
		if !snowflake(g) {
			return nil, fmt.Errorf("discord: guild %q is not a Discord id", g)
		}
	}
	if opts.MaxRateLimitWait <= 0 {
		opts.MaxRateLimitWait = 2 * time.Second
	}
	a := &Adapter{
		opts:     opts,
		api:      api,
		logger:   opts.Logger,
		now:      opts.Now,
		maxWait:  opts.MaxRateLimitWait,
		conns:    map[net.Conn]struct{}{},
		appID:    opts.ApplicationID,
		dms:      newBounded[string, string](4096),
		channels: newBounded[string, channelInfo](65536),
		names:    newBounded[string, string](4096),
		sent:     newBounded[string, bot.MessageRef](16384),
		pending:  map[pendingKey]pending{},
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	a.logger = a.logger.With("component", "discord")
	if a.now == nil {
		a.now = time.Now
	}

	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	s.Client = a.httpClient(opts.HTTPClient)
	s.Dialer = a.dialer(opts.HTTPClient)
	s.LogLevel = -1 // discordgo logs through the log package; we log what matters ourselves
	s.SyncEvents = true
	s.StateEnabled = false
	s.ShouldReconnectOnError = false // Run reconnects, so that it owns every goroutine
	s.ShouldRetryOnRateLimit = false // do retries itself, within MaxRateLimitWait
	s.MaxRestRetries = 1
	s.Identify.Intents = Intents
	s.Identify.Compress = false
	a.s = s
	return a, nil
}

// Name returns "discord", the network's name in identities.
func (a *Adapter) Name() string { return "discord" }

// httpClient returns a copy of c (or a default client) whose transport
// sends requests for discordgo's https://discord.com to APIURL.
func (a *Adapter) httpClient(c *http.Client) *http.Client {
	out := &http.Client{Timeout: 20 * time.Second}
	if c != nil {
		cp := *c
		out = &cp
	}
	next := out.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	if a.opts.APIURL != DefaultAPIURL {
		out.Transport = &rewriter{to: a.api, next: next}
	}
	return out
}

// dialer returns the gateway's websocket dialer: it takes the TLS and
// proxy settings of c's transport when that is an *http.Transport, and
// tracks the connections it makes (see Adapter.conns).
func (a *Adapter) dialer(c *http.Client) *websocket.Dialer {
	d := &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 20 * time.Second}
	if c != nil {
		if t, ok := c.Transport.(*http.Transport); ok {
			d.Proxy = t.Proxy
			if t.TLSClientConfig != nil {
				d.TLSClientConfig = t.TLSClientConfig.Clone()
			}
		}
	}
	var nd net.Dialer
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := nd.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		a.connMu.Lock()
		a.conns[conn] = struct{}{}
		a.connMu.Unlock()
		return conn, nil
	}
	return d
}

// rewriter sends requests for https://discord.com to another base URL:
// discordgo's endpoints are package variables computed at start-up, and
// changing them at run time would race with every other session.
type rewriter struct {
	to   *url.URL
	next http.RoundTripper
}

func (r *rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" || req.URL.Host != "discord.com" {
		return r.next.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme = r.to.Scheme
	out.URL.Host = r.to.Host
	out.URL.Path = r.to.Path + req.URL.Path
	if req.URL.RawPath != "" {
		out.URL.RawPath = r.to.Path + req.URL.RawPath
	}
	out.Host = ""
	return r.next.RoundTrip(out)
}

// apiError is an error response of Discord's API.
type apiError struct {
	op     string // what the adapter was doing
	status int    // the HTTP status
	code   int    // Discord's JSON error code; 0 if none
	msg    string // Discord's message
	also   error  // a sentinel it is, besides bot.ErrPermanent when permanent; may be nil
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("discord: %s: HTTP %d", e.op, e.status)
	if e.code != 0 {
		s += " code " + strconv.Itoa(e.code)
	}
	if e.msg != "" {
		s += ": " + e.msg
	}
	return s
}

// permanent reports whether retrying cannot help: Discord refused the
// request itself (4xx), but for rate limits, timeouts and a refused token
// (which an operator can fix while the delivery waits).
func (e *apiError) permanent() bool {
	return e.status >= 400 && e.status < 500 && e.status != http.StatusTooManyRequests &&
		e.status != http.StatusRequestTimeout && e.status != http.StatusUnauthorized
}

func (e *apiError) Unwrap() []error {
	var errs []error
	if e.permanent() {
		errs = append(errs, bot.ErrPermanent)
	}
	if e.also != nil {
		errs = append(errs, e.also)
	}
	return errs
}

// Discord's JSON error codes the adapter tells apart.
const (
	codeUnknownGuild       = 10004
	codeUnknownMember      = 10007
	codeUnknownMessage     = 10008
	codeUnknownUser        = 10013
	codeUnknownWebhook     = 10015
	codeUnknownInteraction = 10062
	codeWrongChannelType   = 50024
	codeInvalidToken       = 50027
	codeThreadExists       = 160004
)

// request makes a REST request through discordgo's rate limiter: body is
// JSON (contentType "") or a multipart form. It waits out a rate limit
// that ends within maxWait, and returns an error wrapping ErrRateLimited
// for a longer one, before or after asking; errors of the API are
// *apiError, permanent or not; others (the network) are returned wrapped.
func (a *Adapter) request(ctx context.Context, op, method, urlStr, contentType string, body []byte) ([]byte, error) {
	bucket := strings.SplitN(urlStr, "?", 2)[0]
	if contentType == "" && body != nil {
		contentType = "application/json"
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if wait := a.bucketWait(bucket); wait > a.maxWait {
			return nil, fmt.Errorf("%w: %s: for %v", ErrRateLimited, op, wait.Round(time.Millisecond))
		}
		resp, err := a.s.RequestRaw(method, urlStr, contentType, body, bucket, 0,
			discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false))
		var rl *discordgo.RateLimitError
		if errors.As(err, &rl) {
			wait := rl.RetryAfter
			if wait > a.maxWait || attempt >= 3 {
				return nil, fmt.Errorf("%w: %s: for %v", ErrRateLimited, op, wait.Round(time.Millisecond))
			}
			a.logger.Info("rate limited; waiting", "op", op, "for", wait)
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		var rest *discordgo.RESTError
		if errors.As(err, &rest) && rest.Response != nil {
			e := &apiError{op: op, status: rest.Response.StatusCode}
			if rest.Message != nil {
				e.code, e.msg = rest.Message.Code, rest.Message.Message
			}
			return nil, e
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("discord: %s: %w", op, err)
		}
		return resp, nil
	}
}

// requestJSON sends v as JSON and decodes the answer into out (nil: none).
func (a *Adapter) requestJSON(ctx context.Context, op, method, urlStr string, v, out any) error {
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			return fmt.Errorf("discord: %s: %w", op, err)
		}
	}
	resp, err := a.request(ctx, op, method, urlStr, "", body)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			return fmt.Errorf("discord: %s: the answer: %w", op, err)
		}
	}
	return nil
}

// bucketWait returns how long discordgo's rate limiter would make a
// request in bucket wait now. A bucket in use by another request is not
// waited for here (its request is under way).
func (a *Adapter) bucketWait(bucket string) time.Duration {
	rl := a.s.Ratelimiter
	b := rl.GetBucket(bucket)
	if !b.TryLock() {
		return 0
	}
	defer b.Unlock()
	return rl.GetWaitTime(b, 1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// codeOf returns Discord's error code in err, or 0.
func codeOf(err error) int {
	var e *apiError
	if errors.As(err, &e) {
		return e.code
	}
	return 0
}

// bounded is a map that forgets its oldest entries beyond max.
type bounded[K comparable, V any] struct {
	m     map[K]V
	order []K
	max   int
}

func newBounded[K comparable, V any](max int) *bounded[K, V] {
	return &bounded[K, V]{m: map[K]V{}, max: max}
}

func (b *bounded[K, V]) get(k K) (V, bool) {
	v, ok := b.m[k]
	return v, ok
}

func (b *bounded[K, V]) put(k K, v V) {
	if _, ok := b.m[k]; !ok {
		b.order = append(b.order, k)
	}
	b.m[k] = v
	for len(b.m) > b.max && len(b.order) > 0 {
		delete(b.m, b.order[0])
		b.order = b.order[1:]
	}
	if len(b.order) > 2*b.max {
		// Deleted keys left their places behind: keep the live ones.
		seen := make(map[K]bool, len(b.m))
		live := make([]K, 0, len(b.m))
		for i := len(b.order) - 1; i >= 0; i-- {
			if k := b.order[i]; !seen[k] {
				if _, ok := b.m[k]; ok {
					seen[k] = true
					live = append(live, k)
				}
			}
		}
		slices.Reverse(live)
		b.order = live
	}
}

func (b *bounded[K, V]) delete(k K) { delete(b.m, k) }
