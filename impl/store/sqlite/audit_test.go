package sqlite

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAuditPagesUseTheIndex: a page of a guild's entries is a range scan
// of (guild_id, id), however many entries there are; no table scan and no
// OFFSET.
func TestAuditPagesUseTheIndex(t *testing.T) {
	e := openReal(t, ":memory:")
	// The query as queries/audit.sql has it, with sqlc's named arguments
	// as plain parameters.
	queries, err := os.ReadFile("../../../queries/audit.sql")
	if err != nil {
		t.Fatal(err)
	}
	_, query, _ := strings.Cut(string(queries), "-- name: ListAuditEntries :many")
	query, _, _ = strings.Cut(query, ";")
	query = regexp.MustCompile(`sqlc\.arg\(\w+\)`).ReplaceAllString(query, "?")
	rows, err := e.db.Query("EXPLAIN QUERY PLAN "+query, 1, 100, 50)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	joined := strings.Join(plan, "; ")
	if !strings.Contains(joined, "USING COVERING INDEX audit_entries_by_guild") && !strings.Contains(joined, "USING INDEX audit_entries_by_guild") {
		t.Fatalf("plan does not use the index: %s", joined)
	}
	if strings.Contains(joined, "TEMP B-TREE") {
		t.Fatalf("plan sorts: %s", joined)
	}
}
