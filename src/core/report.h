/* report.h — the report engine: counts, sums and means of an entity by up to
 * four categorical dimensions, with filters, under disclosure control.
 *
 * Entities: "cases" (from the column cache: registration date, gender, ages,
 * citizenship, the route of its events, exploitation, control, industry…) and
 * generic records by kind ("assistance", "referral", "stay", "visit",
 * "hotline_contact", "training", "return", "proceeding"), each declared in a table
 * in report.c whose dimensions name the JSON field they read — wiring a new kind
 * is a table entry.
 *
 * Who sees what: a principal with case access (authz_has_case_access) gets the
 * figures of its own organisation's records, unmodified unless it asks for
 * publication (publish=true); any other principal (analysts, coordinators'
 * exports…) gets figures over every organisation, restricted to cases whose
 * consent allows statistics, always under disclosure control (threshold
 * suppression with secondary suppression, optional rounding and DP noise; see
 * disclosure.h).  Internal principals (the CLI) see everything and choose. */
#ifndef AMPARO_REPORT_H
#define AMPARO_REPORT_H

#include "core/colcache.h"
#include "core/core.h"

#include <jansson.h>
#include <stdbool.h>

/** The column cache of a core, created on first use and shared by every thread
 *  (never NULL unless out of memory).  Call colcache_sync before reading it. */
colcache *reports_cache(core *c);

/** Drops the cache of a core; call before core_free when the process goes on
 *  (tests).  Safe to call when none exists. */
void reports_forget(core *c);

/** The entities and their dimensions and measures, with labels in en/es/fr/uk:
 *  {"entities": [{"name", "label", "dimensions": [{"name", "label", "multi",
 *  "field"}], "measures": [...], "filters": [...]}]} (new reference). */
json_t *reports_dimensions(core *c);

/** A cross-tabulation.  Parameters (from a query string or the CLI):
 *    entity     cases (default) or a record entity
 *    dims       1–4 dimension names, comma-separated
 *    <dim>      a filter: the dimension's codes, comma-separated (any of)
 *    from, to   registration (record: its date) range, YYYY-MM-DD inclusive
 *    count      cases (default) | mentions — for multi-valued dimensions
 *    measure    count (default) | sum:<m> | mean:<m> with a measure of the entity
 *    threshold  suppression threshold (default 10; 0 = none: internal only)
 *    rounding   base to round shown counts to (e.g. 5)
 *    epsilon, mechanism (laplace|geometric), dataset, budget: DP noise, spent
 *               from the stored budget of the dataset (default: the entity's);
 *               other datasets and budget= are an administrator's
 *    publish    true: apply disclosure control whoever asks
 *  *out: {"entity","dims","counts_what","measure","categories","cells",
 *  "totals","disclosure","population"} (see docs/REPORTS.md).  Errors name
 *  the parameter and the rule. */
amp_code report_crosstab(core *c, const principal *p, const list_param *params, size_t nparams,
                         json_t **out, amp_err *err);

/** Whether a record of the case case_uid may be counted in published figures:
 *  true for a record of no case, else whether the case exists and its consent
 *  allows statistics (the rule the case counts follow). */
bool report_record_allows_statistics(core *c, const char *case_uid);

/** True when a principal's aggregates go through disclosure control. */
bool report_is_controlled(const principal *p, bool publish);

/** How a file names dimensions and categories: by their codes (as the API's
 *  parameters spell them), by their labels in a language, or both (a code
 *  column and a label column per dimension). */
typedef enum { REPORT_CODES, REPORT_LABELS, REPORT_BOTH } report_naming;

typedef struct {
    report_naming naming;
    const char *lang; /* "en", "es", "fr" or "uk"; labels and headings (NULL: "en") */
} report_render_opts;

/** Parses "codes", "labels" or "both"; false for anything else. */
bool report_naming_parse(const char *s, report_naming *out);

/** Renders a crosstab answer as CSV (RFC 4180, UTF-8, a header line, one line
 *  per cell and per margin, "Total" in margins; suppressed counts empty with
 *  flag "suppressed"), then its notes as "# " lines: what the figures count
 *  (cases, mentions, records), the population and consent exclusions, the
 *  disclosure control.  With REPORT_CODES the lines of the table are what they
 *  were before labels existed (dimension names, codes, English words).  A list
 *  table ("columns", "items": the pack's indicators) is one line per item.
 *  Returns malloc'd text (*len bytes). */
char *report_render_csv(const json_t *table, const report_render_opts *o, size_t *len);

/** Writes one or more tables as an XLSX workbook: one sheet per table (named by
 *  "title" or the dimensions; list tables too) with its notes under it, and a
 *  "Notes" sheet with every table's notes in words.
 *  tables: a JSON array.  Returns malloc'd bytes (*len) or NULL. */
unsigned char *report_render_xlsx(const json_t *tables, const report_render_opts *o, size_t *len);

/** Renders several tables as one CSV document (sections separated by a blank
 *  line, each introduced by its title).  malloc'd. */
char *report_render_csv_pack(const json_t *tables, const report_render_opts *o, size_t *len);

#endif
