package app_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
)

// writers creates user keys through every replica from a few clients
// each until ctx ends, and returns the tokens whose creation was
// acknowledged (a 200 with its body); statuses counts every answer.
func (r *replicas) writers(ctx context.Context, t *testing.T, perReplica int) (acked []string, statuses map[int]int, slowest time.Duration) {
	var mu sync.Mutex
	statuses = map[int]int{}
	var wg sync.WaitGroup
	for i, s := range r.servers {
		c := newClient(s.url, r.system)
		for w := range perReplica {
			wg.Go(func() {
				for n := 0; ctx.Err() == nil; n++ {
					began := time.Now()
					status, body, err := c.send(ctx, "POST", fmt.Sprintf("/apiKeys/new/w%d-%d-%d", i, w, n), r.system)
					took := time.Since(began)
					if err != nil {
						// No answer in full: not acknowledged (the replica
						// was killed, or the test ended).
						continue
					}
					mu.Lock()
					statuses[status]++
					slowest = max(slowest, took)
					if status == http.StatusOK {
						if token, err := decodeToken(body); err == nil {
							acked = append(acked, token)
						}
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return acked, statuses, slowest
}

// TestKill9OfAReplicaLosesNoAcknowledgedWrite: while three replicas take
// concurrent writes, one is killed with SIGKILL; every key whose creation
// any replica acknowledged, the killed one's included, is found through
// the survivors.
func TestKill9OfAReplicaLosesNoAcknowledgedWrite(t *testing.T) {
	r := startReplicas(t, 3)
	ctx, stop := context.WithTimeout(context.Background(), 3*time.Second)
	defer stop()
	go func() {
		time.Sleep(time.Second)
		r.servers[0].cmd.Process.Kill()
	}()
	acked, statuses, _ := r.writers(ctx, t, 4)
	if statuses[http.StatusOK] == 0 || len(statuses) != 1 {
		t.Fatalf("answers while a replica was killed: %v, want only 200s", statuses)
	}
	owners, _ := newClient(r.servers[1].url, r.system).allKeys(t)
	lost := 0
	for _, token := range acked {
		if owners[token] == "" {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged keys lost", lost, len(acked))
	}
	t.Logf("%d acknowledged keys, all kept", len(acked))
}

// TestReplicasRideOutADatabaseOutage: under concurrent writes through
// three replicas, PostgreSQL goes down for two seconds (every connection
// dropped and refused). Meanwhile requests get 503, none a 500 or an
// answer later than 5 s; once it is back every replica serves again by
// itself, and a key deleted through one is refused by the others.
func TestReplicasRideOutADatabaseOutage(t *testing.T) {
	p, proxied := pgtest.NewProxy(t, pgtest.NewDatabase(t))
	r := startReplicasOn(t, proxied, 3)
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	go func() {
		time.Sleep(time.Second)
		p.GoDown()
		time.Sleep(2 * time.Second)
		p.Restore()
	}()
	_, statuses, slowest := r.writers(ctx, t, 2)
	if statuses[http.StatusServiceUnavailable] == 0 || statuses[http.StatusOK] == 0 || len(statuses) != 2 {
		t.Errorf("answers around the outage: %v, want 200s and 503s only", statuses)
	}
	if slowest > downBound {
		t.Errorf("the slowest answer took %v, want at most %v", slowest, downBound)
	}
	eventually(t, "ready again", r.servers, answers(t, 200, "GET", "/v1/readyz", ""))
	r.revokeAGuildKey(t)
}
