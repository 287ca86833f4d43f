// Package demoapp is the small web application that benchgate's demo and
// example suite load-test: a login form with a CSRF token, session and
// auth cookies, an account page, a cart, a JSON API (one part behind
// HTTP Basic authentication), a slow page and a redirect. It keeps its state in memory.
package demoapp

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Password is the password every demo user logs in with.
const Password = "secret"

// Items are the products the API lists.
var Items = []Item{{1, "teapot", 1800}, {2, "kettle", 2500}, {3, "cups", 900}}

// Item is one product.
type Item struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Cents int    `json:"cents"`
}

type session struct {
	csrf string
	user string
	cart map[int]int
}

// App is the demo application; it is an http.Handler.
type App struct {
	slowMu   sync.RWMutex
	slowdown map[string]float64 // path → extra time, as a fraction of the handler's own
	mux      *http.ServeMux
	mu       sync.Mutex
	sessions map[string]*session
	order    []string // session ids, oldest first, to evict beyond maxSessions
}

// maxSessions bounds the application's memory under long load tests: the
// oldest sessions are forgotten first.
const maxSessions = 10000

// New returns a fresh application.
func New() *App {
	a := &App{mux: http.NewServeMux(), sessions: map[string]*session{}}
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("GET /login", a.loginForm)
	a.mux.HandleFunc("POST /login", a.login)
	a.mux.HandleFunc("GET /account", a.account)
	a.mux.HandleFunc("POST /cart", a.addToCart)
	a.mux.HandleFunc("GET /cart", a.cart)
	a.mux.HandleFunc("GET /api/items", a.items)
	a.mux.HandleFunc("GET /api/orders", a.orders)
	a.mux.HandleFunc("GET /slow", a.slow)
	a.mux.HandleFunc("GET /work", a.work)
	a.mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/", http.StatusFound)
	})
	a.mux.HandleFunc("POST /echo", a.echo)
	return a
}

// ServeHTTP serves the request, slowed down as SlowDown says.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.slowMu.RLock()
	f := a.slowdown[r.URL.Path]
	a.slowMu.RUnlock()
	if f <= 0 {
		a.mux.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	a.mux.ServeHTTP(w, r) // small responses stay buffered until we return
	// Spin rather than sleep: a sleep this short ends on the runtime's
	// timer granularity (up to a millisecond), not when asked.
	until := start.Add(time.Duration(float64(time.Since(start)) * (1 + f)))
	for time.Now().Before(until) {
	}
}

// SlowDown makes requests for path take (1+factor) times as long as they
// otherwise would (0 restores it): a regression to inject, for testing a
// performance gate.
func (a *App) SlowDown(path string, factor float64) {
	a.slowMu.Lock()
	defer a.slowMu.Unlock()
	if a.slowdown == nil {
		a.slowdown = map[string]float64{}
	}
	a.slowdown[path] = factor
}

func token() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// session returns the request's session, or creates one (and sets its
// cookie) when create is true.
func (a *App) session(w http.ResponseWriter, r *http.Request, create bool) *session {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, err := r.Cookie("sid"); err == nil {
		if s, ok := a.sessions[c.Value]; ok {
			return s
		}
	}
	if !create {
		return nil
	}
	for len(a.order) >= maxSessions {
		delete(a.sessions, a.order[0])
		a.order = a.order[1:]
	}
	id := token()
	s := &session{csrf: token(), cart: map[int]int{}}
	a.sessions[id] = s
	a.order = append(a.order, id)
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: id, Path: "/", HttpOnly: true})
	return s
}

func page(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><html><head><title>%s</title></head><body>%s</body></html>\n", title, body)
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	user := "guest"
	if s := a.session(w, r, false); s != nil && s.user != "" {
		user = s.user
	}
	page(w, 200, "Demo shop", fmt.Sprintf(`<h1>Demo shop</h1><div id="userName">%s</div>
<ul><li><a href="/login">log in</a></li><li><a href="/api/items">items</a></li></ul>`, html.EscapeString(user)))
}

func (a *App) loginForm(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r, true)
	page(w, 200, "Log in", fmt.Sprintf(`<form id="login" method="post" action="/login">
<input type="hidden" name="csrf" value="%s">
<input type="text" name="user" value="">
<input type="password" name="password" value="">
<input type="checkbox" name="remember" value="yes" checked>
<input type="submit" name="go" value="Log in">
</form>`, s.csrf))
}

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r, false)
	if s == nil {
		page(w, 403, "Forbidden", "<p>no session: load the form first</p>")
		return
	}
	if r.PostFormValue("csrf") != s.csrf {
		page(w, 403, "Forbidden", "<p>bad CSRF token</p>")
		return
	}
	user := r.PostFormValue("user")
	if user == "" || r.PostFormValue("password") != Password {
		page(w, 401, "Unauthorized", "<p>wrong user or password</p>")
		return
	}
	a.mu.Lock()
	s.user = user
	a.mu.Unlock()
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

func (a *App) loggedIn(w http.ResponseWriter, r *http.Request) *session {
	s := a.session(w, r, false)
	if s == nil || s.user == "" {
		page(w, 401, "Unauthorized", "<p>log in first</p>")
		return nil
	}
	return s
}

func (a *App) account(w http.ResponseWriter, r *http.Request) {
	s := a.loggedIn(w, r)
	if s == nil {
		return
	}
	var items string
	for _, it := range Items {
		items += fmt.Sprintf(`<li><a class="item" data-id="%d" href="/cart">%s</a></li>`, it.ID, it.Name)
	}
	page(w, 200, "Account", fmt.Sprintf(`<div id="userName">%s</div><ul>%s</ul>`, html.EscapeString(s.user), items))
}

func (a *App) addToCart(w http.ResponseWriter, r *http.Request) {
	s := a.loggedIn(w, r)
	if s == nil {
		return
	}
	id, err := strconv.Atoi(r.PostFormValue("item"))
	if err != nil || id < 1 || id > len(Items) {
		http.Error(w, "unknown item", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	s.cart[id]++
	a.mu.Unlock()
	a.cart(w, r)
}

func (a *App) cart(w http.ResponseWriter, r *http.Request) {
	s := a.loggedIn(w, r)
	if s == nil {
		return
	}
	a.mu.Lock()
	type line struct {
		Item  Item `json:"item"`
		Count int  `json:"count"`
	}
	out := struct {
		User  string `json:"user"`
		Lines []line `json:"lines"`
		Total int    `json:"total_cents"`
	}{User: s.user, Lines: []line{}}
	for _, it := range Items {
		if n := s.cart[it.ID]; n > 0 {
			out.Lines = append(out.Lines, line{it, n})
			out.Total += n * it.Cents
		}
	}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (a *App) items(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"items": Items})
}

// orders is an API that wants HTTP Basic authentication with any demo
// user and Password: 401 with a challenge without it.
func (a *App) orders(w http.ResponseWriter, r *http.Request) {
	user, pw, ok := r.BasicAuth()
	if !ok || user == "" || pw != Password {
		w.Header().Set("WWW-Authenticate", `Basic realm="orders"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"user": user, "orders": []int{}})
}

// slow waits ?ms= milliseconds (default 50, at most 2000) before answering.
func (a *App) slow(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 {
		ms = 50
	}
	ms = min(ms, 2000)
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-r.Context().Done():
		return
	}
	page(w, 200, "Slow", fmt.Sprintf("<p>waited %d ms</p>", ms))
}

// work spends ?us= microseconds of CPU (default 1000, at most 100000)
// before answering, as a page that renders something would: its time is
// exact, unlike a sleep's, which ends on the runtime's timer granularity.
func (a *App) work(w http.ResponseWriter, r *http.Request) {
	us, err := strconv.Atoi(r.URL.Query().Get("us"))
	if err != nil || us < 0 {
		us = 1000
	}
	us = min(us, 100000)
	until := time.Now().Add(time.Duration(us) * time.Microsecond)
	n := 0
	for time.Now().Before(until) {
		n++
	}
	page(w, 200, "Work", fmt.Sprintf(`<p id="worked">worked %d µs</p><p id="rounds">%d rounds</p>`, us, n))
}

// echo returns the request body, up to 64 KiB.
func (a *App) echo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	io.Copy(w, io.LimitReader(r.Body, 64<<10))
}
