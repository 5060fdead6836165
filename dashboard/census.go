package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// The census pages beside the overview: software and versions,
// registrations and languages. Each reads its filters from the URL with
// stats.ParseQuery, and every chart links the API query behind it.

// registerCensus mounts the census pages.
func (d *Dashboard) registerCensus(mux *http.ServeMux) {
	mux.Handle("GET /software", d.page(d.softwarePage))
	mux.Handle("GET /registrations", d.page(d.registrationsPage))
	mux.Handle("GET /languages", d.page(d.languagesPage))
	mux.Handle("GET /datasets", d.page(d.datasetsPage))
}

// versionView is the versions of one chosen software.
type versionView struct {
	Software string
	Share    figure
	OverTime figure
}

type softwareData struct {
	Form     filterForm
	Share    figure
	OverTime figure
	Versions []versionView
	// Dropped is how many chosen softwares past versionSoftwares are not
	// shown.
	Dropped int
}

// softwarePage is software share and, for the softwares chosen with
// ?software=, their version share. The software parameter picks the
// version charts here instead of filtering the share charts, which
// always compare every software (under the other filters).
func (d *Dashboard) softwarePage(r *http.Request) (pageResult, error) {
	l, err := d.statsLoader(r)
	if err != nil {
		return pageResult{}, err
	}
	q := l.q
	chosen := q.Software
	data := softwareData{Form: newFilterForm("/software", q, true)}
	if len(chosen) > versionSoftwares {
		chosen, data.Dropped = chosen[:versionSoftwares], len(chosen)-versionSoftwares
	}
	all := q
	all.Software = nil

	var (
		shares   stats.Shares
		overTime []stats.Shares
		vShares  = make([]stats.Shares, len(chosen))
		vOver    = make([][]stats.Shares, len(chosen))
	)
	la := l.with(all)
	load(la, &shares, "get software share", d.stats.SoftwareShare)
	load(la, &overTime, "get software share over time", d.stats.SoftwareShareOverTime)
	for i, sw := range chosen {
		load(la, &vShares[i], "get version share of "+sw, func(ctx context.Context, q stats.Query) (stats.Shares, error) {
			return d.stats.VersionShare(ctx, q, sw)
		})
		load(la, &vOver[i], "get version share over time of "+sw, func(ctx context.Context, q stats.Query) ([]stats.Shares, error) {
			return d.stats.VersionShareOverTime(ctx, q, sw)
		})
	}
	if err := l.wait(); err != nil {
		return pageResult{}, err
	}

	data.Share, err = d.shareFigure(shares, shareSpec{
		id: "software", heading: "Software share", keyHead: "Software",
		hint:  "Instances by the software they run, and the accounts and monthly active users on them. Choose a software for its versions.",
		label: softwareLabel,
		// Choosing a software keeps the other filters.
		path:    func(k string) string { return softwarePath(k, all) },
		charts:  []measure{byInstances, byAccounts, byActive},
		top:     barsShown,
		apiPath: withQuery(apiSoftware, all),
		empty:   "No instance in this range.",
	})
	if err != nil {
		return pageResult{}, err
	}
	data.OverTime, err = d.overTimeFigure(overTime, overTimeSpec{
		id: "software-over-time", heading: "Software over time", keyHead: "Software",
		hint:    "Instances per software on the last day with data of each period.",
		label:   softwareLabel,
		apiPath: withQuery(apiSoftwareOverTime, all),
		empty:   "No day in this range has data.",
	})
	if err != nil {
		return pageResult{}, err
	}
	for i, sw := range chosen {
		v := versionView{Software: sw}
		api := apiVersions + url.PathEscape(sw)
		v.Share, err = d.shareFigure(vShares[i], shareSpec{
			id: "versions-" + idPart(i), heading: "Versions of " + sw, keyHead: "Version",
			hint:    "Instances of " + sw + " by the version they run, weighed also by accounts and monthly active users.",
			label:   versionLabel,
			path:    func(string) string { return "" },
			charts:  []measure{byInstances, byActive},
			top:     barsShown,
			apiPath: withQuery(api, all),
			empty:   "No instance of " + sw + " in this range.",
		})
		if err != nil {
			return pageResult{}, err
		}
		v.OverTime, err = d.overTimeFigure(vOver[i], overTimeSpec{
			id: "versions-over-time-" + idPart(i), heading: "Versions of " + sw + " over time", keyHead: "Version",
			hint:    "Instances of " + sw + " per version on the last day with data of each period: upgrades move them between bands.",
			label:   versionLabel,
			apiPath: withQuery(api+"/over-time", all),
			empty:   "No instance of " + sw + " in this range.",
		})
		if err != nil {
			return pageResult{}, err
		}
		data.Versions = append(data.Versions, v)
	}
	return pageResult{name: "software", title: "Software and versions", data: data, charts: true}, nil
}

// idPart numbers the chosen softwares' figures: their names are remote
// strings, never part of a DOM id.
func idPart(i int) string { return string(rune('a' + i)) }

// versionLabel shows an unknown version as such.
func versionLabel(v string) string {
	if strings.TrimSpace(v) == "" {
		return "(unknown)"
	}
	return clip(60, v)
}

type registrationsData struct {
	Form       filterForm
	OverTime   figure
	BySoftware figure
}

// registrationsPage is open versus closed registrations, over time and
// by software.
func (d *Dashboard) registrationsPage(r *http.Request) (pageResult, error) {
	l, err := d.statsLoader(r)
	if err != nil {
		return pageResult{}, err
	}
	q := l.q
	var (
		pts []stats.RegistrationsPoint
		by  stats.RegistrationsAt
	)
	load(l, &pts, "get registrations", d.stats.Registrations)
	load(l, &by, "get registrations by software", d.stats.RegistrationsBySoftware)
	if err := l.wait(); err != nil {
		return pageResult{}, err
	}
	data := registrationsData{Form: newFilterForm("/registrations", q, true)}

	data.OverTime = figure{
		ID: "registrations", Heading: "Open and closed registrations",
		Hint:    "Instances whose NodeInfo says registrations are open, and those that say they are closed, on the last day with data of each period.",
		APIPath: withQuery(apiRegistrations, q),
		Table: tableView{Caption: "Table: open and closed registrations per period", Empty: "No day in this range has data.",
			Head: []column{{Label: "Period"}, {Label: "Open", Num: true}, {Label: "Closed", Num: true}, {Label: "Open share", Num: true}}},
	}
	labels := make([]string, len(pts))
	open, closed := make([]*int64, len(pts)), make([]*int64, len(pts))
	for i, p := range pts {
		labels[i] = dayLabel(p.Period)
		open[i], closed[i] = model.Int64(p.Open), model.Int64(p.Closed)
		data.OverTime.Table.Rows = append(data.OverTime.Table.Rows, []cell{textCell(labels[i]), numCell(p.Open),
			numCell(p.Closed), pctCell(share(p.Open, p.Open+p.Closed))})
	}
	if d.chartsReady && len(pts) > 0 {
		c, err := lineChart("registrations-chart", "Open and closed registrations", labels,
			lineSeries{name: "Open", values: open}, lineSeries{name: "Closed", values: closed})
		if err != nil {
			return pageResult{}, err
		}
		data.OverTime.Charts = []chartView{c}
	}

	data.BySoftware = figure{
		ID: "registrations-by-software", Heading: "Registrations by software",
		Hint:    "Open and closed instances of each software.",
		APIPath: withQuery(apiRegistrationsByProg, q),
		Table: tableView{Caption: "Table: registrations by software", Empty: "No instance in this range.",
			Head: []column{{Label: "Software"}, {Label: "Open", Num: true}, {Label: "Closed", Num: true}, {Label: "Open share", Num: true}}},
	}
	if !by.Day.IsZero() {
		data.BySoftware.Hint += " On " + dayLabel(by.Day) + "."
	}
	rows := by.Software
	var rest stats.SoftwareRegistrations
	others := 0
	if len(rows) > barsShown {
		for _, s := range rows[barsShown:] {
			rest.Open += s.Open
			rest.Closed += s.Closed
		}
		others = len(rows) - barsShown
		rows = rows[:barsShown]
	}
	var names []string
	var openN, closedN []int64
	for _, s := range rows {
		names = append(names, softwareLabel(s.Software))
		openN, closedN = append(openN, s.Open), append(closedN, s.Closed)
		data.BySoftware.Table.Rows = append(data.BySoftware.Table.Rows, []cell{linkCell(softwareLabel(s.Software), softwarePath(s.Software, q)),
			numCell(s.Open), numCell(s.Closed), pctCell(share(s.Open, s.Open+s.Closed))})
	}
	if others > 0 {
		names = append(names, othersLabel(others))
		openN, closedN = append(openN, rest.Open), append(closedN, rest.Closed)
		data.BySoftware.Table.Rows = append(data.BySoftware.Table.Rows, []cell{textCell(othersLabel(others)),
			numCell(rest.Open), numCell(rest.Closed), pctCell(share(rest.Open, rest.Open+rest.Closed))})
	}
	if d.chartsReady && len(names) > 0 {
		c, err := barsChart("registrations-by-software-chart", "Registrations by software", names, true, true,
			barSeries{name: "Open", values: openN}, barSeries{name: "Closed", values: closedN})
		if err != nil {
			return pageResult{}, err
		}
		data.BySoftware.Charts = []chartView{c}
	}
	return pageResult{name: "registrations", title: "Registrations", data: data, charts: true}, nil
}

type languagesData struct {
	Form      filterForm
	Languages figure
}

// languagesPage is the languages instances list in their instance
// document, with links that filter the overview by one of them.
func (d *Dashboard) languagesPage(r *http.Request) (pageResult, error) {
	l, err := d.statsLoader(r)
	if err != nil {
		return pageResult{}, err
	}
	q := l.q
	var langs stats.Shares
	load(l, &langs, "get languages", d.stats.Languages)
	if err := l.wait(); err != nil {
		return pageResult{}, err
	}
	data := languagesData{Form: newFilterForm("/languages", q, false)}
	data.Languages, err = d.shareFigure(langs, shareSpec{
		id: "languages", heading: "Languages", keyHead: "Language",
		hint: "The languages instances list in their own instance document. An instance counts once for each language it lists, " +
			"so the rows add up to more than the census; “none listed” are the instances that list none or publish no such document. " +
			"Choose a language to see the census of its instances.",
		label: func(k string) string {
			if k == "" {
				return "(none listed)"
			}
			return clip(40, k)
		},
		path: func(k string) string {
			if !queryName(k) {
				return ""
			}
			lq := q
			lq.Language = k
			return withQuery("/", lq)
		},
		charts:    []measure{byInstances, byActive},
		top:       languagesShown,
		noPercent: true,
		apiPath:   withQuery(apiLanguages, q),
		empty:     "No instance in this range.",
	})
	if err != nil {
		return pageResult{}, err
	}
	return pageResult{name: "languages", title: "Languages", data: data, charts: true}, nil
}

// datasetsPage says what the datasets page will offer; nothing is
// published yet, so it links nothing that does not exist.
func (d *Dashboard) datasetsPage(*http.Request) (pageResult, error) {
	return pageResult{name: "datasets", title: "Datasets"}, nil
}
