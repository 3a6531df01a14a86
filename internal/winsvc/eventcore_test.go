package winsvc

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

type event struct {
	kind string
	id   uint32
	msg  string
}

type fakeEventLog struct{ events []event }

func (f *fakeEventLog) Info(id uint32, m string) error {
	f.events = append(f.events, event{"info", id, m})
	return nil
}
func (f *fakeEventLog) Warning(id uint32, m string) error {
	f.events = append(f.events, event{"warning", id, m})
	return nil
}
func (f *fakeEventLog) Error(id uint32, m string) error {
	f.events = append(f.events, event{"error", id, m})
	return nil
}

func TestEventCoreMapsLevelsAndKeepsFields(t *testing.T) {
	w := &fakeEventLog{}
	log := zap.New(NewEventCore(w, zapcore.InfoLevel)).With(zap.Bool("service", true))
	log.Debug("not written")
	log.Info("sfbex_exporter started", zap.Int("checks", 9))
	log.Warn("unknown variable", zap.String("variable", "SFBEX_DNS_INTERVALL"))
	log.Error("HTTP server failed; exiting", zap.Error(errors.New("listen tcp :9726: bind: address already in use")))
	log.Info(strings.Repeat("x", 2*maxEventBytes))
	if len(w.events) != 4 {
		t.Fatalf("events %+v", w.events)
	}
	for i, want := range []event{
		{"info", EventInfo, `"msg":"sfbex_exporter started","service":true,"checks":9`},
		{"warning", EventWarning, `"variable":"SFBEX_DNS_INTERVALL"`},
		{"error", EventError, `address already in use`},
	} {
		got := w.events[i]
		if got.kind != want.kind || got.id != want.id || !strings.Contains(got.msg, want.msg) {
			t.Errorf("event %d = %+v, want %s %d containing %s", i, got, want.kind, want.id, want.msg)
		}
	}
	if n := len(w.events[3].msg); n > maxEventBytes+len("…") {
		t.Errorf("a huge message became an event of %d bytes", n)
	}
}
