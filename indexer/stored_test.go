package indexer

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// TestPostsByAuthor: an instance's stored posts grouped by author, across
// more pages than the first small one, and nothing of other instances.
func TestPostsByAuthor(t *testing.T) {
	t.Parallel()
	ix := openMem(t)
	want := map[string][]string{}
	var posts []model.Post
	for i := 0; i < 300; i++ {
		author := fmt.Sprintf("u%d@z.example", i%3)
		uri := fmt.Sprintf("https://z.example/users/u%d/statuses/%04d", i%3, i)
		want[author] = append(want[author], uri)
		posts = append(posts, model.Post{URI: uri, Host: "z.example", Author: author, Text: "hello", Created: time.Unix(int64(i), 0)})
	}
	posts = append(posts, model.Post{URI: "https://b.example/x/1", Host: "b.example", Author: "u0@b.example", Text: "other"})
	require.NoError(t, ix.Index(t.Context(), posts))
	got, err := ix.PostsByAuthor(t.Context(), "Z.example")
	require.NoError(t, err)
	for _, v := range got {
		sort.Strings(v)
	}
	require.Equal(t, want, got)
	none, err := ix.PostsByAuthor(t.Context(), "c.example")
	require.NoError(t, err)
	require.Empty(t, none)
}
