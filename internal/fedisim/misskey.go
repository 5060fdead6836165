package fedisim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxAPIBody bounds the JSON bodies the Misskey API reads.
const maxAPIBody = 64 << 10

// misskeyError writes Misskey's error envelope.
func misskeyError(w http.ResponseWriter, status int, message, code, id string) {
	writeJSON(w, status, encodeJSON(obj{{"error", obj{{"message", message}, {"code", code}, {"id", id}, {"kind", "client"}}}}, styleCompact), "")
}

// routeMisskeyAPI serves the Misskey family's POST API.
func (s *Sim) routeMisskeyAPI(w http.ResponseWriter, r *http.Request, in *instance) bool {
	switch r.URL.Path {
	case "/api/meta", "/api/federation/instances", "/api/notes/local-timeline",
		MisskeyUsersShowPath, MisskeyUsersNotesPath, MisskeyUsersPath:
	default:
		return false
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		misskeyError(w, http.StatusMethodNotAllowed, "Unsupported method.", "METHOD_NOT_ALLOWED", "f1a2b3c4-0000-4000-8000-000000000405")
		return true
	}
	params := map[string]json.RawMessage{}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAPIBody+1))
	switch {
	case err != nil:
		misskeyError(w, http.StatusBadRequest, "Could not read the request body.", "INVALID_PARAM", "3d81ceae-475f-4600-b2a8-2bc116157532")
		return true
	case len(body) > maxAPIBody:
		misskeyError(w, http.StatusRequestEntityTooLarge, "Request body too large.", "INVALID_PARAM", "3d81ceae-475f-4600-b2a8-2bc116157532")
		return true
	case len(strings.TrimSpace(string(body))) > 0:
		if err := json.Unmarshal(body, &params); err != nil {
			misskeyError(w, http.StatusBadRequest, "Invalid param.", "INVALID_PARAM", "3d81ceae-475f-4600-b2a8-2bc116157532")
			return true
		}
	}
	switch r.URL.Path {
	case "/api/meta":
		s.serveMisskeyMeta(w, in)
	case "/api/federation/instances":
		limit, offset, err := intParams(params, 30, 100)
		if err != nil {
			misskeyError(w, http.StatusBadRequest, "Invalid param.", "INVALID_PARAM", "3d81ceae-475f-4600-b2a8-2bc116157532")
			return true
		}
		s.serveMisskeyInstances(w, in, limit, offset)
	default:
		s.serveMisskeyNotesAPI(w, r.URL.Path, in, params)
	}
	return true
}

var errInvalidParam = errors.New("invalid param")

// intParams validates "limit" (1..max) and "offset" (>= 0) the way
// Misskey's schema validation does: out of range is an error, not clamped.
func intParams(p map[string]json.RawMessage, def, max int) (limit, offset int, err error) {
	limit = def
	if raw, ok := p["limit"]; ok {
		if json.Unmarshal(raw, &limit) != nil || limit < 1 || limit > max {
			return 0, 0, errInvalidParam
		}
	}
	if raw, ok := p["offset"]; ok {
		if json.Unmarshal(raw, &offset) != nil || offset < 0 {
			return 0, 0, errInvalidParam
		}
	}
	return limit, offset, nil
}

func (s *Sim) serveMisskeyMeta(w http.ResponseWriter, in *instance) {
	var name any = in.title
	if !in.nodeName {
		name = nil
	}
	writeJSON(w, http.StatusOK, encodeJSON(obj{
		{"maintainerName", "admin"}, {"maintainerEmail", "admin@" + in.host}, {"version", in.version},
		{"name", name}, {"shortName", nil}, {"uri", "https://" + in.host}, {"description", in.desc},
		{"langs", arr{}}, {"tosUrl", nil}, {"repositoryUrl", "https://github.com/misskey-dev/misskey"},
		{"feedbackUrl", "https://github.com/misskey-dev/misskey/issues/new"},
		{"disableRegistration", !in.openReg}, {"emailRequiredForSignup", true},
		{"enableHcaptcha", false}, {"hcaptchaSiteKey", nil}, {"enableRecaptcha", false}, {"recaptchaSiteKey", nil},
		{"swPublickey", nil}, {"themeColor", "#86b300"}, {"mascotImageUrl", "/assets/ai.png"},
		{"bannerUrl", nil}, {"iconUrl", nil}, {"maxNoteTextLength", 3000},
		{"ads", arr{}}, {"notesPerOneAd", 0}, {"enableEmail", true}, {"enableServiceWorker", false},
		{"translatorAvailable", false}, {"serverRules", arr{}}, {"policies", obj{{"ltlAvailable", true}, {"gtlAvailable", true}}},
		{"cacheRemoteFiles", false}, {"cacheRemoteSensitiveFiles", true}, {"requireSetup", false},
		{"proxyAccountName", "proxy"}, {"features", obj{{"registration", in.openReg}, {"localTimeline", true}, {"globalTimeline", true},
			{"hcaptcha", false}, {"recaptcha", false}, {"objectStorage", false}, {"serviceWorker", false}, {"miauth", true}}},
	}, styleCompact), "")
}

func (s *Sim) serveMisskeyInstances(w http.ResponseWriter, in *instance, limit, offset int) {
	out := arr{}
	old := in.kind == swMisskey && !versionAtLeast(in.version, 13, 0)
	for i := offset; i < len(in.peers) && i < offset+limit; i++ {
		ref := in.peers[i]
		host := s.world.peerName(ref)
		r := newRNG(s.world.seed, saltContent, uint64(in.idx), uint64(i), 11)
		seen := s.opts.Now.Add(-time.Duration(r.intn(700*24)) * time.Hour).Truncate(time.Second)
		o := obj{{"id", aid(seen, r)}}
		if old {
			o = append(o, kv{"caughtAt", seen.UTC().Format(timeMillis)})
		} else {
			o = append(o, kv{"firstRetrievedAt", seen.UTC().Format(timeMillis)})
		}
		o = append(o, kv{"host", host}, kv{"usersCount", r.intn(300)}, kv{"notesCount", r.intn(30000)},
			kv{"followingCount", r.intn(20)}, kv{"followersCount", r.intn(20)})
		if old {
			o = append(o, kv{"driveUsage", r.intn(1 << 30)}, kv{"driveFiles", r.intn(5000)},
				kv{"latestRequestSentAt", seen.UTC().Format(timeMillis)}, kv{"latestStatus", 200},
				kv{"lastCommunicatedAt", seen.UTC().Format(timeMillis)})
		}
		var target *instance
		if ref >= 0 {
			target = s.world.instances[ref]
		}
		o = append(o, kv{"isNotResponding", target == nil || target.has(bDown) || target.has(bHTTP503)},
			kv{"isSuspended", false})
		if !old {
			o = append(o, kv{"isBlocked", false}, kv{"isSilenced", false})
		}
		if target != nil {
			o = append(o, kv{"softwareName", strings.ToLower(target.prof().name)}, kv{"softwareVersion", target.version},
				kv{"openRegistrations", target.openReg}, kv{"name", target.title}, kv{"description", target.desc},
				kv{"maintainerName", nil}, kv{"maintainerEmail", nil},
				kv{"iconUrl", "https://" + target.host + "/favicon.ico"}, kv{"faviconUrl", "https://" + target.host + "/favicon.ico"},
				kv{"themeColor", nil}, kv{"infoUpdatedAt", seen.UTC().Format(timeMillis)})
		} else {
			o = append(o, kv{"softwareName", nil}, kv{"softwareVersion", nil}, kv{"openRegistrations", nil},
				kv{"name", nil}, kv{"description", nil}, kv{"maintainerName", nil}, kv{"maintainerEmail", nil},
				kv{"iconUrl", nil}, kv{"faviconUrl", nil}, kv{"themeColor", nil}, kv{"infoUpdatedAt", nil})
		}
		if !old {
			o = append(o, kv{"latestRequestReceivedAt", seen.UTC().Format(timeMillis)})
		}
		out = append(out, o)
	}
	writeJSON(w, http.StatusOK, encodeJSON(out, styleCompact), "")
}

// misskeyVisibility maps the sim's visibilities to Misskey's names.
func misskeyVisibility(v string) string {
	switch v {
	case "unlisted":
		return "home"
	case "private":
		return "followers"
	case "direct":
		return "specified"
	}
	return "public"
}

func (s *Sim) misskeyUser(in *instance, a *account) obj {
	return obj{{"id", a.id}, {"name", a.displayName}, {"username", a.username}, {"host", nil},
		{"avatarUrl", "https://" + in.host + "/identicon/" + a.id}, {"avatarBlurhash", nil},
		{"isBot", a.bot}, {"isCat", false}, {"emojis", obj{}}, {"onlineStatus", "unknown"}, {"badgeRoles", arr{}}}
}
