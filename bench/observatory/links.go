package main

import (
	"context"
	"errors"

	"github.com/fedilens/fedilens/internal/graph"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// linkStatistics lists the federation statistics of internal/stats and
// the graph of internal/graph, as the /blocks and /graph pages and their
// API endpoints call them; host is the instance whose ego graph is laid
// out.
func linkStatistics(host string) []statistic {
	const n = 20 // the pages' and the API's default ranking size
	watched := stats.DefaultWatchedDomains
	return []statistic{
		{name: "peer degree distribution", from: "in-degree summary", run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			d, err := s.Degrees(ctx, q)
			return len(d.In.Histogram) + len(d.Out.Histogram), err
		}},
		{name: "most-peered hosts (20)", from: "in-degree summary", run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			h, err := s.MostPeered(ctx, q, n)
			return len(h.Hosts), err
		}},
		{name: "most-blocked domains (20)", from: "block summary", run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			d, err := s.MostBlocked(ctx, q, n)
			return len(d.Domains), err
		}},
		{name: "block reasons (20)", from: "block summary", run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			r, err := s.BlockReasons(ctx, q, n)
			return len(r.Reasons), err
		}},
		{name: "Threads view over time", from: "watched-domain summary", run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			w, err := s.ThreadsOverTime(ctx, q, watched)
			points := 0
			for _, ser := range w {
				points += len(ser.Points)
			}
			return points, err
		}},
		{name: "Threads view by software", from: "block events of the day", run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			w, err := s.ThreadsBySoftware(ctx, q, watched)
			points := 0
			for _, at := range w {
				points += len(at.BySoftware)
			}
			return points, err
		}},
		// A new Graphs each run: the layout is computed, not read from
		// the cache that serves all but one request per refresh.
		{name: "federation graph, top 100, laid out", from: "in-degree summary, peer events", plain: true, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			g, err := graph.New(s, graph.Options{}).Top(ctx, 100)
			return len(g.Nodes), err
		}},
		{name: "ego graph (50 neighbours), laid out", from: "peer events of the host", plain: true, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			g, err := graph.New(s, graph.Options{}).Around(ctx, host, 50)
			if errors.Is(err, model.ErrNotFound) {
				return 0, nil
			}
			return len(g.Nodes), err
		}},
	}
}
