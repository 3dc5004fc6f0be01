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
 * k-anonymity: every combination of quasi-identifier values in the file is
 * shared by at least k rows (default 11).  It is reached by global
 * generalisation, one quasi-identifier and one level at a time (level 1 blanks
 * the values held by fewer than k cases in the whole file, level 2 blanks the
 * variable), always the one with the most distinct values, until at most
 * `max_suppress` of the rows sit in classes smaller than k; those rows then
 * have their quasi-identifiers blanked (local suppression), and if the rows
 * so blanked are fewer than k they are left out of the file.  The summary says
 * which variables were generalised, how many values and rows were suppressed. */
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
    int k;               /* >= 2; 0 means CTDC_DEFAULT_K */
    const char *qi;      /* comma-separated variable names, or NULL for the default */
    double max_suppress; /* fraction of rows locally suppressed at most (default 0.02) */
    char delimiter;      /* ';' (as the layout file) or ','; 0 means ';' */
    const char *year_from, *year_to; /* registration years to include ("2020"), or NULL */
} ctdc_options;

/** Writes the dataset to out (header line, then one line per exported case).
 *  Needs ACT_EXPORT on RES_REPORT; audited as "export.ctdc".  *summary: {"k",
 *  "quasi_identifiers", "rows", "rows_excluded_without_consent",
 *  "generalised": {variable: level}, "values_blanked": {variable: n},
 *  "rows_locally_suppressed", "rows_dropped", "smallest_class"} (new
 *  reference).  Errors: AMP_EINVALID for an unknown quasi-identifier or a bad
 *  k (naming the option), AMP_EINTERNAL on a write failure. */
amp_code ctdc_export(core *c, const principal *p, const ctdc_options *opt, FILE *out,
                     json_t **summary, amp_err *err);

#endif
