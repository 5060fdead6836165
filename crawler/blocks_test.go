package crawler

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
)

func fixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "fixtures", "captured", rel))
	if os.IsNotExist(err) {
		b, err = os.ReadFile(filepath.Join("/work/shared/fixtures/captured", rel))
	}
	require.NoError(t, err)
	return b
}

func TestMastodonBlocksFixture(t *testing.T) {
	var raw []struct {
		Domain, Digest, Severity, Comment string
	}
	body := fixture(t, "mastodon/api_v1_instance_domain_blocks.json")
	require.NoError(t, decodeJSON(body, &raw))
	var list []model.DomainBlock
	for _, r := range raw {
		list = append(list, model.DomainBlock{Domain: r.Domain, Digest: r.Digest, Severity: mastodonSeverity(r.Severity), Reason: r.Comment, Source: model.BlockSourceMastodon})
	}
	b := cleanBlocks(list)
	require.Len(t, b.Blocks, len(raw), "every served entry is kept")
	require.False(t, b.Capped)
	byDomain := map[string]model.DomainBlock{}
	for _, x := range b.Blocks {
		byDomain[x.Domain] = x
	}
	require.Equal(t, model.DomainBlock{Domain: "100flowers.tech", Digest: "f8d4a13c0929648aa238e4c7288ca7ac9aa430978d9a0377848191ed39755047",
		Severity: model.SeveritySilence, Reason: "spam attack", Source: model.BlockSourceMastodon}, byDomain["100flowers.tech"])
	var obfuscated int
	for _, x := range b.Blocks {
		if len(x.Domain) > 0 && containsStar(x.Domain) {
			obfuscated++
			require.Len(t, x.Digest, 64, "an obfuscated domain keeps its digest: %s", x.Domain)
		}
	}
	t.Logf("%d entries, %d obfuscated", len(b.Blocks), obfuscated)
}

func containsStar(s string) bool {
	for i := range len(s) {
		if s[i] == '*' {
			return true
		}
	}
	return false
}

func TestParseMRFSimple(t *testing.T) {
	got, err := parseMRFSimple(fixture(t, "pleroma/nodeinfo_2.0.json"))
	require.NoError(t, err)
	b := cleanBlocks(got)
	sev := map[string]string{}
	for _, x := range b.Blocks {
		sev[x.Domain] = x.Severity
		require.Equal(t, model.BlockSourceMRFSimple, x.Source)
	}
	require.Equal(t, model.SeveritySuspend, sev["gab.com"], "reject")
	require.Equal(t, model.SeveritySuspend, sev["pawoo.net"], "reject wins over media_nsfw")
	require.Equal(t, model.SeverityLimit, sev["botsin.space"], "federated_timeline_removal")
	require.Equal(t, model.SeverityLimit, sev["mstdn.jp"], "media_nsfw")
	require.Equal(t, model.SeverityLimit, sev["spinster.xyz"], "quarantined")

	got, err = parseMRFSimple(fixture(t, "akkoma/nodeinfo_2.1.json"))
	require.NoError(t, err)
	require.Empty(t, got, "an empty mrf_simple is an empty list")
	require.NotNil(t, got)

	doc := []byte(`{"metadata":{"federation":{
		"mrf_simple":{"reject":["Bad.Example","*.wild.example","10.0.0.1:80",""],"media_removal":"not a list","followers_only":["fo.example"]},
		"mrf_simple_info":{"reject":{"Bad.Example":{"reason":"<b>nazis</b>\nand spam"}},"followers_only":{"fo.example":{"reason":7}}},
		"quarantined_instances":["q.example"],
		"quarantined_instances_info":{"quarantined_instances":{"q.example":{"reason":"quarantine"}}}}}}`)
	got, err = parseMRFSimple(doc)
	require.NoError(t, err)
	require.Equal(t, &model.Blocks{Blocks: []model.DomainBlock{
		{Domain: "*.wild.example", Severity: model.SeveritySuspend, Source: model.BlockSourceMRFSimple},
		{Domain: "bad.example", Severity: model.SeveritySuspend, Reason: "nazis and spam", Source: model.BlockSourceMRFSimple},
		{Domain: "fo.example", Severity: model.SeverityLimit, Source: model.BlockSourceMRFSimple},
		{Domain: "q.example", Severity: model.SeverityLimit, Reason: "quarantine", Source: model.BlockSourceMRFSimple},
	}}, cleanBlocks(got))

	for _, doc := range []string{`{}`, `{"metadata":[]}`, `{"metadata":{"federation":{"enabled":true}}}`, `not json`} {
		got, err := parseMRFSimple([]byte(doc))
		require.NoError(t, err, doc)
		require.Nil(t, got, "no mrf_simple, no list: %s", doc)
	}
}

func TestCleanBlocksIsHostile(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	list := []model.DomainBlock{
		{Domain: "ok.example", Severity: model.SeveritySilence, Reason: "first", Digest: "NOT-HEX"},
		{Domain: "OK.example.", Severity: model.SeverityNoop, Reason: "weaker duplicate"},
		{Domain: string(long) + ".example", Severity: model.SeveritySuspend},
		{Domain: "bad domain.example", Severity: model.SeveritySuspend},
		{Domain: "x*<script>.example", Severity: model.SeveritySuspend},
		{Domain: "[::1", Severity: model.SeveritySuspend},
		{Domain: "[2001:DB8::1]", Severity: model.SeveritySuspend},
		{Domain: "r.example", Severity: model.SeveritySuspend, Reason: "<img src=x onerror=alert(1)>" + string(long) + string(long)},
	}
	b := cleanBlocks(list)
	require.Len(t, b.Blocks, 3)
	require.Equal(t, "2001:db8::1", b.Blocks[0].Domain)
	require.Equal(t, model.DomainBlock{Domain: "ok.example", Severity: model.SeveritySilence, Reason: "first"}, b.Blocks[1])
	require.Equal(t, "r.example", b.Blocks[2].Domain)
	require.NotContains(t, b.Blocks[2].Reason, "<img")
	require.LessOrEqual(t, len([]rune(b.Blocks[2].Reason)), maxBlockReason)

	many := make([]model.DomainBlock, maxBlocks+5)
	for i := range many {
		many[i] = model.DomainBlock{Domain: "h" + itoa(i) + ".example", Severity: model.SeveritySuspend}
	}
	b = cleanBlocks(many)
	require.True(t, b.Capped)
	require.Len(t, b.Blocks, maxBlocks)
	require.Equal(t, "", mastodonSeverity("banana"))
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// wantBlocks is what the crawler must read of an instance's truth: the
// served list where robots.txt lets it be read, else nothing.
func wantBlocks(it fedisim.InstanceTruth) []model.DomainBlock {
	if it.Blocks == nil {
		return nil
	}
	src := model.BlockSourceMastodon
	switch it.Software {
	case "pleroma", "akkoma":
		src = model.BlockSourceMRFSimple
	case "lemmy":
		if !it.PeersReadable() {
			return nil
		}
		src = model.BlockSourceLemmy
	default:
		if !it.Allows(blocksPath) {
			return nil
		}
	}
	var list []model.DomainBlock
	for _, b := range it.Blocks {
		list = append(list, model.DomainBlock{Domain: b.Domain, Severity: b.Severity, Reason: sanitize.PlainLine(b.Comment, maxBlockReason), Source: src})
	}
	return cleanBlocks(list).Blocks
}

// TestBlocksFromSimulator crawls a simulated fediverse and compares every
// stored instance's block list with what the simulator serves, and checks
// that only programs with a list were asked for one, within robots.txt.
func TestBlocksFromSimulator(t *testing.T) {
	sim := fedisim.New(fedisim.Options{Seed: 11, Instances: 150, NoHostile: true})
	sink := &docSink{visits: map[string]model.Visit{}}
	m := docSimManager(t, sim, sink)
	_, err := m.RunOnce(context.Background())
	require.NoError(t, err)

	census := sim.Truth().Census(sim.Seeds())
	lists := map[string]int{}
	for _, it := range census {
		v, ok := sink.visits[it.Host]
		require.True(t, ok, it.Host)
		require.NotNil(t, v.Snapshot, it.Host)
		want := wantBlocks(it)
		if want == nil {
			require.Nil(t, v.Blocks, it.Host)
			require.Nil(t, v.Snapshot.BlockCount, it.Host)
			continue
		}
		require.NotNil(t, v.Blocks, "%s (%s)", it.Host, it.Software)
		got := v.Blocks.Blocks
		for i := range got {
			got[i].Digest = "" // the simulator's digests are checked by the fixture test
		}
		require.Equal(t, want, got, it.Host)
		require.Equal(t, it.Host, v.Blocks.Host)
		require.Equal(t, v.State.LastAttempt, v.Blocks.CrawledAt)
		require.Equal(t, int64(len(want)), *v.Snapshot.BlockCount)
		if len(got) > 0 {
			lists[got[0].Source]++
		}
		if v.Peers != nil {
			require.Equal(t, int64(len(v.Peers.Peers)), *v.Snapshot.PeerCount, it.Host)
		}
	}
	for _, src := range []string{model.BlockSourceMastodon, model.BlockSourceMRFSimple, model.BlockSourceLemmy} {
		require.Positive(t, lists[src], "no non-empty list from %s: %v", src, lists)
	}
	for _, r := range sim.Requests() {
		if r.Path != blocksPath {
			continue
		}
		it, ok := sim.Truth().Instance(r.Host)
		require.True(t, ok)
		require.True(t, it.Allows(r.Path), "%s: domain_blocks fetched against robots.txt", r.Host)
		require.Contains(t, []string{"mastodon", "gotosocial"}, it.Software, r.Host)
	}
}
