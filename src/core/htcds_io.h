/* htcds_io.h — exchange of case records as HTCDS files: CSV (standard column
 * names) and JSON, and submissions of the official HTCDS XLSForm/XForm as
 * KoboToolbox or ODK export them (CSV and XML).
 *
 * An import is all or nothing: every row is checked by the core's own create
 * path (cases_bulk_prepare, then cases_bulk_add in file order, inside one
 * transaction), every error is collected with its line, column, field and
 * rule, and the transaction commits only when no row failed and this is not a
 * dry run.  Imported cases are created through the core, so everything the core
 * does on a create (validation, defaults, references, history, audit,
 * encryption of identity fields, blind indexes) applies to them.  CSV rows are
 * prepared on worker threads (options.threads) and inserted, and their errors
 * reported, strictly in file order by the calling thread, so the outcome does
 * not depend on the number of threads.
 *
 * Formats of the cells (CSV): multi-select and multi-country values are joined
 * with ';' (HTCDS CSV) or ' ' (XForm CSV, as KoboToolbox and ODK write them;
 * KoboToolbox's one-column-per-option layout "field/Value" with 1/0 is also
 * read); checkboxes true/false (also TRUE/FALSE, yes/no, 1/0); dates
 * YYYY-MM-DD; an empty cell is absent.  The delimiter (',' ';' or tab) is
 * detected from the header line. */
#ifndef AMPARO_HTCDS_IO_H
#define AMPARO_HTCDS_IO_H

#include "core/core.h"

#include <stdbool.h>
#include <stdio.h>

typedef enum { HTCDS_CSV, HTCDS_JSON, HTCDS_XFORM_CSV, HTCDS_XFORM_XML } htcds_format;

/** Parses "csv", "json", "xform-csv", "xform-xml"; false when unknown. */
bool htcds_format_parse(const char *name, htcds_format *out);

/** Progress of an import: rows read so far, bytes consumed of total. */
typedef void (*htcds_progress_fn)(void *arg, size_t rows, size_t done, size_t total);

/** Called with every error of an import, in file order, on the calling
 *  thread: {"line", "record", "column", "field", "rule", "message"} (borrowed;
 *  "record" is the 1-based index of the record, absent for errors of the file
 *  itself).  Lets a caller write out every error while the report keeps only
 *  the first max_errors in memory. */
typedef void (*htcds_error_fn)(void *arg, const json_t *error);

typedef struct {
    htcds_format format;
    bool dry_run;
    size_t max_errors; /* errors kept in the report at most (0: 1000); all are
                        * counted, and all go to on_error */
    htcds_error_fn on_error;
    void *on_error_arg;
    /* Owner organisation for records that name none (internal principals; others
     * always import into their own).  Checked against the organisations. */
    const char *owner_org;
    /* The file was exported without identity fields (`export htcds` without
     * --with-identity): an identity field that a rule requires is recorded as
     * withheld instead of failing.  Also set by the file itself: a CSV header
     * with no identity column, a JSON export object with "identity": false. */
    bool identity_withheld;
    htcds_progress_fn progress;
    void *progress_arg;
    int threads; /* CSV: threads preparing records (0: one per CPU, or none for a file
                  * under 64 KiB; 1: none besides the caller) */
} htcds_import_options;

/** Imports the case records in data[len].  *report: {"format", "rows",
 *  "valid", "imported", "dry_run", "identity_withheld", "error_count",
 *  "errors": [{"line", "record", "column", "field", "rule", "message"}],
 *  "truncated"} (new reference, also on AMP_EINVALID).  XForm submissions
 *  without amp_RegistrationDate are registered on the day of the submission
 *  (its `today`, else `start`, `end`, `_submission_time`).  Returns AMP_OK
 *  (imported, or a clean dry run), AMP_EINVALID when any row has an error
 *  (nothing imported) or opt->owner_org is no organisation (no report),
 *  AMP_EBADREQ when the file cannot be read as the format at all,
 *  AMP_EFORBIDDEN, AMP_EINTERNAL.  Needs ACT_CREATE on RES_CASE; audited as
 *  "import.htcds". */
amp_code htcds_import(core *c, const principal *p, const char *data, size_t len,
                      const htcds_import_options *opt, json_t **report, amp_err *err);

/** Maps a column name of an XLSForm/XForm export (prs_First_Name,
 *  vic_Methods_of_Control, group/prs_Gender) to the catalogue's field name;
 *  NULL for metadata columns (start, end, _id, meta/instanceID…) and for
 *  names the catalogue does not know. */
const char *htcds_xform_field(const catalogue *cat, const char *column);

/** Exports every case in p's scope (internal principals: all) as HTCDS CSV
 *  (catalogue case fields in catalogue order) or JSON (an array of case
 *  records with their events, comments, support plans and perpetrators).
 *  Identity fields only when p may see them (authz_sees_identity) and
 *  with_identity is set.  Cases are read through the core (cases_get).
 *  *summary: {"format", "cases", "identity"}.  Needs ACT_READ on RES_CASE;
 *  audited as "export.htcds". */
amp_code htcds_export(core *c, const principal *p, htcds_format format, bool with_identity,
                      FILE *out, json_t **summary, amp_err *err);

#endif
