package winsvc

import (
	"go.uber.org/zap/zapcore"
)

// EventWriter is the Windows Event Log as a log destination
// (golang.org/x/sys/windows/svc/eventlog.Log has these methods).
type EventWriter interface {
	Info(eid uint32, msg string) error
	Warning(eid uint32, msg string) error
	Error(eid uint32, msg string) error
}

// Event IDs, one per level, so that an admin can filter on them
// (Get-WinEvent -FilterHashtable @{LogName='Application'; ProviderName='sfbex_exporter'; Id=3}).
const (
	EventInfo    uint32 = 1
	EventWarning uint32 = 2
	EventError   uint32 = 3
)

// maxEventBytes keeps one event well under the Event Log's limit of
// 31,839 characters per string.
const maxEventBytes = 16 << 10

// NewEventCore is a zap core that writes each entry at or above level to
// w as one event, the message followed by its fields as JSON.
func NewEventCore(w EventWriter, level zapcore.LevelEnabler) zapcore.Core {
	cfg := zapcore.EncoderConfig{MessageKey: "msg", NameKey: "logger", LineEnding: "", EncodeDuration: zapcore.StringDurationEncoder}
	return &eventCore{LevelEnabler: level, enc: zapcore.NewJSONEncoder(cfg), w: w}
}

type eventCore struct {
	zapcore.LevelEnabler
	enc zapcore.Encoder
	w   EventWriter
}

func (c *eventCore) With(fields []zapcore.Field) zapcore.Core {
	clone := &eventCore{LevelEnabler: c.LevelEnabler, enc: c.enc.Clone(), w: c.w}
	for _, f := range fields {
		f.AddTo(clone.enc)
	}
	return clone
}

func (c *eventCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *eventCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	buf, err := c.enc.EncodeEntry(e, fields)
	if err != nil {
		return err
	}
	msg := buf.String()
	buf.Free()
	if len(msg) > maxEventBytes {
		msg = msg[:maxEventBytes] + "…"
	}
	switch {
	case e.Level >= zapcore.ErrorLevel:
		return c.w.Error(EventError, msg)
	case e.Level == zapcore.WarnLevel:
		return c.w.Warning(EventWarning, msg)
	}
	return c.w.Info(EventInfo, msg)
}

func (c *eventCore) Sync() error { return nil }
