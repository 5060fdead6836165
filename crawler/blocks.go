package crawler

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
)

// Limits on public domain-block lists. The largest real lists have a few
// thousand entries; a list past maxBlocks is cut and marked Capped.
const (
	maxBlocksBody   = 16 << 20
	maxBlocks       = 100_000
	maxBlockReason  = 500 // runes of a public reason
	maxBlockDomain  = 253
	blocksPath      = "/api/v1/instance/domain_blocks"
	digestHexLength = 64
)

// blockSource is where a family of server software publishes its
// domain blocks, when an admin makes them public.
type blockSource int

const (
	blocksNone     blockSource = iota
	blocksMastodon             // GET /api/v1/instance/domain_blocks
	blocksMRF                  // NodeInfo metadata.federation.mrf_simple
	blocksLemmy                // /api/v3/federated_instances "blocked", read with the peers
)

// blockSources maps NodeInfo software names to their block list. Only
// these are asked: a program without the endpoint is never sent the
// request.
var blockSources = map[string]blockSource{
	"mastodon": blocksMastodon, "hometown": blocksMastodon, "glitch": blocksMastodon, "glitchsoc": blocksMastodon,
	"gotosocial": blocksMastodon,
	"pleroma":    blocksMRF, "akkoma": blocksMRF,
	"lemmy": blocksLemmy,
}

// severityRank orders severities so that a domain listed twice keeps the
// harshest entry.
var severityRank = map[string]int{model.SeverityNoop: 0, model.SeverityLimit: 1, model.SeveritySilence: 2, model.SeveritySuspend: 3}

// readBlocks reads the host's public domain-block list, where its program
// publishes one. It returns nil without error when there is none to read:
// the program has no list, the admin does not publish it (404, 401, 403,
// 410), robots.txt disallows it, or (Pleroma, Lemmy) the document that
// carries it was not read in this visit.
func (hc *hostCrawl) readBlocks(ctx context.Context, software string) (*model.Blocks, error) {
	var (
		list []model.DomainBlock
		err  error
	)
	switch blockSources[software] {
	case blocksMastodon:
		list, err = hc.fetchMastodonBlocks(ctx)
	case blocksMRF:
		if hc.nodeInfoBody == nil {
			return nil, nil
		}
		list, err = parseMRFSimple(hc.nodeInfoBody)
	case blocksLemmy:
		if hc.lemmyBlocked == nil {
			return nil, nil
		}
		list = []model.DomainBlock{}
		for _, d := range *hc.lemmyBlocked {
			list = append(list, model.DomainBlock{Domain: d, Severity: model.SeveritySuspend, Source: model.BlockSourceLemmy})
		}
	default:
		return nil, nil
	}
	if err != nil || list == nil {
		return nil, err
	}
	b := cleanBlocks(list)
	b.Host = hc.host
	return b, nil
}

// fetchMastodonBlocks reads Mastodon's (and GoToSocial's) public list; nil
// without error where it is not public to anonymous readers.
func (hc *hostCrawl) fetchMastodonBlocks(ctx context.Context) ([]model.DomainBlock, error) {
	resp, err := hc.get(ctx, fetchRequest{URL: hc.url(blocksPath), Accept: "application/json", MaxBody: maxBlocksBody})
	if errors.Is(err, errRobots) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := okStatus(resp); err != nil {
		if errors.Is(err, errRefused) {
			return nil, nil
		}
		return nil, err
	}
	var raw []struct {
		Domain   string `json:"domain"`
		Digest   string `json:"digest"`
		Severity string `json:"severity"`
		Comment  string `json:"comment"`
	}
	if err := decodeJSON(resp.Body, &raw); err != nil {
		return nil, fmt.Errorf("%w: domain_blocks is not an array of blocks: %v", errMalformed, err)
	}
	out := make([]model.DomainBlock, 0, min(len(raw), maxBlocks+1))
	for _, r := range raw {
		sev := mastodonSeverity(r.Severity)
		if sev == "" {
			continue
		}
		out = append(out, model.DomainBlock{Domain: r.Domain, Digest: r.Digest, Severity: sev, Reason: r.Comment, Source: model.BlockSourceMastodon})
	}
	return out, nil
}

// mastodonSeverity maps Mastodon's severities; "" for one it does not
// know, whose entry is dropped rather than guessed.
func mastodonSeverity(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "suspend":
		return model.SeveritySuspend
	case "silence", "limit": // "limit" is what the admin interface calls silence
		return model.SeveritySilence
	case "noop":
		return model.SeverityNoop
	}
	return ""
}

// mrfActions maps Pleroma's MRF SimplePolicy lists to severities. reject
// is a suspension; the others restrict media, timelines or delivery.
var mrfActions = []struct{ key, severity string }{
	{"reject", model.SeveritySuspend},
	{"media_removal", model.SeverityLimit},
	{"federated_timeline_removal", model.SeverityLimit},
	{"followers_only", model.SeverityLimit},
	{"media_nsfw", model.SeverityLimit},
}

// parseMRFSimple reads the domain blocks a Pleroma or Akkoma NodeInfo
// document publishes in metadata.federation: mrf_simple (with reasons
// from mrf_simple_info) and quarantined_instances (with
// quarantined_instances_info). It returns nil where the document has no
// mrf_simple (the admin hides it with transparency off). Lists of the
// wrong shape are skipped, not fatal: the rest of NodeInfo was good.
func parseMRFSimple(nodeinfo []byte) ([]model.DomainBlock, error) {
	var doc struct {
		Metadata struct {
			Federation struct {
				MRFSimple       map[string]json.RawMessage `json:"mrf_simple"`
				MRFSimpleInfo   map[string]json.RawMessage `json:"mrf_simple_info"`
				Quarantined     json.RawMessage            `json:"quarantined_instances"`
				QuarantinedInfo map[string]json.RawMessage `json:"quarantined_instances_info"`
			} `json:"federation"`
		} `json:"metadata"`
	}
	if err := decodeJSONPartial(nodeinfo, &doc); err != nil && doc.Metadata.Federation.MRFSimple == nil {
		return nil, nil
	}
	fed := doc.Metadata.Federation
	if fed.MRFSimple == nil {
		return nil, nil
	}
	out := []model.DomainBlock{}
	add := func(list json.RawMessage, info json.RawMessage, severity string) {
		var domains []string
		if decodeJSON(list, &domains) != nil {
			return
		}
		var reasons map[string]struct {
			Reason string `json:"reason"`
		}
		if info != nil {
			_ = decodeJSONPartial(info, &reasons)
		}
		for _, d := range domains {
			out = append(out, model.DomainBlock{Domain: d, Severity: severity, Reason: reasons[d].Reason, Source: model.BlockSourceMRFSimple})
			if len(out) > maxBlocks {
				return
			}
		}
	}
	for _, a := range mrfActions {
		if list, ok := fed.MRFSimple[a.key]; ok {
			add(list, fed.MRFSimpleInfo[a.key], a.severity)
		}
	}
	if fed.Quarantined != nil {
		add(fed.Quarantined, fed.QuarantinedInfo["quarantined_instances"], model.SeverityLimit)
	}
	return out, nil
}

// cleanBlocks makes a served list safe to store: domains lower-cased and
// checked (host names normalised, IP addresses canonical; wildcard and
// '*'-obfuscated names kept as served when made of host-name characters), reasons reduced to one
// line of plain text, digests kept only when they are SHA-256 hex, one
// entry per domain (the harshest), sorted by domain, at most maxBlocks.
func cleanBlocks(list []model.DomainBlock) *model.Blocks {
	byDomain := make(map[string]model.DomainBlock, len(list))
	for _, b := range list {
		d, ok := blockDomain(b.Domain)
		if !ok {
			continue
		}
		b.Domain = d
		b.Reason = sanitize.PlainLine(b.Reason, maxBlockReason)
		b.Digest = strings.ToLower(strings.TrimSpace(b.Digest))
		if len(b.Digest) != digestHexLength {
			b.Digest = ""
		} else if _, err := hex.DecodeString(b.Digest); err != nil {
			b.Digest = ""
		}
		if old, dup := byDomain[d]; dup && severityRank[old.Severity] >= severityRank[b.Severity] {
			continue
		}
		byDomain[d] = b
	}
	out := &model.Blocks{Blocks: make([]model.DomainBlock, 0, len(byDomain))}
	for _, b := range byDomain {
		out.Blocks = append(out.Blocks, b)
	}
	sort.Slice(out.Blocks, func(i, j int) bool { return out.Blocks[i].Domain < out.Blocks[j].Domain })
	if len(out.Blocks) > maxBlocks {
		out.Blocks, out.Capped = out.Blocks[:maxBlocks], true
	}
	return out
}

// blockDomain checks and normalises one listed domain.
func blockDomain(raw string) (string, bool) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(raw)), ".")
	if d == "" || len(d) > maxBlockDomain {
		return "", false
	}
	if strings.Contains(d, "*") {
		for i := 0; i < len(d); i++ {
			c := d[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '*') {
				return "", false
			}
		}
		return d, true
	}
	bare := d
	if strings.HasPrefix(d, "[") && strings.HasSuffix(d, "]") {
		bare = d[1 : len(d)-1]
	}
	if ip, err := netip.ParseAddr(bare); err == nil {
		return ip.String(), true // admins block IP addresses too
	}
	h, err := hostname.Normalize(d)
	if err != nil || strings.Contains(h, ":") {
		return "", false
	}
	return h, true
}

// visitBlocks reads the host's public block list into the visit and the
// snapshot's BlockCount. A failure is noted in the state's reason; it
// never fails the visit.
func (hc *hostCrawl) visitBlocks(ctx context.Context, st *model.HostState, snap *model.Snapshot) {
	b, err := hc.readBlocks(ctx, snap.Software)
	if err != nil {
		if ctx.Err() == nil {
			if st.Reason != "" {
				st.Reason += "; "
			}
			st.Reason += "blocks: " + errText(err)
		}
		return
	}
	if b == nil {
		return
	}
	b.CrawledAt = st.LastAttempt
	n := int64(len(b.Blocks))
	snap.BlockCount = &n
	hc.out.Blocks = b
	if b.Capped {
		hc.m.log.Info("domain-block list cut", "host", hc.host, "kept", len(b.Blocks))
	}
}
