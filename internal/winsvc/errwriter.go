package winsvc

import (
	"io"
	"strings"
)

// ErrorWriter is an io.Writer that turns each write (one message the agent
// would print on stderr: a usage or configuration error) into an error
// event, so that a service that cannot start says why in the Event Log.
func ErrorWriter(w EventWriter) io.Writer {
	return errorWriter{w}
}

type errorWriter struct{ w EventWriter }

func (e errorWriter) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\r\n")
	if len(msg) > maxEventBytes {
		msg = msg[:maxEventBytes] + "…"
	}
	if msg == "" {
		return len(p), nil
	}
	return len(p), e.w.Error(EventError, msg)
}
