package fedisim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// RateLimitRetryAfter is the Retry-After the ratelimit behaviour sends with
// its 429 answers.
const RateLimitRetryAfter = time.Second

// PolitenessRules are what a polite crawler must never break, checked by
// CheckPoliteness against the simulator's own request log.
type PolitenessRules struct {
	// Agent is the robots.txt product token of the crawler ("fedilens").
	Agent string
	// MinGap is the least time between the end of one request to a host
	// and the start of the next.
	MinGap time.Duration
	// Forbidden hosts must receive no request at all (denylisted or opted
	// out), nor TLS handshake.
	Forbidden []string
}

// Violation is one broken rule.
type Violation struct {
	Host   string
	Rule   string // "overlap", "gap", "robots", "robots_first", "retry_after", "forbidden", "trap"
	Detail string
}

func (v Violation) String() string { return v.Host + ": " + v.Rule + ": " + v.Detail }

// CheckPoliteness checks a request log (Requests) against the rules and the
// truth: no path that the host's robots.txt disallows was fetched, and
// robots.txt was read before anything else; never two requests in flight to
// one host; never a gap below MinGap; every Retry-After honoured; no request
// to a forbidden host; none to the trap address. It judges only with the
// simulator's own knowledge of what it served.
func (s *Sim) CheckPoliteness(reqs []Request, rules PolitenessRules) []Violation {
	if rules.Agent == "" {
		rules.Agent = AgentToken
	}
	var out []Violation
	forbidden := map[string]bool{}
	for _, h := range rules.Forbidden {
		forbidden[strings.ToLower(h)] = true
	}
	byHost := map[string][]Request{}
	for _, r := range reqs {
		if strings.HasPrefix(r.LocalAddr, TrapIP+":") {
			out = append(out, Violation{r.Host, "trap", fmt.Sprintf("%s %s reached %s", r.Method, r.Path, r.LocalAddr)})
		}
		if forbidden[r.Host] {
			out = append(out, Violation{r.Host, "forbidden", fmt.Sprintf("%s %s", r.Method, r.Path)})
		}
		byHost[r.Host] = append(byHost[r.Host], r)
	}
	truth := s.Truth()
	for host, rs := range byHost {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Start.Before(rs[j].Start) })
		in, known := truth.Instance(host)
		sawRobots := false
		for i, r := range rs {
			if i > 0 {
				prev := rs[i-1]
				if r.Start.Before(prev.End) {
					out = append(out, Violation{host, "overlap", fmt.Sprintf("%s %s began before %s %s ended", r.Method, r.Path, prev.Method, prev.Path)})
				} else if gap := r.Start.Sub(prev.End); gap < rules.MinGap {
					out = append(out, Violation{host, "gap", fmt.Sprintf("%s %s began %s after %s %s ended (minimum %s)", r.Method, r.Path, gap, prev.Method, prev.Path, rules.MinGap)})
				}
				if prev.Status == 429 && r.Start.Sub(prev.End) < RateLimitRetryAfter {
					out = append(out, Violation{host, "retry_after", fmt.Sprintf("%s %s began %s after a 429 with Retry-After %s", r.Method, r.Path, r.Start.Sub(prev.End), RateLimitRetryAfter)})
				}
			}
			if r.Method == "TLS" || !known {
				continue // no HTTP request was served: nothing for robots.txt to say
			}
			if r.Path == "/robots.txt" {
				sawRobots = true
				continue
			}
			if !sawRobots {
				out = append(out, Violation{host, "robots_first", fmt.Sprintf("%s %s before robots.txt", r.Method, r.Path)})
			}
			target := r.Path
			if r.RawQuery != "" {
				target += "?" + r.RawQuery
			}
			if !RobotsAllows(in.RobotsStatus, in.Robots, rules.Agent, target) {
				out = append(out, Violation{host, "robots", fmt.Sprintf("%s %s is disallowed by robots.txt (status %d)", r.Method, target, in.RobotsStatus)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}
