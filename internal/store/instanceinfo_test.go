package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
)

// TestInstanceInfoRoundTrip: the instance document fields are stored with
// each snapshot, the latest one's are listed and shown, and every
// snapshot's are in the history.
func TestInstanceInfoRoundTrip(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	t1, t2 := day1, day1.Add(24*time.Hour)
	old := model.Snapshot{
		Host: "doc.example", CrawledAt: t1, Software: "mastodon", UsersTotal: model.Int64(10),
		InstanceTitle: "Old name", Description: "Line one\n\nLine 'two' \"quoted\" \\ \x00",
		Languages: []string{"en", "de"}, Rules: []string{"Be kind.", "No spam."},
		ContactEmail: "admin@doc.example", ContactAccount: "admin@doc.example", RegistrationMode: model.RegistrationApproval,
	}
	// The latest snapshot has no instance document (refused this time):
	// it must not inherit the old one's fields.
	latest := model.Snapshot{Host: "doc.example", CrawledAt: t2, Software: "mastodon", UsersTotal: model.Int64(11), Title: "T"}
	long := model.Snapshot{
		Host: "long.example", CrawledAt: t2, Software: "misskey", Title: "Long",
		InstanceTitle: "Long", Description: strings.Repeat("ü", 5000), Rules: []string{strings.Repeat("r", 1000)},
		Languages: []string{"ja"}, RegistrationMode: model.RegistrationClosed,
	}
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{latest, old, long}))

	inst, history, err := s.Instance(ctx, "doc.example")
	require.NoError(t, err)
	require.Equal(t, latest, inst.Snapshot)
	require.Equal(t, []model.Snapshot{old, latest}, history)

	inst, _, err = s.Instance(ctx, "long.example")
	require.NoError(t, err)
	require.Equal(t, long, inst.Snapshot)

	page, err := s.Instances(ctx, model.InstanceQuery{Sort: "host"})
	require.NoError(t, err)
	require.Len(t, page.Instances, 2)
	require.Equal(t, latest, page.Instances[0].Snapshot)
	require.Equal(t, long, page.Instances[1].Snapshot)

	// A newer snapshot with a document shows it.
	newer := old
	newer.CrawledAt, newer.InstanceTitle, newer.Languages = t2.Add(time.Hour), "New name", []string{"fr"}
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{newer}))
	page, err = s.Instances(ctx, model.InstanceQuery{Sort: "host", Limit: 1})
	require.NoError(t, err)
	require.Equal(t, newer, page.Instances[0].Snapshot)
	require.NotEmpty(t, page.NextCursor)
	page, err = s.Instances(ctx, model.InstanceQuery{Sort: "host", Limit: 1, Cursor: page.NextCursor})
	require.NoError(t, err)
	require.Equal(t, long, page.Instances[0].Snapshot)

	var cols []string
	rows, err := s.Conn().Query(ctx, "SELECT name FROM system.columns WHERE database = ? AND table = 'snapshots' ORDER BY name", s.Database())
	require.NoError(t, err)
	for rows.Next() {
		var c string
		require.NoError(t, rows.Scan(&c))
		cols = append(cols, c)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	require.Subset(t, cols, []string{"instance_title", "description", "languages", "rules", "contact_email", "contact_account", "registration_mode"})
}
