// Command fakeagent stands in for the agent in test/infra's own tests: it
// serves /readyz on --web.listen-address (503 until FAKE_READY_AFTER has
// passed), lists its SFBEX_* environment on /env, and exits on SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("web.listen-address", ":9726", "")
	version := flag.Bool("version", false, "")
	flag.Parse()
	if *version {
		fmt.Println("sfbex_exporter, version fake")
		return
	}
	delay, _ := time.ParseDuration(os.Getenv("FAKE_READY_AFTER"))
	readyAt := time.Now().Add(delay)

	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if time.Now().Before(readyAt) {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		var vars []string
		for _, kv := range os.Environ() {
			if strings.HasPrefix(kv, "SFBEX_") {
				vars = append(vars, kv)
			}
		}
		sort.Strings(vars)
		fmt.Fprint(w, strings.Join(vars, "\n"))
	})
	srv := &http.Server{Addr: *addr, Handler: mux}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		fmt.Println("fakeagent: shutting down")
		srv.Shutdown(context.Background())
	}()
	fmt.Println("fakeagent: listening on", *addr)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "fakeagent:", err)
		os.Exit(1)
	}
}
