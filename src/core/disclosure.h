/* disclosure.h — statistical disclosure control of aggregate tables.
 *
 * Every table of counts that leaves the system for a role without case access,
 * and every published file, goes through here:
 *   1. optionally, differentially private noise (Laplace or two-sided geometric)
 *      with a stated ε for the whole release, spent from a per-dataset budget
 *      kept in a ledger (generic records of kind "dp_ledger");
 *   2. primary suppression: every cell (margins included) with 1 ≤ count <
 *      threshold is withheld (default threshold 10);
 *   3. secondary suppression by an exact audit: every additive relation that
 *      holds in the table being published (along each dimension, at every
 *      level of the margins, the categories of a line add up to its total) is
 *      a linear equation in the withheld cells; a withheld cell is determined
 *      when its unit vector lies in the row space of those equations (Gaussian
 *      elimination to reduced row echelon form, modulo a 61-bit prime, per
 *      connected component of withheld cells).  While a withheld cell is
 *      determined, one more shown cell on one of its lines is withheld (an
 *      inner cell before a margin, then the smallest count) and the table is
 *      audited again.  A component of more than DC_AUDIT_MAX_UNKNOWNS withheld
 *      cells is not eliminated: every shown non-zero cell on the lines it
 *      reaches is withheld instead (then all its values can be scaled together,
 *      so none is determined) — a table is never published unaudited;
 *   4. optionally, rounding of every shown count to a multiple of a base.
 * A withheld cell is reported as suppressed (null), never as 0.
 *
 * Tables are cubes with margins: dimension d has n_d categories plus one more
 * index, n_d, for its total; the cell array is laid out with dimension 0 the
 * slowest.  A count of 0 is a true zero (shown). */
#ifndef AMPARO_DISCLOSURE_H
#define AMPARO_DISCLOSURE_H

#include "core/authz.h"
#include "core/result.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct core core;

#define DC_MAX_DIMS 4
#define DC_DEFAULT_THRESHOLD 10
#define DC_MAX_CELLS 4000000u
#define DC_DEFAULT_BUDGET 10.0
/* the largest set of linked withheld cells solved exactly (see 3. above) */
#define DC_AUDIT_MAX_UNKNOWNS 1500

typedef enum { DP_NONE, DP_LAPLACE, DP_GEOMETRIC } dp_mechanism;

typedef struct {
    int threshold; /* 0 or 1: no threshold suppression */
    int rounding;  /* base of rounding; 0 or 1: none */
    dp_mechanism mechanism;
    double epsilon;     /* > 0 with a mechanism */
    double sensitivity; /* L1 sensitivity of the whole table (computed by the caller) */
} disclosure_opts;

/** The state of a cell after control. */
enum { DC_SHOWN = 0, DC_PRIMARY = 1, DC_SECONDARY = 2 };

typedef struct {
    int ndims;
    size_t size[DC_MAX_DIMS]; /* categories per dimension, not counting the total */
    size_t ncells;            /* prod(size[d] + 1) */
    int64_t *count;           /* ncells; the published value once controlled */
    uint8_t *status;          /* ncells: DC_* */
} dc_table;

/** Allocates a zeroed table of ndims (1..DC_MAX_DIMS) with the given sizes.
 *  AMP_OK, AMP_ETOOBIG when it would exceed DC_MAX_CELLS, AMP_EINTERNAL. */
amp_code dc_table_init(dc_table *t, int ndims, const size_t *size, amp_err *err);
void dc_table_release(dc_table *t);

/** The linear index of coordinates idx[ndims] (idx[d] == size[d]: the total). */
size_t dc_index(const dc_table *t, const size_t *idx);

/** Applies noise, suppression and rounding as opts says (in that order).
 *  Returns the number of withheld cells. */
size_t disclosure_apply(dc_table *t, const disclosure_opts *opts);

/** Threshold and secondary suppression alone (exposed for tests). */
size_t disclosure_suppress(dc_table *t, int threshold);

/** A describing object {"threshold", "rounding", "suppressed_primary",
 *  "suppressed_secondary", "dp": {...} | null} for the answer (new reference). */
json_t *disclosure_describe(const dc_table *t, const disclosure_opts *opts);

/** One draw of Laplace noise of scale b, and of two-sided geometric noise with
 *  parameter alpha = exp(-ε/Δ) (cryptographic randomness, libsodium). */
double disclosure_laplace(double b);
int64_t disclosure_geometric(double alpha);

/** True for an administrator of the privacy ledger: the CLI (internal) or a
 *  system administrator. */
bool disclosure_is_admin(const principal *p);

/** Defines a dataset of the privacy ledger with the given budget, or changes
 *  the budget of an existing one (what was spent stays).  An administrator
 *  only (AMP_EFORBIDDEN otherwise); AMP_EINVALID for a bad name ("dataset",
 *  "pattern") or budget outside (0, 1000] ("budget", "range").  Audited. */
amp_code disclosure_ledger_define(core *c, const principal *p, const char *dataset, double budget,
                                  amp_err *err);

/** Spends epsilon from the budget stored for the dataset, atomically with the
 *  check; a spend never changes the budget.  A dataset not defined yet is
 *  created with DC_DEFAULT_BUDGET only when it is the default one of the
 *  release (is_default: the entity's own dataset) or the caller is an
 *  administrator; otherwise AMP_EINVALID ("dataset", "defined").  AMP_OK and
 *  *spent the dataset's total after the spend; AMP_ESTATE when the budget would
 *  be exceeded (nothing spent); AMP_EINVALID for a bad dataset name (1–32 of
 *  [A-Za-z0-9_.-]) or epsilon.  `release` describes the release (no identity
 *  values). */
amp_code disclosure_ledger_spend(core *c, const principal *p, const char *dataset, bool is_default,
                                 double epsilon, const char *release, double *spent, amp_err *err);

/** The ledger of a dataset: {"dataset","defined","budget","spent","releases":
 *  [{at, actor, epsilon, release}]} (new reference; defined false, spent 0 and no
 *  releases when the dataset does not exist). */
amp_code disclosure_ledger_get(core *c, const principal *p, const char *dataset, json_t **out,
                               amp_err *err);

#endif
