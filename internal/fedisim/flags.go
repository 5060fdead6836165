package fedisim

// The sanity flags the simulator's figures are meant to earn, spelled as
// internal/sanity stores them. The simulator does not import that package:
// the truth states what the generator intended to serve, so a crawler
// whose verdict is wrong fails the comparison instead of having its
// verdict copied into the expectation.
const (
	// FlagActiveAboveTotal is earned by stats_inconsistent instances, whose
	// activeHalfyear is served above their total (a suspect figure).
	FlagActiveAboveTotal = "active_above_total"
	// FlagSingleUser is earned by one-account instances (information only).
	FlagSingleUser = "single_user"
)

// setExpectedFlags records the flags in's served counts were generated to
// earn. Every other instance is generated consistent: 2 or more users,
// 1 <= activeHalfyear <= 58% of them, activeMonth at most 80% of
// activeHalfyear, posts >= 5, no count above 1.5 million users or 1.35
// billion posts, and users.total always served.
func setExpectedFlags(it *InstanceTruth, in *instance) {
	if in.has(bStatsInconsistent) {
		it.ExpectedFlags = append(it.ExpectedFlags, FlagActiveAboveTotal)
		it.SuspectFigures = true
	}
	if in.users <= 1 {
		it.ExpectedFlags = append(it.ExpectedFlags, FlagSingleUser)
	}
}

// CensusTotals are a census's headline figures, as a summary of the
// stored instances' latest snapshots gives them.
type CensusTotals struct {
	// Instances counted, and Flagged: instances with suspect figures
	// (counted in the other fields only by AllTotals).
	Instances, Flagged uint64
	// Sums of the served counts; absent counts add nothing.
	UsersTotal, UsersActiveMonth, UsersActiveHalfyear, LocalPosts int64
	// Softwares is the number of distinct software names.
	Softwares uint64
}

// CleanTotals are the clean headline figures of census (Truth.Census):
// every instance but those whose figures are suspect (SuspectFigures).
func CleanTotals(census []InstanceTruth) CensusTotals { return totals(census, false) }

// AllTotals are the headline figures of census with the suspect figures
// included, as a census asked to include flagged instances gives them.
func AllTotals(census []InstanceTruth) CensusTotals { return totals(census, true) }

func totals(census []InstanceTruth, includeSuspect bool) CensusTotals {
	var t CensusTotals
	software := map[string]bool{}
	add := func(sum *int64, v *int64) {
		if v != nil {
			*sum += *v
		}
	}
	for _, it := range census {
		if it.SuspectFigures {
			t.Flagged++
			if !includeSuspect {
				continue
			}
		}
		t.Instances++
		add(&t.UsersTotal, it.UsersTotal)
		add(&t.UsersActiveMonth, it.UsersActiveMonth)
		add(&t.UsersActiveHalfyear, it.UsersActiveHalfyear)
		add(&t.LocalPosts, it.LocalPosts)
		if it.Software != "" {
			software[it.Software] = true
		}
	}
	t.Softwares = uint64(len(software))
	return t
}
