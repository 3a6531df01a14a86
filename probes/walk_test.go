package probes

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// Members queued behind one that hangs still run, each under a deadline
// that ends before the run's.
func TestWalkGivesEveryMemberItsShare(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	runDeadline, _ := parent.Deadline()
	var mu sync.Mutex
	ran := map[int]error{}
	Walk(parent, 3, 1, 0, func(ctx context.Context, i int, share time.Duration) {
		dl, ok := ctx.Deadline()
		if !ok || !dl.Before(runDeadline) {
			t.Errorf("member %d: deadline %v, want one before the run's %v", i, dl, runDeadline)
		}
		if share <= 0 || share > time.Second {
			t.Errorf("member %d: share %s, want a third of 90%% of the run at most", i, share)
		}
		var err error
		if i == 0 { // hangs until its share ends
			<-ctx.Done()
			err = MemberErr(ctx, parent, share, ctx.Err())
		}
		mu.Lock()
		ran[i] = err
		mu.Unlock()
	})
	if len(ran) != 3 {
		t.Fatalf("%d of 3 members ran", len(ran))
	}
	if parent.Err() != nil {
		t.Fatal("the walk used the whole run")
	}
	if err := ran[0]; err == nil || !strings.Contains(err.Error(), "timed out after") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hanging member: %v", err)
	}
	if ran[1] != nil || ran[2] != nil {
		t.Errorf("fine members: %v %v", ran[1], ran[2])
	}
}

// A limit caps the share; without a run deadline the limit is the share.
func TestWalkShareLimit(t *testing.T) {
	for _, tc := range []struct {
		deadline, limit, want time.Duration
	}{
		{0, 0, 0},
		{0, time.Second, time.Second},
		{time.Hour, time.Second, time.Second},
	} {
		ctx := context.Background()
		if tc.deadline > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, tc.deadline)
			defer cancel()
		}
		Walk(ctx, 1, 1, tc.limit, func(_ context.Context, _ int, share time.Duration) {
			if share != tc.want {
				t.Errorf("deadline %s limit %s: share %s, want %s", tc.deadline, tc.limit, share, tc.want)
			}
		})
	}
}

// An error that is not the member's own timeout is passed through.
func TestMemberErrKeepsOtherErrors(t *testing.T) {
	boom := errors.New("connection refused")
	ctx := context.Background()
	if err := MemberErr(ctx, ctx, time.Second, boom); err != boom {
		t.Fatalf("got %v", err)
	}
	if err := MemberErr(ctx, ctx, time.Second, nil); err != nil {
		t.Fatalf("got %v", err)
	}
}
