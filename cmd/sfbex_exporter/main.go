// Command sfbex_exporter monitors the integration between Skype for
// Business / Lync Server and Exchange and exposes what it finds as
// Prometheus metrics, a status page and a JSON API.
//
//	sfbex_exporter [--lab] [--web.listen-address=:9726]   run the agent
//	sfbex_exporter check [--lab] [--verbose]               run every check once and report
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/docs"
	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/web"
	"github.com/sfbex/sfbex_exporter/internal/winsvc"
	"github.com/sfbex/sfbex_exporter/lab"
)

// defaultAddress is the agent's port: in the exporter range, and used by no
// exporter we could find in public code (docs/configuration.md says how it
// was chosen).
const defaultAddress = ":9726"

func main() {
	if isService, err := winsvc.IsService(); err == nil && isService {
		os.Exit(runService(os.Args[1:]))
	}
	os.Exit(run(os.Args[1:]))
}

// runEnv is what differs between a command line and a Windows service.
type runEnv struct {
	ctx      context.Context // ends the agent; nil: SIGINT or SIGTERM
	stderr   io.Writer       // usage and configuration errors
	eventLog winsvc.EventWriter
}

func run(args []string) int { return runIn(runEnv{stderr: os.Stderr}, args) }

func runIn(env runEnv, args []string) int {
	stderr := env.stderr
	app := kingpin.New("sfbex_exporter", "Monitors the Skype for Business / Lync Server and Exchange integration for Prometheus. Configured with SFBEX_* environment variables, or a file of them (--config.file); see docs/configuration.md.")
	app.Version(version.Print("sfbex_exporter"))
	app.HelpFlag.Short('h')
	useLab := app.Flag("lab", "Run against the built-in simulated estate for contoso.test instead of the SFBEX_* configuration.").Bool()
	labFaults := app.Flag("lab.fault", "With --lab: switch this fault on at start (repeatable): "+strings.Join(lab.FaultNames(), ", ")+".").Strings()
	labVariant := app.Flag("lab.variant", "With --lab: the shape of the simulated estate: "+strings.Join(lab.VariantNames(), ", ")+" (docs/configuration.md#lab-variants).").Default(lab.Variants[0].Name).Enum(lab.VariantNames()...)
	labInterval := app.Flag("lab.interval", "With --lab: how often every check runs.").Default("15s").Duration()
	logFormat := app.Flag("log.format", "Log format: json for machines, console for people.").Default("json").Enum("json", "console")
	configFile := app.Flag("config.file", "Read SFBEX_* variables from this file, one NAME=value per line (for a Windows service); a variable set in the environment wins over the file.").Envar("SFBEX_CONFIG_FILE").String()
	logFile := app.Flag("log.file", "Also write the log to this file (a Windows service has no console); it is renamed to <file>.1 when it reaches 10 MiB.").String()
	pprofOn := app.Flag("web.enable-pprof", "Serve Go's profiler at /debug/pprof/ (heap, CPU, goroutines) on the agent's listener, to find where memory or CPU goes; off by default.").Bool()
	logLevel := app.Flag("log.level", "Log level: debug, info, warn or error.").Default("info").Enum("debug", "info", "warn", "error")
	webFlags := kingpinflag.AddFlags(app, defaultAddress)
	app.Command("serve", "Run the agent (the default).").Default()
	checkCmd := app.Command("check", "Run every configured check once, print a report, and exit non-zero when any check fails.")
	verbose := checkCmd.Flag("verbose", "Also list every record, certificate and sample the checks saw.").Bool()
	installCmd := app.Command("install", "Windows: register the agent as a Windows service (automatic start, restart on failure) and its Event Log source. Run from an elevated PowerShell.")
	installConfig := installCmd.Flag("service.config-file", "The configuration file the service reads.").Default(defaultServiceConfig).String()
	installLog := installCmd.Flag("service.log-file", "The log file the service writes besides the Event Log.").Default(defaultServiceLog).String()
	installArgs := installCmd.Flag("service.arg", "Another flag for the service's command line, e.g. --service.arg=--web.listen-address=:9726 (repeatable).").Strings()
	app.Command("uninstall", "Windows: stop and remove the service and its Event Log source.")

	cmd, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "sfbex_exporter: %v; try --help\n", err)
		return 2
	}
	switch cmd {
	case "install":
		return install(stderr, *installConfig, *installLog, *installArgs)
	case "uninstall":
		return uninstall(stderr)
	}
	log, closeLog, err := newLogger(*logFormat, *logLevel, *logFile, env.eventLog)
	if err != nil {
		fmt.Fprintf(stderr, "sfbex_exporter: %v\n", err)
		return 2
	}
	defer closeLog()

	// The configuration comes from the environment, or in lab mode from
	// the lab alone, so that a stray SFBEX_* variable from the shell cannot
	// change what the lab shows.
	src, fileVars, err := configSource(*configFile, *useLab)
	if err != nil {
		fmt.Fprintf(stderr, "sfbex_exporter: %v\n", err)
		return 2
	}
	var estate *lab.Lab
	if err := checkLabFlags(*labFaults, *labInterval); *useLab && err != nil {
		fmt.Fprintf(stderr, "sfbex_exporter: %v\n", err)
		return 2
	}
	if *useLab {
		if estate, err = startLab(*labVariant, *labFaults); err != nil {
			log.Error("cannot start the lab", zap.Error(err))
			return 1
		}
		defer estate.Close()
		src = config.Map(estate.Env(*labInterval))
		log = log.With(zap.Bool("lab", true))
		log.Warn("LAB MODE: monitoring the simulated estate for contoso.test, not a real deployment", zap.Strings("faults", estate.Active()))
	} else if len(*labFaults) > 0 {
		fmt.Fprintln(stderr, "sfbex_exporter: --lab.fault needs --lab")
		return 2
	} else if *labVariant != lab.Variants[0].Name {
		fmt.Fprintln(os.Stderr, "sfbex_exporter: --lab.variant needs --lab")
		return 2
	}

	a, err := configure(src)
	if err != nil {
		fmt.Fprintf(stderr, "sfbex_exporter: configuration: %v\n", err)
		return 2
	}
	if estate == nil {
		for _, name := range config.Unknown(os.Environ(), variables()) {
			log.Warn("unknown variable: no part of the agent reads it (a typo?); docs/configuration.md lists them all", zap.String("variable", name))
		}
		logConfigFile(log, *configFile, fileVars)
	}
	for _, h := range a.Web.InsecureHosts {
		log.Warn("TLS certificate verification is OFF for this host (SFBEX_TLS_INSECURE_HOSTS)", zap.String("host", h))
	}

	ctx := env.ctx
	if ctx == nil {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
	}

	if cmd == checkCmd.FullCommand() {
		return runCheck(ctx, a, *verbose)
	}
	return serve(ctx, log, webFlags, a, estate, *pprofOn)
}

// startLab starts the simulated estate and points the configuration at it.
// checkLabFlags rejects lab flags that cannot work, before anything starts.
func checkLabFlags(faults []string, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("--lab.interval=%s must be positive; e.g. --lab.interval=5s", interval)
	}
	for _, f := range faults {
		for _, name := range strings.Split(f, ",") {
			if !slices.Contains(lab.FaultNames(), strings.TrimSpace(name)) {
				return fmt.Errorf("--lab.fault=%s: unknown fault %q; known faults: %s", f, name, strings.Join(lab.FaultNames(), ", "))
			}
		}
	}
	return nil
}

func startLab(variant string, faults []string) (*lab.Lab, error) {
	v, err := lab.VariantNamed(variant)
	if err != nil {
		return nil, err
	}
	l, err := lab.StartVariant(v)
	if err != nil {
		return nil, err
	}
	for _, f := range faults {
		for _, name := range strings.Split(f, ",") {
			if err := l.Set(strings.TrimSpace(name), true); err != nil {
				l.Close()
				return nil, err
			}
		}
	}
	return l, nil
}

// newLogger writes to stderr, and also to file and the Event Log when
// given (a Windows service has no console). The console format colours the
// level only when stderr is a terminal: escape codes in a file, journald
// or a pipe are noise (NO_COLOR turns colour off on a terminal too). The
// returned function flushes and closes what it opened.
func newLogger(format, level, file string, eventLog winsvc.EventWriter) (*zap.Logger, func(), error) {
	var cfg zap.Config
	if format == "console" {
		cfg = zap.NewDevelopmentConfig()
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
		if colourful(os.Stderr) {
			cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		}
		cfg.Development = false
	} else {
		cfg = zap.NewProductionConfig()
		cfg.EncoderConfig.TimeKey = "ts"
		cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	}
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, nil, err
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.DisableStacktrace = true
	log, err := cfg.Build()
	if err != nil {
		return nil, nil, err
	}
	cores := []zapcore.Core{log.Core()}
	var f *rotatingFile
	if file != "" {
		if f, err = openRotating(file, maxLogFileBytes); err != nil {
			return nil, nil, err
		}
		fileEnc := cfg.EncoderConfig
		fileEnc.EncodeLevel = zapcore.CapitalLevelEncoder // no colour codes in a file
		enc := zapcore.NewJSONEncoder(fileEnc)
		if format == "console" {
			enc = zapcore.NewConsoleEncoder(fileEnc)
		}
		cores = append(cores, zapcore.NewCore(enc, zapcore.Lock(f), cfg.Level))
	}
	if eventLog != nil {
		// Debug lines would flood the Event Log: it gets info and above.
		cores = append(cores, winsvc.NewEventCore(eventLog, zapcore.Level(max(lvl, zapcore.InfoLevel))))
	}
	log = zap.New(zapcore.NewTee(cores...))
	return log, func() {
		_ = log.Sync()
		if f != nil {
			_ = f.Close()
		}
	}, nil
}

// colourful reports whether f is a terminal that may get colour codes.
func colourful(f *os.File) bool {
	return os.Getenv("NO_COLOR") == "" && term.IsTerminal(int(f.Fd()))
}

// queued lets at most n requests through h at once; the others wait for a
// slot (until their client gives up) instead of being turned away, so a
// burst of scrapers gets answers and cannot take every CPU from the probes.
// promhttp's own MaxRequestsInFlight answers 503 instead, and its Timeout
// buffers each whole response in memory: neither is used.
func queued(h http.Handler, n int) http.Handler {
	sem := make(chan struct{}, max(n, 1))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
		case <-r.Context().Done():
			return
		}
		h.ServeHTTP(w, r)
	})
}

// runCheck runs every check once and prints the report.
func runCheck(ctx context.Context, a *agent, verbose bool) int {
	checks := a.Checks
	store := collector.NewStore(checks)
	var longest time.Duration
	for _, c := range checks {
		longest = max(longest, c.Timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, longest+5*time.Second)
	defer cancel()
	collector.RunOnce(ctx, store, checks, a.MaxConcurrent)
	if web.WriteReport(os.Stdout, web.Views(store.Entries()), verbose) > 0 {
		return 1
	}
	return 0
}

// agentRegistry holds the metrics /metrics serves besides the store's:
// the Go runtime's, the process's, the build's and the lab flag.
func agentRegistry(labMode bool) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("sfbex_exporter"),
	)
	labGauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "sfbex_lab_mode", Help: "1 when the agent monitors its built-in simulated estate (--lab), 0 for a real deployment."})
	if labMode {
		labGauge.Set(1)
	}
	reg.MustRegister(labGauge)
	return reg
}

// newRegistry gathers every metric /metrics serves, the store's included
// (for tests; serve writes the store's pre-encoded series directly).
func newRegistry(store *collector.Store, labMode bool) *prometheus.Registry {
	reg := agentRegistry(labMode)
	reg.MustRegister(collector.NewCollector(store))
	return reg
}

// applyMemoryLimit sets the garbage collector's soft limit, unless the Go
// runtime's own GOMEMLIMIT is set (it wins: the operator asked the runtime).
func applyMemoryLimit(log *zap.Logger, a *agent) {
	if os.Getenv("GOMEMLIMIT") != "" {
		log.Info("soft memory limit from GOMEMLIMIT; SFBEX_MEMORY_LIMIT is not used", zap.String("GOMEMLIMIT", os.Getenv("GOMEMLIMIT")))
		return
	}
	if a.MemoryLimit <= 0 {
		return
	}
	debug.SetMemoryLimit(a.MemoryLimit)
	log.Info("soft memory limit", zap.Int64("bytes", a.MemoryLimit), zap.Bool("derived_from_checks", a.MemoryLimitAuto))
}

// serve runs the scheduler and the HTTP server until ctx ends.
func serve(ctx context.Context, log *zap.Logger, webFlags *toolkitweb.FlagConfig, a *agent, estate *lab.Lab, pprofOn bool) int {
	checks := a.Checks
	applyMemoryLimit(log, a)
	store := collector.NewStore(checks)
	mux := newMux(store, agentRegistry(estate != nil), a, estate)
	if pprofOn {
		// The profiler's own handlers (net/http/pprof registers them on
		// http.DefaultServeMux, which the agent does not serve).
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		log.Warn("the Go profiler is served at /debug/pprof/ (--web.enable-pprof): it shows the agent's internals to whoever can reach the listener")
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sched := &collector.Scheduler{Store: store, Checks: checks, MaxConcurrent: a.MaxConcurrent, Log: log}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sched.Run(ctx)
	}()

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: zap.NewStdLog(log.Named("http"))}
	errc := make(chan error, 1)
	go func() {
		errc <- toolkitweb.ListenAndServe(srv, webFlags, slog.New(zapslog.NewHandler(log.Core())))
	}()
	log.Info("sfbex_exporter started", zap.String("version", version.Version), zap.Int("checks", len(checks)),
		zap.Strings("listen", *webFlags.WebListenAddresses))

	code := 0
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server failed; exiting", zap.Error(err))
			code = 1
		}
	}
	cancel() // stops the scheduler, also when the server failed on its own
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	<-done
	return code
}

// newMux routes every page the agent serves.
// newMux serves the agent's pages. reg holds the agent's own series (Go,
// process, build, lab mode); the checks' series come from the store.
func newMux(store *collector.Store, reg *prometheus.Registry, a *agent, estate *lab.Lab) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", queued(collector.Handler(store, reg), runtime.GOMAXPROCS(0)))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !store.Ready() {
			http.Error(w, "the first round of checks has not completed", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("/api/checks", web.APIChecks(store))
	docs.Handle(mux) // /runbooks, /docs/metrics, /docs/configuration: alerts' runbook_url opens here
	for pattern, h := range a.Routes {
		mux.Handle(pattern, h)
	}
	mux.Handle("/", web.StatusPage(store, web.PageInfo{Version: version.Version, Lab: estate != nil}))
	if estate != nil {
		mux.Handle("/lab", estate.Handler())
		mux.Handle("/lab/", estate.Handler())
	}
	return mux
}
