/* htcds_io.c — HTCDS CSV/JSON and XForm CSV/XML import and export (see htcds_io.h).
 *
 * Sections: names and values; collecting errors; the CSV reader (libcsv, fed
 * one physical line at a time so every record knows its line); JSON; XML
 * (libxml2, no network, no entity expansion); the import driver; export. */
#include "core/htcds_io.h"
#include "core/audit.h"
#include "core/blindindex.h"
#include "core/validate.h"
#include "store/store_reports.h"

#include <csv.h>
#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MAX_ERRORS 1000
/* The text recorded for an identity field that a rule requires but the file,
 * exported without identity, cannot hold. */
#define HTCDS_WITHHELD "[withheld: exported without identity fields]"
#define SMALL_FILE (64 * 1024) /* bytes: below, CSV rows are prepared without workers */

bool htcds_format_parse(const char *name, htcds_format *out)
{
    static const struct {
        const char *name;
        htcds_format f;
    } names[] = {{"csv", HTCDS_CSV},
                 {"json", HTCDS_JSON},
                 {"xform-csv", HTCDS_XFORM_CSV},
                 {"xform-xml", HTCDS_XFORM_XML}};
    for (size_t i = 0; name && i < sizeof names / sizeof *names; i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].f;
            return true;
        }
    }
    return false;
}

static const char *format_name(htcds_format f)
{
    return f == HTCDS_CSV         ? "csv"
           : f == HTCDS_JSON      ? "json"
           : f == HTCDS_XFORM_CSV ? "xform-csv"
                                  : "xform-xml";
}

/* ==== names and values ======================================================= */

/* Columns of KoboToolbox/ODK exports that are submission metadata, not fields. */
static bool is_meta_column(const char *name)
{
    static const char *const meta[] = {"start",        "end",        "today",        "deviceid",
                                       "subscriberid", "simserial",  "phonenumber",  "username",
                                       "audit",        "instanceID", "instanceName", "__version__",
                                       "version",      "formhub",    "meta",         NULL};
    if (name[0] == '_')
        return true;
    for (int i = 0; meta[i]; i++)
        if (strcmp(name, meta[i]) == 0)
            return true;
    return false;
}

/* Metadata of a submission that dates it, best first: `today` (the form's date
 * of the interview), `start` and `end` (the device's local time when the form
 * was opened and closed), `_submission_time` (when the server received it, in
 * UTC: it can fall on the next day, and a form sent late is received late). */
#define SUBMISSION_SOURCES 4

static int submission_source(const char *name)
{
    static const char *const sources[SUBMISSION_SOURCES] = {"today", "start", "end",
                                                            "_submission_time"};
    for (int i = 0; i < SUBMISSION_SOURCES; i++)
        if (strcmp(name, sources[i]) == 0)
            return i;
    return -1;
}

/* The date "YYYY-MM-DD" at the start of a date or dateTime text into out[11],
 * or "" when there is none. */
static void submission_date(const char *text, char out[11])
{
    while (*text == ' ')
        text++;
    out[0] = 0;
    if (strlen(text) < 10 || (text[10] && text[10] != 'T' && text[10] != ' '))
        return;
    memcpy(out, text, 10);
    out[10] = 0;
    if (!validate_date(out))
        out[0] = 0;
}

/* A submission is registered on the day it was made, not on the day of the
 * import: the core derives the age at registration from this date. */
static void set_registration_date(json_t *doc, char submitted[SUBMISSION_SOURCES][11])
{
    if (json_object_get(doc, "amp_RegistrationDate"))
        return;
    for (int i = 0; i < SUBMISSION_SOURCES; i++) {
        if (submitted[i][0]) {
            json_object_set_new(doc, "amp_RegistrationDate", json_string(submitted[i]));
            return;
        }
    }
}

/* "prs_First_Name" -> "prsfirstname" (letters and digits, lower case). */
static void normalise(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++)
        if (isalnum((unsigned char)*s))
            out[k++] = (char)tolower((unsigned char)*s);
    out[k] = 0;
}

/* Column names of the official templates that differ from the field names:
 * the HTCDS Excel spreadsheet v2.0 (Toolkit/Excel) misspells one header. */
static const char *column_alias(const char *name)
{
    static const struct {
        const char *column, *field;
    } aliases[] = {
        {"vic_TraffickinStatusDecisionMakingOrg", "vic_TraffickingStatusDecisionMakingOrg"}};
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
        if (strcmp(name, aliases[i].column) == 0)
            return aliases[i].field;
    return name;
}

const char *htcds_xform_field(const catalogue *cat, const char *column)
{
    if (strncmp(column, "meta/", 5) == 0 || strncmp(column, "formhub/", 8) == 0)
        return NULL;
    const char *base = strrchr(column, '/');
    base = base ? base + 1 : column;
    if (is_meta_column(base))
        return NULL;
    base = column_alias(base);
    const cat_field *f = catalogue_field(cat, "case", base);
    if (f)
        return f->name;
    char want[128], have[128];
    normalise(base, want, sizeof want);
    size_t n;
    const cat_field *const *fs = catalogue_fields(cat, "case", &n);
    for (size_t i = 0; i < n; i++) {
        normalise(fs[i]->name, have, sizeof have);
        if (strcmp(want, have) == 0)
            return fs[i]->name;
    }
    return NULL;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "1", "y", "oui", "si", "sí", NULL};
    static const char *const no[] = {"false", "no", "0", "n", "non", NULL};
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(s, yes[i]) == 0)
            return (*out = true);
    for (int i = 0; no[i]; i++)
        if (strcasecmp(s, no[i]) == 0)
            return !(*out = false);
    return false;
}

/* Trims ASCII spaces in place; returns s. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

/* The JSON value of a cell for field f (NULL for an empty cell), trimming and
 * splitting the text (valid UTF-8) in place.  A value that cannot be converted
 * is kept as a string, so the core names the rule. */
static json_t *cell_value_at(const cat_field *f, char *text, char sep)
{
    char *s = trim(text);
    json_t *v = NULL;
    if (!*s)
        return NULL;
    bool list = f->type == FT_MULTISELECT ||
                ((f->type == FT_COUNTRY || f->type == FT_LANGUAGE) && f->multiple);
    if (list) {
        v = json_array();
        char *save = NULL;
        char seps[2] = {sep, 0};
        for (char *t = strtok_r(s, seps, &save); t; t = strtok_r(NULL, seps, &save)) {
            t = trim(t);
            if (*t)
                json_array_append_new(v, json_stringn_nocheck(t, strlen(t)));
        }
    } else if (f->type == FT_NUMBER) {
        char *end;
        double d = strtod(s, &end);
        if (*end || end == s)
            v = json_string(s);
        else if (d == (double)(long long)d && d > -1e15 && d < 1e15)
            v = json_integer((json_int_t)d);
        else
            v = json_real(d);
    } else if (f->type == FT_CHECKBOX) {
        bool b;
        v = parse_bool(s, &b) ? json_boolean(b) : json_string(s);
    } else {
        v = json_stringn_nocheck(s, strlen(s));
    }
    return v;
}

static bool utf8_ok(const char *s);

/* cell_value_at on a copy of text; NULL for text that is not UTF-8. */
static json_t *cell_value(const cat_field *f, const char *text, char sep)
{
    if (!utf8_ok(text))
        return NULL; /* as json_string would have it */
    char *copy = strdup(text);
    json_t *v = copy ? cell_value_at(f, copy, sep) : NULL;
    free(copy);
    return v;
}

/* An XForm answer of several options for a field the catalogue holds one value
 * of.  The official XLSForm declares vic_ForcedLabourIndustry select_multiple,
 * but the HTCDS 2.0 field standard, and so the catalogue, the statistics and the
 * CTDC export, hold one industry per case: keeping the first option would lose
 * the others unseen, so the row is reported for someone to choose.  Notes the
 * error in *read and returns true; false for any other answer. */
static void read_error(json_t **list, long line, const char *col, const char *field,
                       const char *rule, const char *message);

static bool several_answers(const cat_field *f, const char *text, json_t **read, long line,
                            const char *column)
{
    if (f->type != FT_PICKLIST)
        return false;
    while (*text == ' ' || *text == '\t')
        text++;
    const char *sp = strpbrk(text, " \t");
    if (!sp || !sp[strspn(sp, " \t\r")])
        return false; /* one answer (perhaps with trailing spaces) */
    char msg[400];
    snprintf(msg, sizeof msg,
             "%s holds one value (a picklist in HTCDS 2.0), but the submission gives several "
             "('%.200s'): keep one",
             f->name, text);
    read_error(read, line, column, f->name, "single_value", msg);
    return true;
}

/* ==== collecting errors ==================================================== */

typedef struct {
    json_t *errors; /* listed: the first `max` */
    size_t count, max;
    htcds_error_fn on_error; /* every error, in order (optional) */
    void *on_error_arg;
} error_list;

/* A JSON string of client bytes: invalid UTF-8 becomes '?', so an error about a
 * broken file can always be reported. */
static json_t *clean_string(const char *s)
{
    char buf[512];
    utf8_sanitize(s, buf, sizeof buf);
    return json_string(buf);
}

static bool utf8_ok(const char *s)
{
    const unsigned char *a = (const unsigned char *)s;
    while (*a && *a < 0x80)
        a++;
    if (!*a)
        return true; /* ASCII (most cells): valid as it is */
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    if (!copy)
        return false;
    size_t k = utf8_sanitize(s, copy, n + 1);
    bool ok = k == n && memcmp(copy, s, n) == 0;
    free(copy);
    return ok;
}

/* Counts an error; keeps it in the report while fewer than max are kept, and
 * hands it to on_error.  Memory stays bounded however many rows are wrong: past
 * max, an error is only counted (and built, if on_error wants it, then freed).
 * record: the record's 1-based index, 0 for an error of the file itself. */
static void error_add(error_list *e, long line, size_t record, const char *column,
                      const char *field, const char *rule, const char *message)
{
    e->count++;
    bool keep = json_array_size(e->errors) < e->max;
    if (!keep && !e->on_error)
        return;
    json_t *o = json_object();
    json_object_set_new(o, "line", line > 0 ? json_integer(line) : json_null());
    if (record)
        json_object_set_new(o, "record", json_integer((json_int_t)record));
    json_object_set_new(o, "column", column ? clean_string(column) : json_null());
    json_object_set_new(o, "field", clean_string(field ? field : ""));
    json_object_set_new(o, "rule", clean_string(rule ? rule : "invalid"));
    json_object_set_new(o, "message", clean_string(message ? message : ""));
    if (e->on_error)
        e->on_error(e->on_error_arg, o);
    if (keep)
        json_array_append_new(e->errors, o);
    else
        json_decref(o);
}

/* ==== one record through the core =============================================== */

/* Column descriptors of a CSV header. */
typedef enum { COL_FIELD, COL_OPTION, COL_SUBMITTED, COL_IGNORE, COL_UNKNOWN } col_kind;

typedef struct {
    col_kind kind;
    int source; /* COL_SUBMITTED: which date of the submission (submission_source) */
    const cat_field *f;
    char *name;   /* as in the header */
    char *option; /* COL_OPTION: the picklist value */
} column;

/* Column name of a field for error messages: the header's name of that field. */
typedef const char *(*column_of_fn)(void *arg, const char *field);

/* A record on its way through the core.  The reader fills doc, line and the
 * errors found while reading; a worker prepares the case (bc or err); the
 * inserter then reports and inserts records strictly in file order. */
typedef struct record record;
/* Turns a record's cells into its document (on a worker): sets r->doc, or
 * r->rejected, and notes errors in r->read. */
typedef void (*record_build_fn)(void *arg, record *r);

struct record {
    json_t *doc;  /* owned; freed once the case is prepared */
    char **cells; /* CSV: the row's cells, one block with their text (owned) */
    size_t ncells;
    record_build_fn build;
    void *build_arg;
    bool rejected; /* reading rejected the row: no case */
    json_t *read;  /* errors found reading the row [{line,column,field,rule,message}], or NULL */
    long line;
    size_t done; /* bytes read when the record ended (for the progress bar) */
    column_of_fn column_of;
    void *arg;
    /* results */
    bool owner_refused;
    amp_code code;
    amp_err err;
    cases_bulk_case *bc;
    int worker; /* the worker that prepared it */
    bool ready;
};

#define PIPE_SLOTS 1024 /* records in flight between the reader and the inserter */

typedef struct import_ctx import_ctx;

/* Reader → workers → inserter.  Workers take records in order from `next`; the
 * inserter takes them in order from `head` once ready.  With no workers the
 * reader prepares and inserts each record itself, at once. */
typedef struct {
    cases_bulk_case **items;
    size_t n, cap;
} case_list;

typedef struct {
    import_ctx *x;
    record *slots; /* PIPE_SLOTS, indexed by position % PIPE_SLOTS */
    size_t head, next, tail;
    int nworkers;
    pthread_t *workers;
    /* per worker: inserted cases it prepared, for it to free (memory goes back
     * to the allocator arena of the thread that took it, without contention) */
    case_list *garbage;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, ready_cv;
    bool stopping;
} pipeline;

struct import_ctx {
    core *c;
    const principal *p;
    htcds_format format;
    error_list errors;
    size_t rows, imported;
    const char *const *meta_keys;
    cases_bulk *bulk;
    pipeline pipe;
    const htcds_import_options *opt;
    size_t total;                 /* bytes of input */
    bool identity_withheld;       /* the option, or as the file says */
    const cat_field *withheld[8]; /* case fields fill_withheld_record may fill */
    size_t nwithheld;
};

/* Notes an error found while reading a record, reported with it in order. */
static void read_error(json_t **list, long line, const char *col, const char *field,
                       const char *rule, const char *message)
{
    if (!*list)
        *list = json_array();
    json_t *o = json_object();
    json_object_set_new(o, "line", json_integer(line));
    if (col)
        json_object_set_new(o, "column", json_stringn_nocheck(col, strlen(col)));
    json_object_set_new(o, "field", json_stringn_nocheck(field, strlen(field)));
    json_object_set_new(o, "rule", json_string(rule));
    json_object_set_new(o, "message", json_stringn_nocheck(message, strlen(message)));
    json_array_append_new(*list, o);
}

static void prepare_doc(import_ctx *x, record *r);

/* The core's part of a record: may run on a worker thread (touches only the
 * record and the thread-safe bulk load). */
static void prepare_record(import_ctx *x, record *r)
{
    if (r->build) {
        r->build(r->build_arg, r);
        free(r->cells);
        r->cells = NULL;
        r->ncells = 0;
    }
    if (r->rejected || !r->doc)
        return;
    prepare_doc(x, r);
    json_decref(r->doc); /* freed here, on the worker, not by the inserter */
    r->doc = NULL;
}
/* True when field f, absent from doc, is required there (required, or
 * required_if its condition holds). */
static bool required_in(const cat_field *f, const json_t *doc)
{
    if (f->required)
        return true;
    if (f->cond != COND_REQUIRED_IF || !f->cond_field)
        return false;
    const json_t *v = json_object_get(doc, f->cond_field);
    for (size_t k = 0; k < f->ncond_values; k++) {
        if (json_is_string(v) && strcmp(json_string_value(v), f->cond_values[k]) == 0)
            return true;
        size_t i;
        const json_t *e;
        json_array_foreach (v, i, e)
            if (json_is_string(e) && strcmp(json_string_value(e), f->cond_values[k]) == 0)
                return true;
    }
    return false;
}

/* A file exported without identity cannot hold the identity fields a rule
 * requires (cas_ReasonForCaseClosure of a closed case, cco_CaseComment of a
 * comment): they are recorded as withheld, which is what happened, rather than
 * left empty (the rule would then fail on every later edit) or the record
 * refused (the export could never be read again). */
static bool withheld_candidate(const cat_field *f)
{
    return f->identity && (f->required || f->cond == COND_REQUIRED_IF);
}

static void fill_withheld(const catalogue *cat, const char *entity, json_t *doc)
{
    size_t n;
    const cat_field *const *fs = catalogue_fields(cat, entity, &n);
    for (size_t i = 0; i < n; i++) {
        const cat_field *f = fs[i];
        if (!withheld_candidate(f))
            continue;
        const json_t *v = json_object_get(doc, f->name);
        if ((!v || json_is_null(v)) && required_in(f, doc))
            json_object_set_new(doc, f->name, json_string(HTCDS_WITHHELD));
    }
}

static void fill_withheld_record(import_ctx *x, json_t *doc)
{
    const catalogue *cat = core_catalogue(x->c);
    /* the case fields concerned, found once per import (a wide catalogue,
     * a hundred thousand rows) */
    for (size_t i = 0; i < x->nwithheld; i++) {
        const cat_field *f = x->withheld[i];
        const json_t *v = json_object_get(doc, f->name);
        if ((!v || json_is_null(v)) && required_in(f, doc))
            json_object_set_new(doc, f->name, json_string(HTCDS_WITHHELD));
    }
    if (x->format != HTCDS_JSON)
        return; /* only JSON records carry child records */
    const char *k;
    json_t *v;
    json_object_foreach (doc, k, v) {
        const child_kind *ck = json_is_array(v) ? core_child_kind(k) : NULL;
        size_t i;
        json_t *ch;
        if (ck)
            json_array_foreach (v, i, ch)
                if (json_is_object(ch))
                    fill_withheld(cat, ck->entity, ch);
    }
}

static void prepare_doc(import_ctx *x, record *r)
{
    const char *owner = json_string_value(json_object_get(r->doc, "amp_OwnerOrganisation"));
    if (!x->p->internal) {
        if (!owner) {
            json_object_set_new(r->doc, "amp_OwnerOrganisation", json_string(x->p->org));
        } else if (strcmp(owner, x->p->org) != 0) {
            r->owner_refused = true;
            return;
        }
    } else if (!owner && x->opt->owner_org) {
        json_object_set_new(r->doc, "amp_OwnerOrganisation", json_string(x->opt->owner_org));
    }
    if (x->identity_withheld)
        fill_withheld_record(x, r->doc);
    r->code = cases_bulk_prepare(x->bulk, r->doc, &r->bc, &r->err);
}

/* A picklist error with the allowed values appended when they are few enough
 * to read (an error path only). */
#define LISTED_VALUES_MAX 12

static const char *picklist_message(import_ctx *x, const char *field, const char *message,
                                    char *buf, size_t n)
{
    if (!field || !message)
        return message;
    const catalogue *cat = core_catalogue(x->c);
    const char *entity = "case", *name = field;
    const char *dot = strrchr(field, '.');
    char coll[64];
    if (dot) { /* "comments[0].cco_Type" */
        size_t len = strcspn(field, "[.");
        snprintf(coll, sizeof coll, "%.*s", (int)(len < 63 ? len : 63), field);
        const child_kind *ck = core_child_kind(coll);
        if (!ck)
            return message;
        entity = ck->entity;
        name = dot + 1;
    }
    const cat_field *f = catalogue_field(cat, entity, name);
    if (!f || !f->nvalues || f->nvalues > LISTED_VALUES_MAX)
        return message;
    size_t k = (size_t)snprintf(buf, n, "%s (allowed: ", message);
    for (size_t i = 0; i < f->nvalues && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "", f->values[i]);
    if (k < n)
        snprintf(buf + k, n - k, ")");
    return buf;
}

/* The inserter's part of a record, in file order: its errors, or its insert.
 * A record is valid only when neither reading it nor the core found an error;
 * both kinds are reported, so one run lists every error of the record. */
static void finish_record(import_ctx *x, record *r)
{
    size_t rec = ++x->rows;
    size_t i;
    const json_t *fe;
    bool read_failed = json_array_size(r->read) > 0;
    json_array_foreach (r->read, i, fe) {
        error_add(&x->errors, (long)json_integer_value(json_object_get(fe, "line")), rec,
                  json_string_value(json_object_get(fe, "column")),
                  json_string_value(json_object_get(fe, "field")),
                  json_string_value(json_object_get(fe, "rule")),
                  json_string_value(json_object_get(fe, "message")));
    }
    if (r->owner_refused) {
        error_add(&x->errors, r->line, rec,
                  r->column_of ? r->column_of(r->arg, "amp_OwnerOrganisation") : NULL,
                  "amp_OwnerOrganisation", "owner_org",
                  "cases can be imported only into your own organisation");
    } else if (!r->rejected && r->code == AMP_OK && r->bc) {
        cases_bulk_case *bc = r->bc;
        r->bc = NULL;
        if (read_failed) {
            /* not valid: checked only */
        } else if (x->errors.count == 0 || x->opt->dry_run) {
            if (cases_bulk_add(x->bulk, bc, &r->err) == AMP_OK)
                x->imported++;
            else
                r->code = r->err.code ? r->err.code : AMP_EINTERNAL;
        } else {
            /* after an error nothing will be committed: the rest is only checked */
            x->imported++;
        }
        if (x->pipe.nworkers)
            r->bc = bc; /* freed by a worker (pipe_drain): memory goes back to its arena */
        else
            cases_bulk_case_free(bc);
    }
    if (!r->rejected && r->code != AMP_OK) {
        if (!json_array_size(r->err.fields)) {
            error_add(&x->errors, r->line, rec, NULL, "", amp_code_name(r->err.code),
                      r->err.message);
        } else {
            json_array_foreach (r->err.fields, i, fe) {
                const char *field = json_string_value(json_object_get(fe, "field"));
                const char *rule = json_string_value(json_object_get(fe, "rule"));
                const char *message = json_string_value(json_object_get(fe, "message"));
                char buf[1024];
                if (rule && strcmp(rule, "picklist") == 0)
                    message = picklist_message(x, field, message, buf, sizeof buf);
                error_add(&x->errors, r->line, rec,
                          r->column_of && field ? r->column_of(r->arg, field) : field, field, rule,
                          message);
            }
        }
    }
    amp_err_clear(&r->err);
    json_decref(r->doc);
    json_decref(r->read);
    free(r->cells);
    const htcds_import_options *opt = x->opt;
    if (opt->progress && x->rows % 1000 == 0)
        opt->progress(opt->progress_arg, x->rows, r->done ? r->done : x->total, x->total);
}

/* Frees a worker's garbage; called with pl->mu held, returns with it held. */
static void free_garbage(pipeline *pl, int w)
{
    case_list g = pl->garbage[w];
    if (!g.n)
        return;
    pl->garbage[w] = (case_list){0};
    pthread_mutex_unlock(&pl->mu);
    for (size_t i = 0; i < g.n; i++)
        cases_bulk_case_free(g.items[i]);
    free(g.items);
    pthread_mutex_lock(&pl->mu);
}

typedef struct {
    import_ctx *x;
    int index;
} worker_arg;

static void *pipe_worker(void *arg)
{
    worker_arg *wa = arg;
    import_ctx *x = wa->x;
    int w = wa->index;
    free(wa);
    pipeline *pl = &x->pipe;
    blind_thread_begin();
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        free_garbage(pl, w);
        while (pl->next == pl->tail && !pl->stopping)
            pthread_cond_wait(&pl->work_cv, &pl->mu);
        if (pl->next == pl->tail)
            break;
        record *r = &pl->slots[pl->next++ % PIPE_SLOTS];
        pthread_mutex_unlock(&pl->mu);
        r->worker = w;
        prepare_record(x, r);
        pthread_mutex_lock(&pl->mu);
        r->ready = true;
        pthread_cond_broadcast(&pl->ready_cv);
    }
    free_garbage(pl, w);
    pthread_mutex_unlock(&pl->mu);
    blind_thread_end();
    return NULL;
}

/* Threads for the preparation: one per CPU (threads: 0), or as asked; 1 means
 * none (the calling thread does everything). */
static void pipe_start(import_ctx *x, int threads)
{
    pipeline *pl = &x->pipe;
    memset(pl, 0, sizeof *pl);
    pl->x = x;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)(n > 64 ? 64 : n) : 1;
    }
    if (threads <= 1)
        return;
    pl->slots = calloc(PIPE_SLOTS, sizeof *pl->slots);
    pl->garbage = calloc((size_t)threads, sizeof *pl->garbage);
    pl->workers = calloc((size_t)threads, sizeof *pl->workers);
    if (!pl->slots || !pl->garbage || !pl->workers) {
        free(pl->slots);
        free(pl->garbage);
        free(pl->workers);
        pl->slots = NULL;
        pl->garbage = NULL;
        pl->workers = NULL;
        return;
    }
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->work_cv, NULL);
    pthread_cond_init(&pl->ready_cv, NULL);
    for (int i = 0; i < threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa)
            break;
        *wa = (worker_arg){x, pl->nworkers};
        if (pthread_create(&pl->workers[pl->nworkers], NULL, pipe_worker, wa) == 0)
            pl->nworkers++;
        else
            free(wa);
    }
    if (!pl->nworkers) { /* no thread could start: everything in this one */
        pthread_mutex_destroy(&pl->mu);
        pthread_cond_destroy(&pl->work_cv);
        pthread_cond_destroy(&pl->ready_cv);
        free(pl->slots);
        free(pl->garbage);
        free(pl->workers);
        memset(pl, 0, sizeof *pl);
        pl->x = x;
    }
}

/* Finishes every record already ready at the head; with wait, first waits
 * for the head record. */
static void pipe_drain(pipeline *pl, bool wait)
{
    pthread_mutex_lock(&pl->mu);
    while (pl->head < pl->tail) {
        record *r = &pl->slots[pl->head % PIPE_SLOTS];
        if (!r->ready) {
            if (!wait)
                break;
            pthread_cond_wait(&pl->ready_cv, &pl->mu);
            continue;
        }
        pthread_mutex_unlock(&pl->mu);
        finish_record(pl->x, r);
        cases_bulk_case *bc = r->bc;
        int w = r->worker;
        memset(r, 0, sizeof *r);
        pthread_mutex_lock(&pl->mu);
        if (bc) {
            case_list *g = &pl->garbage[w];
            if (g->n == g->cap) {
                size_t cap = g->cap ? g->cap * 2 : 64;
                cases_bulk_case **items = realloc(g->items, cap * sizeof *items);
                if (items) {
                    g->items = items;
                    g->cap = cap;
                }
            }
            if (g->n < g->cap)
                g->items[g->n++] = bc;
            else
                cases_bulk_case_free(bc); /* out of memory: here, then */
        }
        pl->head++;
        wait = false;
    }
    pthread_mutex_unlock(&pl->mu);
}

/* Hands a record (taken) to the pipeline. */
static void pipe_push(import_ctx *x, const record *in)
{
    pipeline *pl = &x->pipe;
    if (!pl->nworkers) {
        record r = *in;
        prepare_record(x, &r);
        finish_record(x, &r);
        return;
    }
    pthread_mutex_lock(&pl->mu);
    bool full = pl->tail - pl->head == PIPE_SLOTS;
    pthread_mutex_unlock(&pl->mu);
    while (full) {
        pipe_drain(pl, true);
        pthread_mutex_lock(&pl->mu);
        full = pl->tail - pl->head == PIPE_SLOTS;
        pthread_mutex_unlock(&pl->mu);
    }
    pthread_mutex_lock(&pl->mu);
    pl->slots[pl->tail % PIPE_SLOTS] = *in;
    pl->tail++;
    pthread_cond_signal(&pl->work_cv);
    pthread_mutex_unlock(&pl->mu);
    pipe_drain(pl, false);
}

/* Finishes every record in flight (before an error that must follow them). */
static void pipe_flush(import_ctx *x)
{
    pipeline *pl = &x->pipe;
    while (pl->nworkers) {
        pthread_mutex_lock(&pl->mu);
        bool empty = pl->head == pl->tail;
        pthread_mutex_unlock(&pl->mu);
        if (empty)
            break;
        pipe_drain(pl, true);
    }
}

static void pipe_stop(import_ctx *x)
{
    pipeline *pl = &x->pipe;
    pipe_flush(x);
    if (!pl->nworkers)
        return;
    pthread_mutex_lock(&pl->mu);
    pl->stopping = true;
    pthread_cond_broadcast(&pl->work_cv);
    pthread_mutex_unlock(&pl->mu);
    for (int i = 0; i < pl->nworkers; i++)
        pthread_join(pl->workers[i], NULL);
    for (int i = 0; i < pl->nworkers; i++) { /* left by workers that ended first */
        for (size_t k = 0; k < pl->garbage[i].n; k++)
            cases_bulk_case_free(pl->garbage[i].items[k]);
        free(pl->garbage[i].items);
    }
    free(pl->garbage);
    pthread_mutex_destroy(&pl->mu);
    pthread_cond_destroy(&pl->work_cv);
    pthread_cond_destroy(&pl->ready_cv);
    free(pl->workers);
    free(pl->slots);
    memset(pl, 0, sizeof *pl);
}

/* A record (doc taken) through the core, with the errors found reading it. */
static void insert_record(import_ctx *x, json_t *doc, json_t *read, long line, size_t done,
                          column_of_fn column_of, void *arg)
{
    record r = {
        .doc = doc, .read = read, .line = line, .done = done, .column_of = column_of, .arg = arg};
    pipe_push(x, &r);
}

/* A record rejected while reading: it counts as a row, with its errors. */
static void rejected_record(import_ctx *x, json_t *read, long line, size_t done)
{
    record r = {.rejected = true, .read = read, .line = line, .done = done};
    pipe_push(x, &r);
}

/* ==== CSV ========================================================================= */

typedef struct {
    import_ctx *x;
    char sep; /* separator inside multi-valued cells */
    column *cols;
    size_t ncols, cap;
    bool header_done;
    size_t *offs; /* the current row's cells: offsets into text */
    size_t ncells, cellcap;
    char *text; /* the current row's cells, each NUL-terminated */
    size_t tlen, tcap;
    long line;      /* physical line being fed */
    long row_start; /* line where the current record began */
    bool oom;
    bool row_has_content;
    htcds_import_options const *opt;
    size_t done, total;
} csv_ctx;

static const char *csv_column_of(void *arg, const char *field)
{
    csv_ctx *cx = arg;
    for (size_t i = 0; i < cx->ncols; i++) {
        if ((cx->cols[i].kind == COL_FIELD || cx->cols[i].kind == COL_OPTION) &&
            strcmp(cx->cols[i].f->name, field) == 0)
            return cx->cols[i].name;
    }
    return field;
}

static void csv_field_cb(void *s, size_t len, void *arg)
{
    csv_ctx *cx = arg;
    if (cx->ncells == cx->cellcap) {
        size_t cap = cx->cellcap ? cx->cellcap * 2 : 64;
        if (cap > 4096) { /* a bound on columns */
            cx->oom = true;
            return;
        }
        size_t *g = realloc(cx->offs, cap * sizeof *g);
        if (!g) {
            cx->oom = true;
            return;
        }
        cx->offs = g;
        cx->cellcap = cap;
    }
    if (cx->tlen + len + 1 > cx->tcap) {
        size_t cap = (cx->tlen + len + 1) * 2;
        char *g = realloc(cx->text, cap);
        if (!g) {
            cx->oom = true;
            return;
        }
        cx->text = g;
        cx->tcap = cap;
    }
    memcpy(cx->text + cx->tlen, s ? s : "", len);
    cx->text[cx->tlen + len] = 0;
    if (len)
        cx->row_has_content = true;
    cx->offs[cx->ncells++] = cx->tlen;
    cx->tlen += len + 1;
}

static void header_column(csv_ctx *cx, const char *raw)
{
    const catalogue *cat = core_catalogue(cx->x->c);
    column col = {.kind = COL_UNKNOWN};
    char *name = strdup(raw);
    col.name = name ? trim(name) : NULL;
    if (col.name != name && name) { /* keep the trimmed text owned */
        memmove(name, col.name, strlen(col.name) + 1);
        col.name = name;
    }
    /* a UTF-8 byte order mark at the start of the file */
    if (col.name && cx->ncols == 0 && (unsigned char)col.name[0] == 0xEF &&
        (unsigned char)col.name[1] == 0xBB && (unsigned char)col.name[2] == 0xBF)
        memmove(col.name, col.name + 3, strlen(col.name + 3) + 1);
    if (!col.name) {
        cx->oom = true;
        return;
    }
    if (cx->x->format == HTCDS_CSV) {
        col.f = catalogue_field(cat, "case", column_alias(col.name));
        col.kind = col.f ? COL_FIELD : COL_UNKNOWN;
    } else if (submission_source(col.name) >= 0) {
        col.kind = COL_SUBMITTED;
        col.source = submission_source(col.name);
    } else {
        const char *slash = strrchr(col.name, '/');
        const char *fname = htcds_xform_field(cat, col.name);
        if (fname) {
            col.kind = COL_FIELD;
            col.f = catalogue_field(cat, "case", fname);
        } else if (slash) {
            /* "vic_TypeOfExploitation/ForcedLabour": one column per option */
            char prefix[256];
            snprintf(prefix, sizeof prefix, "%.*s", (int)(slash - col.name), col.name);
            const char *pf = htcds_xform_field(cat, prefix);
            const cat_field *f = pf ? catalogue_field(cat, "case", pf) : NULL;
            if (f && (f->type == FT_MULTISELECT || f->type == FT_PICKLIST) && utf8_ok(slash + 1)) {
                col.kind = COL_OPTION;
                col.f = f;
                col.option = strdup(slash + 1);
            } else if (is_meta_column(slash + 1) || strncmp(col.name, "meta/", 5) == 0 ||
                       strncmp(col.name, "formhub/", 8) == 0) {
                col.kind = COL_IGNORE;
            }
        } else if (is_meta_column(col.name)) {
            col.kind = COL_IGNORE;
        }
    }
    if (cx->ncols == cx->cap) {
        size_t cap = cx->cap ? cx->cap * 2 : 64;
        column *g = realloc(cx->cols, cap * sizeof *g);
        if (!g) {
            cx->oom = true;
            free(col.name);
            free(col.option);
            return;
        }
        cx->cols = g;
        cx->cap = cap;
    }
    cx->cols[cx->ncols++] = col;
}

/* A CSV record's document from its cells (record_build_fn; on a worker: reads
 * only the header's columns, fixed once the header is read). */
static void csv_record_doc(void *arg, record *r)
{
    const csv_ctx *cx = arg;
    json_t *doc = json_object(), *read = NULL;
    bool bad_cell = false, dated = false;
    char submitted[SUBMISSION_SOURCES][11] = {{0}};
    for (size_t i = 0; i < r->ncells; i++) {
        const column *col = &cx->cols[i];
        if (col->kind == COL_SUBMITTED) {
            submission_date(r->cells[i], submitted[col->source]);
            dated = dated || submitted[col->source][0];
        } else if (col->kind == COL_FIELD) {
            if (!r->cells[i][0])
                continue; /* an empty cell sets nothing (most cells of a wide file) */
            if (!utf8_ok(r->cells[i])) {
                read_error(&read, r->line, col->name, col->f->name, "utf8",
                           "the cell is not valid UTF-8 text");
                bad_cell = true;
                continue;
            }
            if (cx->sep == ' ' && several_answers(col->f, r->cells[i], &read, r->line, col->name))
                continue;
            json_t *v = cell_value_at(col->f, r->cells[i], cx->sep); /* the record's copy */
            if (v)
                json_object_set_new(doc, col->f->name, v);
        } else if (col->kind == COL_OPTION) {
            bool on;
            char *t = trim(r->cells[i]);
            if (!*t)
                continue;
            if (!parse_bool(t, &on)) {
                read_error(&read, r->line, col->name, col->f->name, "boolean",
                           "an option column holds 1/0 or true/false");
                continue;
            }
            if (col->f->type == FT_PICKLIST) { /* one option of a single value */
                json_t *have = json_object_get(doc, col->f->name);
                if (!on || (have && strcmp(json_string_value(have), col->option) == 0))
                    continue;
                if (have) {
                    char both[300];
                    snprintf(both, sizeof both, "%.140s %.140s", json_string_value(have),
                             col->option);
                    several_answers(col->f, both, &read, r->line, col->name);
                    continue;
                }
                json_object_set_new(doc, col->f->name, json_string(col->option));
                continue;
            }
            json_t *arr = json_object_get(doc, col->f->name);
            if (!arr) {
                arr = json_array();
                json_object_set_new(doc, col->f->name, arr);
            }
            bool present = false;
            size_t k;
            json_t *e;
            json_array_foreach (arr, k, e)
                present = present || strcmp(json_string_value(e), col->option) == 0;
            if (on && !present)
                json_array_append_new(arr, json_string(col->option));
        }
    }
    if (dated)
        set_registration_date(doc, submitted);
    r->read = read;
    if (bad_cell) {
        json_decref(doc);
        r->rejected = true;
    } else {
        r->doc = doc;
    }
}

static void csv_row_done(csv_ctx *cx)
{
    import_ctx *x = cx->x;
    if (!cx->header_done) {
        cx->header_done = true;
        for (size_t i = 0; i < cx->ncells; i++)
            header_column(cx, cx->text + cx->offs[i]);
        /* a header without any identity column is a de-identified file (as
         * `export htcds` writes without --with-identity): it cannot hold the
         * identity fields that rules require */
        bool any_identity = false;
        for (size_t i = 0; i < cx->ncols; i++) {
            any_identity = any_identity || (cx->cols[i].f && cx->cols[i].f->identity);
            /* a single-value field with its answer column and option columns
             * (KoboToolbox writes both): the answer column says it all */
            for (size_t j = 0; cx->cols[i].kind == COL_OPTION &&
                               cx->cols[i].f->type == FT_PICKLIST && j < cx->ncols;
                 j++)
                if (cx->cols[j].kind == COL_FIELD && cx->cols[j].f == cx->cols[i].f)
                    cx->cols[i].kind = COL_IGNORE;
        }
        if (!any_identity && cx->ncols)
            x->identity_withheld = true;
        for (size_t i = 0; i < cx->ncols; i++) {
            if (cx->cols[i].kind == COL_UNKNOWN) {
                char msg[200];
                snprintf(msg, sizeof msg, "column '%.100s' is not an HTCDS case field",
                         cx->cols[i].name);
                error_add(&x->errors, cx->row_start, 0, cx->cols[i].name, cx->cols[i].name,
                          "unknown_field", msg);
            }
            for (size_t j = 0; j < i; j++) {
                if (cx->cols[i].kind == COL_FIELD && cx->cols[j].kind == COL_FIELD &&
                    cx->cols[i].f == cx->cols[j].f) {
                    error_add(&x->errors, cx->row_start, 0, cx->cols[i].name, cx->cols[i].f->name,
                              "duplicate_column", "this field has two columns");
                    break;
                }
            }
        }
        return;
    }
    if (!cx->row_has_content)
        return; /* blank line */
    if (cx->ncells != cx->ncols) {
        char msg[160];
        snprintf(msg, sizeof msg, "the row has %zu cells, the header %zu columns", cx->ncells,
                 cx->ncols);
        json_t *read = NULL;
        read_error(&read, cx->row_start, NULL, "", "column_count", msg);
        rejected_record(x, read, cx->row_start, cx->done);
        return;
    }
    /* the cells go with the record; a worker turns them into its document */
    char **cells = malloc(cx->ncells * sizeof *cells + cx->tlen);
    if (!cells) {
        cx->oom = true;
        return;
    }
    char *text = (char *)(cells + cx->ncells);
    memcpy(text, cx->text, cx->tlen);
    for (size_t i = 0; i < cx->ncells; i++)
        cells[i] = text + cx->offs[i];
    record r = {.cells = cells,
                .ncells = cx->ncells,
                .build = csv_record_doc,
                .build_arg = cx,
                .line = cx->row_start,
                .done = cx->done,
                .column_of = csv_column_of,
                .arg = cx};
    pipe_push(x, &r);
}

static void csv_row_cb(int term, void *arg)
{
    (void)term;
    csv_ctx *cx = arg;
    if (!cx->oom)
        csv_row_done(cx);
    cx->ncells = 0;
    cx->tlen = 0;
    cx->row_has_content = false;
    cx->row_start = cx->line + 1;
}

static char detect_delimiter(const char *data, size_t len)
{
    const char *nl = memchr(data, '\n', len);
    size_t n = nl ? (size_t)(nl - data) : len;
    size_t commas = 0, semis = 0, tabs = 0;
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '"')
            quoted = !quoted;
        else if (!quoted)
            commas += data[i] == ',', semis += data[i] == ';', tabs += data[i] == '\t';
    }
    return tabs > commas && tabs > semis ? '\t' : semis > commas ? ';' : ',';
}

static amp_code import_csv(import_ctx *x, const char *data, size_t len,
                           const htcds_import_options *opt, amp_err *err)
{
    struct csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    csv_set_delim(&parser, (unsigned char)detect_delimiter(data, len));
    csv_ctx cx = {.x = x,
                  .sep = x->format == HTCDS_XFORM_CSV ? ' ' : ';',
                  .line = 1,
                  .row_start = 1,
                  .opt = opt,
                  .total = len};
    size_t off = 0;
    amp_code code = AMP_OK;
    while (off < len && !cx.oom) {
        const char *nl = memchr(data + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (data + off)) + 1 : len - off;
        if (csv_parse(&parser, data + off, n, csv_field_cb, csv_row_cb, &cx) != n) {
            pipe_flush(x);
            error_add(&x->errors, cx.line, 0, NULL, "", "csv_syntax",
                      csv_strerror(csv_error(&parser)));
            code = AMP_EBADREQ;
            break;
        }
        off += n;
        cx.done = off;
        cx.line++;
    }
    if (code == AMP_OK && !cx.oom) {
        cx.line--; /* the last row ends on the last line */
        if (csv_fini(&parser, csv_field_cb, csv_row_cb, &cx) != 0) {
            pipe_flush(x);
            error_add(&x->errors, cx.row_start, 0, NULL, "", "csv_syntax",
                      "the file ends inside a quoted cell");
            code = AMP_EBADREQ;
        }
    }
    pipe_flush(x); /* the records still in flight use the columns freed below */
    if (cx.oom)
        code = amp_err_set(err, AMP_ETOOBIG, "the file has too many columns or is too large");
    if (!cx.header_done && code == AMP_OK) {
        error_add(&x->errors, 1, 0, NULL, "", "header_required", "the file has no header line");
        code = AMP_EBADREQ;
    }
    csv_free(&parser);
    free(cx.offs);
    free(cx.text);
    for (size_t i = 0; i < cx.ncols; i++) {
        free(cx.cols[i].name);
        free(cx.cols[i].option);
    }
    free(cx.cols);
    return code;
}

/* ==== JSON ========================================================================= */

/* Lines where each element of the records array starts (a light scan): the
 * top-level array (depth 1), or the first array inside the top-level object
 * (depth 2: {"identity": false, "items": [...]}). */
static long *element_lines(const char *data, size_t len, int target, size_t *n)
{
    size_t cap = 64;
    long *lines = malloc(cap * sizeof *lines);
    *n = 0;
    if (!lines)
        return NULL;
    long line = 1;
    int depth = 0;
    bool in_str = false, esc = false, want = false, inside = false, seen = false;
    for (size_t i = 0; i < len; i++) {
        char ch = data[i];
        if (ch == '\n')
            line++;
        if (in_str) {
            if (esc)
                esc = false;
            else if (ch == '\\')
                esc = true;
            else if (ch == '"')
                in_str = false;
            continue;
        }
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
            continue;
        if (want && depth == target && inside) {
            if (*n == cap) {
                long *g = realloc(lines, (cap *= 2) * sizeof *g);
                if (!g)
                    break;
                lines = g;
            }
            lines[(*n)++] = line;
            want = false;
        }
        if (ch == '"')
            in_str = true;
        else if (ch == '[' || ch == '{') {
            depth++;
            if (depth == target && ch == '[' && !seen)
                want = inside = seen = true;
        } else if (ch == ']' || ch == '}') {
            if (depth == target)
                inside = false;
            depth--;
        } else if (ch == ',' && depth == target && inside)
            want = true;
    }
    return lines;
}

static void strip_meta(json_t *doc)
{
    static const char *const keys[] = {"id",         "reference",  "version",    "created_at",
                                       "updated_at", "created_by", "updated_by", NULL};
    for (int i = 0; keys[i]; i++)
        json_object_del(doc, keys[i]);
    const char *k;
    json_t *v;
    json_object_foreach (doc, k, v) {
        if (json_is_array(v) && core_child_kind(k)) {
            size_t i;
            json_t *ch;
            json_array_foreach (v, i, ch) {
                if (json_is_object(ch))
                    for (int j = 0; keys[j]; j++)
                        json_object_del(ch, keys[j]);
            }
        }
    }
}

static amp_code import_json(import_ctx *x, const char *data, size_t len,
                            const htcds_import_options *opt, amp_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        char msg[200];
        snprintf(msg, sizeof msg, "not valid JSON: %s", je.text);
        error_add(&x->errors, je.line, 0, NULL, "", "json_syntax", msg);
        return AMP_EBADREQ;
    }
    json_t *items = json_is_array(root) ? root : json_object_get(root, "items");
    if (!json_is_array(items)) {
        error_add(&x->errors, 1, 0, NULL, "", "array_required",
                  "the file must hold an array of case records (or {\"items\": [...]})");
        json_decref(root);
        return AMP_EBADREQ;
    }
    if (json_is_false(json_object_get(root, "identity")))
        x->identity_withheld = true; /* as `export htcds --format json` marks it */
    size_t nlines = 0;
    long *lines = element_lines(data, len, json_is_array(root) ? 1 : 2, &nlines);
    size_t i;
    json_t *rec;
    json_array_foreach (items, i, rec) {
        long line = i < nlines ? lines[i] : 0;
        if (!json_is_object(rec)) {
            x->rows++;
            error_add(&x->errors, line, x->rows, NULL, "", "object",
                      "each record must be a JSON object");
            continue;
        }
        json_t *doc = json_deep_copy(rec);
        strip_meta(doc);
        insert_record(x, doc, NULL, line, 0, NULL, NULL);
        if (opt->progress && x->rows % 1000 == 0)
            opt->progress(opt->progress_arg, x->rows, len * (i + 1) / json_array_size(items), len);
    }
    free(lines);
    json_decref(root);
    (void)err;
    return AMP_OK;
}

/* ==== XML (ODK / KoboToolbox submission instances) ==================================== */

typedef struct {
    import_ctx *x;
    json_t *doc;
    json_t *read; /* errors found reading the record (unknown elements) */
    long line;
    char submitted[SUBMISSION_SOURCES][11]; /* the dates of the submission found */
} xml_rec;

static bool element_has_children(xmlNode *n)
{
    for (xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return true;
    return false;
}

static void xml_fields(xml_rec *r, xmlNode *parent, int depth)
{
    const catalogue *cat = core_catalogue(r->x->c);
    for (xmlNode *n = parent->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)n->name;
        if (strcmp(name, "meta") == 0 || strcmp(name, "formhub") == 0)
            continue;
        if (element_has_children(n)) {
            if (depth < 8)
                xml_fields(r, n, depth + 1); /* a group */
            continue;
        }
        int src = submission_source(name);
        if (src >= 0) {
            xmlChar *text = xmlNodeGetContent(n);
            submission_date(text ? (const char *)text : "", r->submitted[src]);
            xmlFree(text);
            continue;
        }
        if (is_meta_column(name))
            continue;
        const char *fname = htcds_xform_field(cat, name);
        long line = xmlGetLineNo(n);
        if (!fname) {
            /* noted with the record, so its other errors are reported too */
            char msg[200], clean[128];
            utf8_sanitize(name, clean, sizeof clean);
            snprintf(msg, sizeof msg, "element '%.100s' is not an HTCDS case field", clean);
            read_error(&r->read, line, clean, clean, "unknown_field", msg);
            continue;
        }
        xmlChar *text = xmlNodeGetContent(n);
        const cat_field *f = catalogue_field(cat, "case", fname);
        const char *t = text ? (const char *)text : "";
        json_t *v = utf8_ok(t) && several_answers(f, t, &r->read, line, name)
                        ? NULL
                        : cell_value(f, t, ' ');
        xmlFree(text);
        if (v)
            json_object_set_new(r->doc, fname, v);
    }
}

static amp_code import_xml(import_ctx *x, const char *data, size_t len,
                           const htcds_import_options *opt, amp_err *err)
{
    if (len > (size_t)INT32_MAX)
        return amp_err_set(err, AMP_ETOOBIG, "the file is too large");
    xmlDoc *d = xmlReadMemory(data, (int)len, "import.xml", NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!d) {
        const xmlError *e = xmlGetLastError();
        char msg[200];
        snprintf(msg, sizeof msg, "not well-formed XML: %s", e && e->message ? e->message : "");
        size_t n = strlen(msg);
        while (n && (msg[n - 1] == '\n'))
            msg[--n] = 0;
        error_add(&x->errors, e ? e->line : 0, 0, NULL, "", "xml_syntax", msg);
        return AMP_EBADREQ;
    }
    xmlNode *root = xmlDocGetRootElement(d);
    /* one submission (its root holds fields) or a wrapper of submissions */
    bool single = false;
    for (xmlNode *n = root ? root->children : NULL; n && !single; n = n->next)
        single = n->type == XML_ELEMENT_NODE && !element_has_children(n);
    if (root && xmlHasProp(root, (const xmlChar *)"id"))
        single = true;
    size_t count = 0;
    for (xmlNode *n = single ? root : (root ? root->children : NULL); n;
         n = single ? NULL : n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xml_rec r = {.x = x, .doc = json_object(), .line = xmlGetLineNo(n)};
        xml_fields(&r, n, 0);
        set_registration_date(r.doc, r.submitted);
        insert_record(x, r.doc, r.read, r.line, 0, NULL, NULL);
        count++;
        if (opt->progress && count % 1000 == 0)
            opt->progress(opt->progress_arg, x->rows, len, len);
    }
    xmlFreeDoc(d);
    return AMP_OK;
}

/* ==== the import driver ================================================================= */

amp_code htcds_import(core *c, const principal *p, const char *data, size_t len,
                      const htcds_import_options *opt, json_t **report, amp_err *err)
{
    *report = NULL;
    amp_code code = authz_require(p, ACT_CREATE, RES_CASE, err);
    if (code != AMP_OK)
        return code;
    if (opt->owner_org) {
        store_row row;
        int rc = store_org_get(core_store(c), opt->owner_org, &row);
        if (rc == STORE_OK)
            store_row_release(&row);
        else {
            amp_err_set(err, AMP_EINVALID, "no organisation has the identifier '%.100s'",
                        opt->owner_org);
            amp_err_field(err, "org", "lookup", "no organisation has this identifier");
            return AMP_EINVALID;
        }
    }
    import_ctx x = {.c = c,
                    .p = p,
                    .format = opt->format,
                    .opt = opt,
                    .total = len,
                    .identity_withheld = opt->identity_withheld};
    x.errors.errors = json_array();
    x.errors.max = opt->max_errors ? opt->max_errors : DEFAULT_MAX_ERRORS;
    x.errors.on_error = opt->on_error;
    x.errors.on_error_arg = opt->on_error_arg;
    size_t nf;
    const cat_field *const *fs = catalogue_fields(core_catalogue(c), "case", &nf);
    for (size_t i = 0; i < nf && x.nwithheld < sizeof x.withheld / sizeof *x.withheld; i++)
        if (withheld_candidate(fs[i]))
            x.withheld[x.nwithheld++] = fs[i];
    store *s = core_store(c);
    if (store_bulk_begin(s) != STORE_OK) {
        json_decref(x.errors.errors);
        return amp_err_set(err, AMP_EINTERNAL, "cannot start a transaction");
    }
    x.bulk = cases_bulk_open(c, p);
    if (!x.bulk) {
        store_bulk_end(s, false);
        json_decref(x.errors.errors);
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    }
    /* CSV records are prepared on worker threads; JSON and XML ones, whose
     * readers report some errors as they go, in this thread */
    bool csv = opt->format == HTCDS_CSV || opt->format == HTCDS_XFORM_CSV;
    int threads = opt->threads;
    if (threads == 0 && len < SMALL_FILE)
        threads = 1; /* starting threads would cost more than it saves */
    pipe_start(&x, csv ? threads : 1);
    switch (opt->format) {
    case HTCDS_CSV:
    case HTCDS_XFORM_CSV: code = import_csv(&x, data, len, opt, err); break;
    case HTCDS_JSON: code = import_json(&x, data, len, opt, err); break;
    case HTCDS_XFORM_XML: code = import_xml(&x, data, len, opt, err); break;
    }
    pipe_stop(&x);
    if (code == AMP_OK && x.rows == 0 && x.errors.count == 0)
        error_add(&x.errors, 0, 0, NULL, "", "no_records",
                  "the file holds no case records (a header or an empty list only)");
    bool commit = code == AMP_OK && x.errors.count == 0 && !opt->dry_run;
    amp_err berr = {0};
    if (cases_bulk_close(x.bulk, commit, &berr) != AMP_OK && commit) {
        commit = false;
        code = amp_err_set(err, AMP_EINTERNAL, "%s", berr.message);
    }
    amp_err_clear(&berr);
    int rc = store_bulk_end(s, commit);
    if (commit && rc != STORE_OK)
        code = amp_err_set(err, AMP_EINTERNAL, "the import could not be committed");
    if (opt->progress)
        opt->progress(opt->progress_arg, x.rows, len, len);
    size_t imported = commit && code == AMP_OK ? x.imported : 0;
    *report = json_pack("{s:s, s:I, s:I, s:I, s:b, s:b, s:I, s:o, s:b}", "format",
                        format_name(opt->format), "rows", (json_int_t)x.rows, "valid",
                        (json_int_t)x.imported, "imported", (json_int_t)imported, "dry_run",
                        opt->dry_run, "identity_withheld", x.identity_withheld, "error_count",
                        (json_int_t)x.errors.count, "errors", x.errors.errors, "truncated",
                        x.errors.count > x.errors.max);
    if (code == AMP_OK && x.errors.count) {
        amp_err_set(err, AMP_EINVALID, "%zu error(s) in %zu row(s): nothing was imported",
                    x.errors.count, x.rows);
        code = AMP_EINVALID;
    } else if (code == AMP_EBADREQ) {
        amp_err_set(err, AMP_EBADREQ, "the file cannot be read as %s", format_name(opt->format));
    }
    if (imported) {
        json_t *detail = json_pack("{s:s, s:I}", "format", format_name(opt->format), "cases",
                                   (json_int_t)imported);
        amp_err aerr = {0};
        audit_log(c, p, "import.htcds", "import", format_name(opt->format), detail, &aerr);
        amp_err_clear(&aerr);
        json_decref(detail);
    }
    return code;
}

/* ==== export ============================================================================= */

static void strip_identity(const catalogue *cat, json_t *rec)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe (rec, tmp, k, v) {
        const cat_field *f = catalogue_field(cat, "case", k);
        if (f && f->identity) {
            json_object_del(rec, k);
            continue;
        }
        const child_kind *ck = json_is_array(v) ? core_child_kind(k) : NULL;
        if (ck) {
            size_t i;
            json_t *ch;
            json_array_foreach (v, i, ch) {
                const char *ck2;
                json_t *cv;
                void *t2;
                json_object_foreach_safe (ch, t2, ck2, cv) {
                    const cat_field *cf = catalogue_field(cat, ck->entity, ck2);
                    if (cf && cf->identity)
                        json_object_del(ch, ck2);
                }
            }
        }
    }
}

static void csv_out(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_value(FILE *f, const json_t *v)
{
    char num[64];
    if (json_is_string(v)) {
        csv_out(f, json_string_value(v));
    } else if (json_is_true(v)) {
        fputs("true", f);
    } else if (json_is_false(v)) {
        fputs("false", f);
    } else if (json_is_integer(v)) {
        fprintf(f, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(num, sizeof num, "%.15g", json_real_value(v));
        fputs(num, f);
    } else if (json_is_array(v)) {
        size_t cap = 256, n = 0;
        char *joined = malloc(cap);
        size_t i;
        const json_t *e;
        if (!joined)
            return;
        joined[0] = 0;
        json_array_foreach (v, i, e) {
            const char *s = json_string_value(e);
            if (!s)
                continue;
            size_t need = n + strlen(s) + 2;
            if (need > cap) {
                char *g = realloc(joined, cap = need * 2);
                if (!g)
                    break;
                joined = g;
            }
            n += (size_t)sprintf(joined + n, "%s%s", n ? ";" : "", s);
        }
        csv_out(f, joined);
        free(joined);
    }
}

typedef struct {
    char (*uids)[40];
    size_t n, cap;
    bool oom;
} uid_list;

static int collect_uid(void *arg, const store_scan_case *row)
{
    uid_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        char(*g)[40] = realloc(l->uids, cap * sizeof *g);
        if (!g) {
            l->oom = true;
            return 1;
        }
        l->uids = g;
        l->cap = cap;
    }
    snprintf(l->uids[l->n++], 40, "%s", row->uid);
    return 0;
}

amp_code htcds_export(core *c, const principal *p, htcds_format format, bool with_identity,
                      FILE *out, json_t **summary, amp_err *err)
{
    *summary = NULL;
    amp_code code = authz_require(p, ACT_READ, RES_CASE, err);
    if (code != AMP_OK)
        return code;
    if (format != HTCDS_CSV && format != HTCDS_JSON)
        return amp_err_set(err, AMP_EINVALID, "export formats: csv or json");
    bool identity = with_identity && (p->internal || authz_sees_identity(p));
    const catalogue *cat = core_catalogue(c);
    size_t nf;
    const cat_field *const *fs = catalogue_fields(cat, "case", &nf);
    if (format == HTCDS_CSV) {
        bool first = true;
        for (size_t i = 0; i < nf; i++) {
            if (fs[i]->identity && !identity)
                continue;
            fputs(first ? "" : ",", out);
            fputs(fs[i]->name, out);
            first = false;
        }
        fputs("\r\n", out);
    } else if (identity) {
        fputs("[\n", out);
    } else {
        /* says so, for an import to know that the identity fields the rules
         * require were withheld, not forgotten */
        fputs("{\"format\": \"htcds-json\", \"identity\": false, \"items\": [\n", out);
    }
    /* every case id in one read snapshot, then each case through the core */
    uid_list ids = {0};
    if (store_reports_scan_cases(core_store(c), NULL, 0, collect_uid, &ids, NULL) != STORE_OK ||
        ids.oom) {
        free(ids.uids);
        return amp_err_set(err, AMP_EINTERNAL, "the cases could not be read");
    }
    size_t ncases = 0;
    for (size_t i = 0; i < ids.n; i++) {
        json_t *rec = NULL;
        amp_err e2 = {0};
        if (cases_get(c, p, ids.uids[i], &rec, &e2) == AMP_OK) {
            if (!identity)
                strip_identity(cat, rec);
            if (format == HTCDS_CSV) {
                bool first = true;
                for (size_t k = 0; k < nf; k++) {
                    if (fs[k]->identity && !identity)
                        continue;
                    if (!first)
                        fputc(',', out);
                    first = false;
                    csv_value(out, json_object_get(rec, fs[k]->name));
                }
                fputs("\r\n", out);
            } else {
                char *text = json_dumps(rec, JSON_COMPACT);
                if (text) {
                    fprintf(out, "%s%s", ncases ? ",\n" : "", text);
                    free(text);
                }
            }
            ncases++;
            json_decref(rec);
        }
        amp_err_clear(&e2);
    }
    free(ids.uids);
    if (format == HTCDS_JSON)
        fputs(identity ? "\n]\n" : "\n]}\n", out);
    if (fflush(out) != 0 || ferror(out))
        return amp_err_set(err, AMP_EINTERNAL, "the file could not be written");
    *summary = json_pack("{s:s, s:I, s:b}", "format", format_name(format), "cases",
                         (json_int_t)ncases, "identity", identity);
    json_t *detail = json_pack("{s:s, s:I, s:b}", "format", format_name(format), "cases",
                               (json_int_t)ncases, "identity", identity);
    code = audit_log(c, p, "export.htcds", "export", format_name(format), detail, err);
    json_decref(detail);
    return code;
}
