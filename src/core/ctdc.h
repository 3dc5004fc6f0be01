/* ctdc.h — the CTDC global dataset export, k-anonymised.
 *
 * Writes the 63 variables of the Counter Trafficking Data Collaborative's global
 * k-anonymised dataset (../shared/data/ctdc/global_k_anon_dataset_layout.csv),
 * with the same names, order and codings: gender Female/Male/
 * Transgender/NonConforming/Unknown, ageBroad bins 0--8 … 48+, majority status,
 * ISO 3166-1 alpha-2 countries, 0/1 flags, "; "-joined label lists, Datasource.
 * A blank value means missing (or withheld), as in the k-anonymised files.
 *
 * Only cases whose consent allows statistical use are exported
 * (consent_allows(doc, CONSENT_STATISTICS, today), through the column cache).
 *
 * k-anonymity: every combination of quasi-identifier values in the file
 * (blank counting as a value of its own) is shared by at least k rows (default
 * ctdc_min_k()).  The CTDC codings have no coarser year or country, so it is
 * reached mostly by local suppression: a class smaller than k has some of
 * its quasi-identifiers blanked in its rows only, the set that loses the least
 * information (a value weighs the entropy of its variable) among those under
 * which the small classes agreeing on the rest reach k, repeated in rounds;
 * ageBroad is blanked before majorityStatus (which then still says
 * Minor/Adult), majorityEntry with majorityStatusAtExploit (it repeats it).
 * Then values are given back where the rows sharing one form a class of k
 * without leaving fewer than k behind.  Rows whose every quasi-identifier ends
 * blank stay in the file as one class if it holds k rows, else they are left
 * out.  A search over global generalisations per variable (none, blank values
 * held by fewer than k rows, blank the variable) starts from none and takes a
 * step only while it keeps more information or the rows left out exceed
 * `max_suppress` of the file.  The search works on distinct tuples, so the
 * cost is linear in the rows.
 *
 * A role without case access (report_is_controlled) cannot weaken this: k must
 * be at least ctdc_min_k() and the quasi-identifiers must include the default
 * ones (more may be added).  Roles with case access and the command line may
 * choose any k >= 2 and any set; the summary says which rule applied. */
#ifndef AMPARO_CTDC_H
#define AMPARO_CTDC_H

#include "core/core.h"

#include <stdio.h>

#define CTDC_NVARS 63
#define CTDC_DEFAULT_K 11
#define CTDC_MAX_QI 16

/** The variable names in file order. */
extern const char *const ctdc_variables[CTDC_NVARS];

/** The default quasi-identifiers (NULL-terminated). */
extern const char *const ctdc_default_qi[];

typedef struct {
    int k;                           /* >= 2; 0 means ctdc_min_k() */
    const char *qi;                  /* comma-separated variable names, or NULL for the default */
    double max_suppress;             /* fraction of rows that may be left out (default 0.02) */
    char delimiter;                  /* ';' (as the layout file) or ','; 0 means ';' */
    const char *year_from, *year_to; /* registration years to include ("2020"), or NULL */
    bool summary_only; /* compute and audit everything, write no line (the summary is the answer) */
} ctdc_options;

/** The minimum k for a role without case access, and the default k:
 *  AMPARO_CTDC_MIN_K (2 to 1000) or CTDC_DEFAULT_K. */
int ctdc_min_k(void);

/** Writes the dataset to out (header line, then one line per exported case).
 *  Needs ACT_EXPORT on RES_REPORT; audited as "export.ctdc".  *summary: {"k",
 *  "k_minimum", "policy", "quasi_identifiers", "rows",
 *  "rows_excluded_without_consent", "generalised": {variable: global level},
 *  "values_blanked": {variable: values blanked in the file},
 *  "values_kept": {variable: rows of the file with a value},
 *  "rows_with_values_blanked", "rows_locally_suppressed" (every
 *  quasi-identifier blanked), "rows_dropped", "smallest_class", "max_suppress"}
 *  (new reference).  Errors: AMP_EINVALID for an unknown quasi-identifier or a
 *  bad k (field "k" rule "range"), and for a role without case access a k
 *  below the minimum (field "k" rule "min") or a default quasi-identifier left
 *  out (field "qi" rule "required"); AMP_EINTERNAL on a write failure. */
amp_code ctdc_export(core *c, const principal *p, const ctdc_options *opt, FILE *out,
                     json_t **summary, amp_err *err);

#endif
