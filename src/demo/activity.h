/* activity.h — a few months of an office's work on top of the demo cases.
 *
 * demo_activity_run replays, in time order, what the demo organisations would
 * have done over the last months: directory entries, referrals between them
 * (sent, accepted, declined, completed, cancelled, some left unanswered past
 * their deadline), the shelters of the Guayaquil shelter organisation with
 * stays and a waiting list, assistance records, identification decisions,
 * reintegration plans with monitoring visits, criminal proceedings after some
 * positive identifications (complaint to verdict), follow-up reminders,
 * trainings and hotline contacts.
 * Every record goes through the core's own functions, as a principal of the
 * organisation concerned, with the clock set to the moment of the action: it
 * is validated, consent-checked, sealed and audited like real work (the audit
 * trail keeps the real time of the load, as its timestamps never go back).
 * The same seed on the same cases gives the same activity. */
#ifndef AMPARO_DEMO_ACTIVITY_H
#define AMPARO_DEMO_ACTIVITY_H

#include "core/core.h"

/** What a run recorded. */
typedef struct {
    long directory;       /* directory entries */
    long referrals;       /* referrals sent */
    long refused_consent; /* referrals the core refused for lack of consent */
    long accepted, declined, completed, cancelled, unanswered;
    long shelters, admitted, discharged, waiting;
    long returns; /* completed returns home after a shelter stay */
    long assistance;
    long decisions;
    long plans, visits;
    long trainings;
    long contacts, contacts_to_cases;
    long proceedings, verdicts;     /* criminal proceedings opened, verdicts reached */
    long reminders, reminders_done; /* follow-up reminders set, and done */
} demo_activity_counts;

/** Records the activity into the core's data directory, which must hold the
 *  demo organisations and cases (`amparo demo --cases N`).  `today`
 *  ("YYYY-MM-DD") ends the simulated period; nothing is dated after it.
 *  Refuses (AMP_ESTATE) when the data already holds referrals or shelters, so
 *  a second run adds nothing.  Any refusal by the core other than the expected
 *  ones (consent, a full shelter) stops the run with that error in err.
 *  The clock (util/clock.h) is moved during the run and restored to real time
 *  at the end.  *counts (may be NULL) receives what was recorded. */
amp_code demo_activity_run(core *c, uint64_t seed, const char *today, demo_activity_counts *counts,
                           amp_err *err);

#endif
