/* cases.c — cases and their child records: create, read, patch, list, history. */
#include "core/audit.h"
#include "core/blindindex.h"
#include "core/casekey.h"
#include "core/consent.h"
#include "core/keyring.h"
#include "core/core.h"
#include "core/seal.h"
#include "core/validate.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/uuid.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct core {
    store *store;
    const catalogue *cat;
    char default_country[3];
    keyring *kr;           /* identity data is sealed under per-case keys when set */
    read_journal *journal; /* reads recorded through it when set (audit_read) */
};

#define MAX_CHILDREN 200 /* per kind, per case */

static const child_kind child_kinds[] = {
    {"event", "events"},
    {"comment", "comments"},
    {"support_plan", "support_plans"},
    {"perpetrator", "perpetrators"},
};
#define NKINDS (sizeof child_kinds / sizeof *child_kinds)

/* Keys the server sets; a client may not write them (except "version" in a patch). */
static const char *const meta_keys[] = {"id",         "reference",  "version",    "created_at",
                                        "updated_at", "created_by", "updated_by", NULL};

/* Set in a case's stored document when it was erased (server-only: never a
 * catalogue field). */
#define ERASED_KEY "_erased_at"

/* The derived filter: countries of the events of type Exploitation. */
#define TERM_COUNTRY_OF_EXPLOITATION "country_of_exploitation"

core *core_new(store *s, const catalogue *cat, const char *default_country)
{
    core *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->store = s;
    c->cat = cat;
    snprintf(c->default_country, sizeof c->default_country, "%s",
             default_country ? default_country : "");
    return c;
}

void core_free(core *c)
{
    free(c);
}
const catalogue *core_catalogue(const core *c)
{
    return c->cat;
}
void core_set_keyring(core *c, keyring *kr)
{
    c->kr = kr;
}
void core_set_read_journal(core *c, read_journal *j)
{
    c->journal = j;
}

read_journal *core_read_journal(core *c)
{
    return c->journal;
}

keyring *core_keyring(core *c)
{
    return c->kr;
}
store *core_store(core *c)
{
    return c->store;
}

const child_kind *core_child_kind(const char *collection)
{
    for (size_t i = 0; i < NKINDS; i++) {
        const char *a = child_kinds[i].collection;
        size_t n = strlen(a);
        if (strlen(collection) != n)
            continue;
        size_t k = 0;
        while (k < n && (a[k] == collection[k] || (a[k] == '_' && collection[k] == '-')))
            k++;
        if (k == n)
            return &child_kinds[i];
    }
    return NULL;
}

static bool is_meta_key(const char *key)
{
    for (const char *const *m = meta_keys; *m; m++) {
        if (strcmp(*m, key) == 0)
            return true;
    }
    return false;
}

static bool lookup_exists(void *arg, const char *target, const char *id)
{
    core *c = arg;
    if (strcmp(target, "organisation") != 0)
        return true; /* users and persons arrive with access control */
    store_row r;
    int rc = store_org_get(c->store, id, &r);
    if (rc == STORE_OK)
        store_row_release(&r);
    return rc == STORE_OK;
}

typedef struct cases_bulk cases_bulk;
static bool bulk_lookup_exists(void *arg, const char *target, const char *id);

/* bulk: the bulk load whose cache answers lookups, or NULL */
static validate_ctx make_ctx(core *c, const principal *p, const char *today, const char *birth,
                             const char *prefix, cases_bulk *bulk)
{
    validate_ctx v = {.today = today,
                      .birthdate = birth,
                      .lang = p->lang,
                      .prefix = prefix,
                      .lookup_exists = bulk ? bulk_lookup_exists : lookup_exists,
                      .lookup_arg = bulk ? (void *)bulk : (void *)c};
    return v;
}

/* ==== turning rows into records ============================================ */

/* ==== encryption at rest ============================================================
 * With a keyring, the identity members of every stored document (case and
 * children) are sealed under the case's data key (seal.h, casekey.h); the core
 * works on clear documents and seals them on the way to the store. */

static bool sealing(const core *c)
{
    return c->kr != NULL;
}

/* The stored form of a clear document (new reference), or NULL with err. */
static json_t *seal_for_store(core *c, const unsigned char *dek, const char *kind, const char *uid,
                              const json_t *doc, amp_err *err)
{
    if (!dek)
        return json_deep_copy(doc);
    seal_aad aad = {kind, uid};
    return seal_doc(dek, &aad, doc, seal_catalogue_identity, (void *)c->cat, err);
}

/* The clear form of a stored document (new reference): opened with dek, or
 * without its sealed member when dek is NULL.  NULL with err when it does not
 * authenticate. */
static json_t *open_stored(const unsigned char *dek, const char *kind, const char *uid,
                           const json_t *stored, amp_err *err)
{
    if (!dek)
        return strip_sealed(stored);
    seal_aad aad = {kind, uid};
    return open_doc(dek, &aad, stored, err);
}

/* Opens, in place, every child row's "doc" of a stored-children object
 * {kind: [{"id", …, "doc"}]}.  0, or -1 with err. */
static int open_children(const unsigned char *dek, json_t *stored, amp_err *err)
{
    const char *kind;
    json_t *rows;
    json_object_foreach (stored, kind, rows) {
        size_t i;
        json_t *row;
        json_array_foreach (rows, i, row) {
            json_t *clear = open_stored(dek, kind, json_string_value(json_object_get(row, "id")),
                                        json_object_get(row, "doc"), err);
            if (!clear)
                return -1;
            json_object_set_new(row, "doc", clear);
        }
    }
    return 0;
}

/* The case's data key for reads (tx NULL) or inside a job.  *have is false when
 * documents are not sealed here or the case has no key any more (erased). */
static amp_code load_dek(core *c, store_tx *tx, const char *uid, unsigned char dek[32], bool *have,
                         amp_err *err)
{
    *have = false;
    if (!sealing(c))
        return AMP_OK;
    amp_code code = tx ? casekey_load_tx(tx, c->kr, uid, dek, err)
                       : casekey_load(c->store, c->kr, uid, dek, err);
    if (code == AMP_ENOTFOUND) {
        amp_err_clear(err);
        return AMP_OK;
    }
    *have = code == AMP_OK;
    return code;
}

/* load_dek for a wrapped key read along with its case. */
static amp_code unwrap_read_key(core *c, store_case_key *k, unsigned char dek[32], bool *have,
                                amp_err *err)
{
    *have = false;
    if (!sealing(c) || !k->case_uid[0])
        return AMP_OK;
    amp_code code = casekey_unwrap(c->kr, k, dek, err);
    sodium_memzero(k->wrapped, sizeof k->wrapped);
    if (code == AMP_ENOTFOUND) {
        amp_err_clear(err);
        return AMP_OK;
    }
    *have = code == AMP_OK;
    return code;
}

static void put_meta(json_t *o, const store_row *r)
{
    json_object_set_new(o, "id", json_string(r->uid));
    if (r->reference[0])
        json_object_set_new(o, "reference", json_string(r->reference));
    json_object_set_new(o, "version", json_integer(r->version));
    json_object_set_new(o, "created_at", json_string(r->created_at));
    json_object_set_new(o, "updated_at", json_string(r->updated_at));
    json_object_set_new(o, "created_by", json_string(r->created_by));
    json_object_set_new(o, "updated_by", json_string(r->updated_by));
}

static json_t *row_record(const store_row *r)
{
    json_t *o = json_object();
    put_meta(o, r);
    json_object_update(o, r->doc);
    return o;
}

/* A child as the store lists it ({id, version, …, doc}) turned into a record. */
static json_t *stored_child_record(const json_t *stored)
{
    json_t *o = json_object();
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)stored, key, v) {
        if (strcmp(key, "doc") != 0)
            json_object_set(o, key, v);
    }
    json_object_update(o, json_object_get(stored, "doc"));
    return o;
}

/* The order of a child within its kind, as a string the store sorts by: events
 * in route order (amp_EventSequence, then hte_Date; those without come after);
 * other kinds in creation order. */
static void child_sort_key(const char *entity, const json_t *doc, char out[48])
{
    out[0] = '\0';
    if (strcmp(entity, "event") != 0)
        return;
    const json_t *seq = json_object_get(doc, "amp_EventSequence");
    const char *date = json_string_value(json_object_get(doc, "hte_Date"));
    json_int_t n = json_is_integer(seq) ? json_integer_value(seq) : 0;
    snprintf(out, 48, "%c%010lld%c%.10s", n > 0 ? '0' : '1', n > 0 ? (long long)n : 0LL,
             date ? '0' : '1', date ? date : "");
}

/* The full case record: row fields plus every child collection (possibly empty). */
static json_t *case_record(const store_row *r, const json_t *stored_children)
{
    json_t *o = row_record(r);
    for (size_t k = 0; k < NKINDS; k++) {
        json_t *arr = json_array();
        size_t i;
        json_t *ch;
        json_array_foreach (json_object_get(stored_children, child_kinds[k].entity), i, ch)
            json_array_append_new(arr, stored_child_record(ch));
        json_object_set_new(o, child_kinds[k].collection, arr);
    }
    return o;
}

/* ==== records as JSON text (the fast paths) ===================================== */

/* Appends the server-set members of a row (no braces). */
/* Appends the server-set members after "id" and "reference". */
static void add_meta_rest_text(buf *b, const store_row *r)
{
    buf_adds(b, ",\"version\":");
    buf_add_int(b, (long long)r->version);
    buf_adds(b, ",\"created_at\":");
    buf_add_json_string(b, r->created_at);
    buf_adds(b, ",\"updated_at\":");
    buf_add_json_string(b, r->updated_at);
    buf_adds(b, ",\"created_by\":");
    buf_add_json_string(b, r->created_by);
    buf_adds(b, ",\"updated_by\":");
    buf_add_json_string(b, r->updated_by);
}

static void add_meta_text(buf *b, const store_row *r, bool with_reference)
{
    buf_adds(b, "\"id\":");
    buf_add_json_string(b, r->uid);
    if (with_reference) {
        buf_adds(b, ",\"reference\":");
        buf_add_json_string(b, r->reference);
    }
    add_meta_rest_text(b, r);
}

/* Appends ",<members of the stored object>" (nothing for an empty object). */
static void add_members_text(buf *b, const char *raw)
{
    size_t n = strlen(raw);
    if (n > 2 && raw[0] == '{' && raw[n - 1] == '}') {
        buf_addc(b, ',');
        buf_add(b, raw + 1, n - 2);
    }
}

/* ==== case terms ================================================================ */

static void add_term(json_t *terms, const char *name, const char *value)
{
    json_t *arr = json_object_get(terms, name);
    if (!arr) {
        arr = json_array();
        json_object_set_new(terms, name, arr);
    }
    size_t i;
    json_t *v;
    json_array_foreach (arr, i, v) {
        if (strcmp(json_string_value(v), value) == 0)
            return;
    }
    json_array_append_new(arr, json_string(value));
}

/* The filterable terms of a case: {filter: [values]} from the catalogue's filter
 * fields, plus the countries of exploitation from its events (stored children:
 * {entity: [{"id", …, "doc"}]}). */
static json_t *case_terms(const core *c, const json_t *fields, const json_t *stored_children)
{
    json_t *terms = json_object();
    size_t n;
    const cat_field *const *fs = catalogue_fields(c->cat, "case", &n);
    for (size_t i = 0; i < n; i++) {
        const cat_field *f = fs[i];
        if (!f->filter || f->type == FT_DATE)
            continue;
        json_t *v = json_object_get(fields, f->name);
        if (json_is_string(v)) {
            add_term(terms, f->filter, json_string_value(v));
        } else if (json_is_array(v)) {
            size_t k;
            json_t *e;
            json_array_foreach (v, k, e) {
                if (json_is_string(e))
                    add_term(terms, f->filter, json_string_value(e));
            }
        }
    }
    size_t i;
    json_t *ev;
    json_array_foreach (json_object_get(stored_children, "event"), i, ev) {
        const json_t *doc = json_object_get(ev, "doc");
        const char *type = json_string_value(json_object_get(doc, "hte_Type"));
        const char *country = json_string_value(json_object_get(doc, "hte_Country"));
        if (type && country && strcmp(type, "Exploitation") == 0)
            add_term(terms, TERM_COUNTRY_OF_EXPLOITATION, country);
    }
    return terms;
}

/* ==== checking input ============================================================ */

/* Splits a create body into case fields and child documents by entity.  Reports
 * read-only and malformed child arrays into err.  Returns new references. */
/* The case's terms with the blind indexes of its names and identity number
 * (from the clear fields). */
static json_t *full_terms(core *c, const json_t *clear_fields, const json_t *stored_children)
{
    json_t *terms = case_terms(c, clear_fields, stored_children);
    if (sealing(c) && blind_terms_for_case(keyring_index_key(c->kr), clear_fields, terms) < 0) {
        json_decref(terms);
        return NULL;
    }
    return terms;
}

/* Whether the body's members can all be the case's fields as they are: no
 * collection of children, no member set by the server. */
static bool fields_only(const json_t *body)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)body, key, v) {
        if (core_child_kind(key) || is_meta_key(key))
            return false;
    }
    return true;
}

/* The body's fields and children (new references).  take: the body may be used
 * up — when it holds fields only, it becomes the fields instead of a copy. */
static void split_case_body(const json_t *body, bool take, json_t **fields, json_t **children,
                            amp_err *err)
{
    if (take && fields_only(body)) {
        *fields = json_incref((json_t *)body);
        *children = json_object();
        return;
    }
    *fields = json_object();
    *children = json_object();
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)body, key, v) {
        const child_kind *kind = core_child_kind(key);
        if (kind) {
            char path[64];
            snprintf(path, sizeof path, "%s", key);
            if (!json_is_array(v)) {
                amp_err_field(err, path, "type", "must be an array of records");
                continue;
            }
            if (json_array_size(v) > MAX_CHILDREN) {
                amp_err_field(err, path, "max_items", "too many records (at most 200)");
                continue;
            }
            json_object_set_new(*children, kind->entity, json_deep_copy(v));
        } else if (is_meta_key(key)) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s is set by the server and cannot be written", key);
            amp_err_field(err, key, "read_only", msg);
        } else {
            json_object_set(*fields, key, v);
        }
    }
}

/* Adds catalogue defaults and the registration defaults to new case fields. */
static void apply_case_defaults(const core *c, json_t *fields, const char *today)
{
    size_t n;
    const cat_field *const *fs = catalogue_fields(c->cat, "case", &n);
    for (size_t i = 0; i < n; i++) {
        if (!fs[i]->default_value)
            continue;
        const json_t *cur = json_object_get(fields, fs[i]->name);
        if (!cur || json_is_null(cur))
            json_object_set_new(fields, fs[i]->name, json_deep_copy(fs[i]->default_value));
    }
    const json_t *d = json_object_get(fields, "amp_RegistrationDate");
    if (!d || json_is_null(d))
        json_object_set_new(fields, "amp_RegistrationDate", json_string(today));
    const json_t *cc = json_object_get(fields, "amp_RegistrationCountry");
    if ((!cc || json_is_null(cc)) && c->default_country[0])
        json_object_set_new(fields, "amp_RegistrationCountry", json_string(c->default_country));
}

/* Removes null members (absent values) from a document. */
static void drop_nulls(json_t *doc)
{
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe (doc, tmp, key, v) {
        if (json_is_null(v))
            json_object_del(doc, key);
    }
}

static const char *birthdate_of(const json_t *fields)
{
    const char *b = json_string_value(json_object_get(fields, "prs_Birthdate"));
    return b && validate_date(b) ? b : NULL;
}

/* Validates a child document at position `index` of its collection (index < 0:
 * a child on its own). */
static void validate_child(core *c, const principal *p, const child_kind *kind, const json_t *doc,
                           int index, const char *today, const char *birth, cases_bulk *bulk,
                           amp_err *err)
{
    char prefix[64] = "";
    if (index >= 0)
        snprintf(prefix, sizeof prefix, "%s[%d].", kind->collection, index);
    if (!json_is_object(doc)) {
        char path[64];
        snprintf(path, sizeof path, "%s[%d]", kind->collection, index);
        amp_err_field(err, index >= 0 ? path : kind->collection, "object",
                      "each record must be a JSON object");
        return;
    }
    validate_ctx v = make_ctx(c, p, today, birth, prefix, bulk);
    validate_record(c->cat, kind->entity, doc, &v, NULL, err);
}

/* Validates case fields and every child document. */
static void validate_case(core *c, const principal *p, const json_t *fields, const json_t *children,
                          const char *today, cases_bulk *bulk, amp_err *err)
{
    validate_ctx v = make_ctx(c, p, today, NULL, NULL, bulk);
    validate_record(c->cat, "case", fields, &v, NULL, err);
    const char *birth = birthdate_of(fields);
    for (size_t k = 0; k < NKINDS; k++) {
        size_t i;
        json_t *doc;
        json_array_foreach (json_object_get(children, child_kinds[k].entity), i, doc)
            validate_child(c, p, &child_kinds[k], doc, (int)i, today, birth, bulk, err);
    }
}

static amp_code invalid(amp_err *err, const principal *p)
{
    size_t n = json_array_size(err->fields);
    if (p->lang[0] == 'e' && p->lang[1] == 's')
        return amp_err_set(err, AMP_EINVALID, "%zu campo(s) no son válidos", n);
    if (p->lang[0] == 'f' && p->lang[1] == 'r')
        return amp_err_set(err, AMP_EINVALID, "%zu champ(s) non valides", n);
    if (p->lang[0] == 'u' && p->lang[1] == 'k')
        return amp_err_set(err, AMP_EINVALID, "Недійсних полів: %zu", n);
    return amp_err_set(err, AMP_EINVALID, "%zu field%s invalid", n, n == 1 ? " is" : "s are");
}

/* Names of the fields whose values differ between two documents, sorted. */
static int cmp_json_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* A new array of the names in `names` (a char* list of n entries), sorted. */
static json_t *sorted_names(const char **names, size_t n)
{
    json_t **items = malloc((n ? n : 1) * sizeof *items);
    json_t *arr = json_array();
    if (!items)
        return arr;
    for (size_t i = 0; i < n; i++)
        items[i] = json_string(names[i]);
    qsort(items, n, sizeof *items, cmp_json_str);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, items[i]);
    free(items);
    return arr;
}

/* Names of the fields whose values differ between two documents, sorted. */
static json_t *changed_fields(const json_t *before, const json_t *after)
{
    size_t cap = json_object_size(before) + json_object_size(after), n = 0;
    const char **names = malloc((cap ? cap : 1) * sizeof *names);
    if (!names)
        return json_array();
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)after, key, v) {
        if (!json_equal(v, json_object_get(before, key)))
            names[n++] = key;
    }
    json_object_foreach ((json_t *)before, key, v) {
        if (!json_object_get(after, key))
            names[n++] = key;
    }
    json_t *arr = sorted_names(names, n);
    free(names);
    return arr;
}

/* The field names of a document, sorted. */
static json_t *field_names(const json_t *doc)
{
    size_t n = 0;
    const char **names = malloc((json_object_size(doc) + 1) * sizeof *names);
    if (!names)
        return json_array();
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)doc, key, v)
        names[n++] = key;
    json_t *arr = sorted_names(names, n);
    free(names);
    return arr;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* field_names(doc) as compact JSON text (what json_dumps would give), built
 * without the array; NULL when a name is not a plain identifier (letters,
 * digits, '_': nothing to escape) or memory runs out. */
static char *field_names_text(const json_t *doc)
{
    size_t n = 0, len = 2;
    const char **names = malloc((json_object_size(doc) + 1) * sizeof *names);
    if (!names)
        return NULL;
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)doc, key, v) {
        for (const char *t = key; *t; t++) {
            if (!((*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z') ||
                  (*t >= '0' && *t <= '9') || *t == '_')) {
                free(names);
                return NULL;
            }
        }
        names[n++] = key;
        len += strlen(key) + 3;
    }
    qsort(names, n, sizeof *names, cmp_cstr);
    char *out = malloc(len + 1), *o = out;
    if (out) {
        *o++ = '[';
        for (size_t i = 0; i < n; i++) {
            size_t k = strlen(names[i]);
            if (i)
                *o++ = ',';
            *o++ = '"';
            memcpy(o, names[i], k);
            o += k;
            *o++ = '"';
        }
        *o++ = ']';
        *o = 0;
    }
    free(names);
    return out;
}

/* ==== asynchronous write operations =============================================== */

typedef enum {
    OP_CASE_CREATE,
    OP_CASE_UPDATE,
    OP_CHILD_CREATE,
    OP_CHILD_UPDATE,
    OP_CHILD_DELETE
} op_type;

typedef struct {
    op_type type;
    core *c;
    principal p;
    char key[72]; /* case id or reference */
    const child_kind *kind;
    char uid[40];     /* child id */
    json_t *fields;   /* create: validated case fields / child doc; update: the patch */
    json_t *children; /* case create: child docs by entity */
    int64_t if_match, body_version;
    bool any_version; /* cases_tx_patch: inside the caller's transaction, no version check */
    char today[11];
    amp_code code;
    amp_err err;
    json_t *result;
    char *result_text; /* case create: the record as JSON text; result is then a summary */
    size_t result_len;
    void *prepared; /* case create: the new_case */
    void (*prepared_free)(void *);
    core_done_fn done;
    void *arg;
} write_op;

#define JOB_FAILED 100 /* job return values above this carry an amp_code */

static write_op *op_new(op_type type, core *c, const principal *p, core_done_fn done, void *arg)
{
    write_op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->type = type;
    op->c = c;
    op->p = *p;
    op->done = done;
    op->arg = arg;
    clock_today(op->today);
    return op;
}

static void op_free(write_op *op)
{
    json_decref(op->fields);
    json_decref(op->children);
    json_decref(op->result);
    free(op->result_text);
    if (op->prepared_free)
        op->prepared_free(op->prepared);
    amp_err_clear(&op->err);
    free(op);
}

static int op_fail(write_op *op, amp_code code)
{
    op->code = code;
    json_decref(op->result);
    op->result = NULL;
    free(op->result_text);
    op->result_text = NULL;
    return JOB_FAILED + (int)code;
}

static int store_failure(write_op *op, int rc, const char *what)
{
    if (rc == STORE_NOTFOUND) {
        amp_err_set(&op->err, AMP_ENOTFOUND, "no %s '%s'", what, op->key);
        return op_fail(op, AMP_ENOTFOUND);
    }
    if (rc == STORE_CONFLICT) {
        amp_err_set(&op->err, AMP_ECONFLICT, "the %s was changed by someone else", what);
        return op_fail(op, AMP_ECONFLICT);
    }
    amp_err_set(&op->err, AMP_EINTERNAL, "storage failure");
    return op_fail(op, AMP_EINTERNAL);
}

static void op_done(void *arg, int rc)
{
    write_op *op = arg;
    if (rc != STORE_OK && op->code == AMP_OK) {
        log_error("core: write was not committed (store code %d)", rc);
        amp_err_set(&op->err, AMP_EINTERNAL, "the write could not be saved");
        op->code = AMP_EINTERNAL;
    }
    json_t *result = op->code == AMP_OK ? op->result : NULL;
    char *text = op->code == AMP_OK ? op->result_text : NULL;
    op->result = NULL;
    op->result_text = NULL;
    op->done(op->arg, op->code, result, text, &op->err);
    op_free(op);
}

/* Child documents by entity from stored children ({entity: [{…, "doc"}]}). */
static json_t *stored_docs(const json_t *stored)
{
    json_t *out = json_object();
    const char *kind;
    json_t *rows;
    json_object_foreach ((json_t *)stored, kind, rows) {
        json_t *arr = json_array();
        size_t i;
        json_t *row;
        json_array_foreach (rows, i, row)
            json_array_append(arr, json_object_get(row, "doc"));
        json_object_set_new(out, kind, arr);
    }
    return out;
}

static json_t *stored_child(const store_row *ch)
{
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:O}", "id", ch->uid, "version",
                     (json_int_t)ch->version, "created_at", ch->created_at, "updated_at",
                     ch->updated_at, "created_by", ch->created_by, "updated_by", ch->updated_by,
                     "doc", ch->doc);
}

/* ---- case create ---- */

/* A new case made ready outside the writer: rows with identifiers, timestamps and
 * serialised documents, its terms and the record to answer with.  The writer
 * thread then only assigns the reference and runs the inserts. */
typedef struct {
    store_row row;       /* the case; doc borrowed from the fields */
    store_row *children; /* docs borrowed from the body's child arrays */
    size_t nchildren;
    json_t *fields, *terms, *names;
    char *text_head; /* the answer as JSON text up to "reference": ... */
    char *text_tail; /* ... and after it; joined around the reference at insert */
    char seqname[16];
    bool sealed;           /* the documents were sealed under dek */
    unsigned char dek[32]; /* the new case's data key, stored (wrapped) at insert */
} new_case;

static void new_case_release(new_case *nc)
{
    for (size_t i = 0; i < nc->nchildren; i++)
        free((char *)nc->children[i].doc_text);
    free(nc->children);
    free((char *)nc->row.doc_text);
    json_decref(nc->fields);
    json_decref(nc->terms);
    json_decref(nc->names);
    free(nc->text_head);
    free(nc->text_tail);
    sodium_memzero(nc, sizeof *nc);
}

/* json_dumps(v, JSON_COMPACT), written by buf_add_json. */
static char *json_text(const json_t *v)
{
    buf b;
    buf_init(&b);
    buf_add_json(&b, v);
    return buf_detach(&b, NULL);
}

/* The stored text of a new record's clear document: sealed when the core seals. */
static char *stored_text(core *c, new_case *nc, const char *kind, const char *uid,
                         const json_t *doc)
{
    if (!nc->sealed)
        return json_text(doc);
    amp_err err = {0};
    seal_aad aad = {kind, uid};
    char *text = seal_doc_text(nc->dek, &aad, doc, seal_catalogue_identity, (void *)c->cat, &err);
    if (!text)
        log_error("cases: cannot seal a new %s: %s", kind, err.message);
    amp_err_clear(&err);
    return text;
}

/* Appends a new record's members as reads will show them. */
static void add_answer_members(core *c, buf *b, const char *kind, const json_t *doc)
{
    json_t *canon = seal_canonical(doc, kind, seal_catalogue_identity, (void *)c->cat);
    char *text = canon ? json_dumps(canon, JSON_COMPACT) : NULL;
    if (text)
        add_members_text(b, text);
    free(text);
    json_decref(canon);
}

static void fill_new_row(store_row *r, const principal *p, const char *now)
{
    uuid_v7(r->uid);
    r->version = 1;
    snprintf(r->created_at, sizeof r->created_at, "%s", now);
    snprintf(r->updated_at, sizeof r->updated_at, "%s", now);
    snprintf(r->created_by, sizeof r->created_by, "%s", p->actor);
    snprintf(r->updated_by, sizeof r->updated_by, "%s", p->actor);
}

/* Builds a new_case from validated fields (taken: the new_case owns them) and
 * child documents by entity (borrowed for the duration of the insert). */
static int new_case_build(core *c, const principal *p, json_t *fields, json_t *children,
                          bool want_record, char **names_text, new_case *nc)
{
    memset(nc, 0, sizeof *nc);
    nc->fields = fields;
    char now[32];
    clock_now(now);
    const char *regdate = json_string_value(json_object_get(fields, "amp_RegistrationDate"));
    const char *country = json_string_value(json_object_get(fields, "amp_RegistrationCountry"));
    const char *owner = json_string_value(json_object_get(fields, "amp_OwnerOrganisation"));
    snprintf(nc->seqname, sizeof nc->seqname, "%.2s-%.4s", country && *country ? country : "XX",
             regdate);
    store_row *r = &nc->row;
    fill_new_row(r, p, now);
    snprintf(r->registered_on, sizeof r->registered_on, "%s", regdate);
    snprintf(r->owner_org, sizeof r->owner_org, "%s", owner ? owner : "");
    r->doc = fields;
    nc->sealed = sealing(c);
    if (nc->sealed)
        randombytes_buf(nc->dek, sizeof nc->dek);
    r->doc_text = stored_text(c, nc, "case", r->uid, fields);

    size_t n = 0;
    for (size_t k = 0; k < NKINDS; k++)
        n += json_array_size(json_object_get(children, child_kinds[k].entity));
    nc->children = calloc(n ? n : 1, sizeof *nc->children);
    if (!nc->children || !r->doc_text)
        return STORE_ERROR;
    json_t *stored = json_object();
    for (size_t k = 0; k < NKINDS; k++) {
        size_t i;
        json_t *doc;
        size_t first = nc->nchildren;
        json_array_foreach (json_object_get(children, child_kinds[k].entity), i, doc) {
            store_row *ch = &nc->children[nc->nchildren++];
            fill_new_row(ch, p, now);
            snprintf(ch->kind, sizeof ch->kind, "%s", child_kinds[k].entity);
            drop_nulls(doc);
            ch->doc = doc;
            ch->doc_text = stored_text(c, nc, ch->kind, ch->uid, doc);
            if (!ch->doc_text) {
                json_decref(stored);
                return STORE_ERROR;
            }
            child_sort_key(ch->kind, doc, ch->sort_key);
            /* keep the kind's rows in sort-key order (stable: ties keep body order),
             * the order they are inserted in and read back */
            for (size_t m = nc->nchildren - 1;
                 m > first && strcmp(nc->children[m - 1].sort_key, nc->children[m].sort_key) > 0;
                 m--) {
                store_row tmp = nc->children[m - 1];
                nc->children[m - 1] = nc->children[m];
                nc->children[m] = tmp;
            }
        }
        if (nc->nchildren > first) {
            json_t *arr = json_array();
            for (size_t m = first; m < nc->nchildren; m++)
                json_array_append_new(arr, stored_child(&nc->children[m]));
            json_object_set_new(stored, child_kinds[k].entity, arr);
        }
    }
    nc->terms = full_terms(c, fields, stored);
    if (!nc->terms) {
        json_decref(stored);
        return STORE_ERROR;
    }
    /* the field names as JSON text straight away when the caller only needs the
     * text (bulk loads); as an array otherwise, or when a name needs escaping */
    if (names_text && (*names_text = field_names_text(fields)) != NULL)
        nc->names = NULL;
    else
        nc->names = field_names(fields);
    if (want_record) { /* the 201 answer, built like reads build theirs */
        buf b;
        buf_init(&b);
        buf_adds(&b, "{\"id\":");
        buf_add_json_string(&b, r->uid);
        buf_adds(&b, ",\"reference\":");
        nc->text_head = buf_detach(&b, NULL);
        add_meta_rest_text(&b, r);
        add_answer_members(c, &b, "case", fields);
        for (size_t k = 0; k < NKINDS; k++) {
            buf_adds(&b, ",\"");
            buf_adds(&b, child_kinds[k].collection);
            buf_adds(&b, "\":[");
            bool first = true;
            for (size_t m = 0; m < nc->nchildren; m++) {
                const store_row *ch = &nc->children[m];
                if (strcmp(ch->kind, child_kinds[k].entity) != 0)
                    continue;
                buf_adds(&b, first ? "{" : ",{");
                first = false;
                add_meta_text(&b, ch, false);
                add_answer_members(c, &b, ch->kind, ch->doc);
                buf_addc(&b, '}');
            }
            buf_addc(&b, ']');
        }
        buf_addc(&b, '}');
        nc->text_tail = buf_detach(&b, NULL);
        if (!nc->text_head || !nc->text_tail) {
            json_decref(stored);
            return STORE_ERROR;
        }
    }
    json_decref(stored);
    return STORE_OK;
}

/* Inserts a prepared case: reference, data key, case row, children, history. */
static int new_case_insert(core *c, store_tx *tx, const principal *p, new_case *nc)
{
    int64_t seq;
    int rc = store_tx_next_sequence(tx, nc->seqname, &seq);
    if (rc != STORE_OK)
        return rc;
    store_row *r = &nc->row;
    if (nc->sealed) {
        amp_err err = {0};
        amp_code code = casekey_store(tx, c->kr, r->uid, r->created_at, nc->dek, &err);
        amp_err_clear(&err);
        if (code != AMP_OK)
            return STORE_ERROR;
    }
    snprintf(r->reference, sizeof r->reference, "%s-%06lld", nc->seqname, (long long)seq);
    rc = store_tx_case_insert(tx, r, nc->terms);
    for (size_t i = 0; i < nc->nchildren && rc == STORE_OK; i++) {
        nc->children[i].case_id = r->id;
        rc = store_tx_child_insert(tx, &nc->children[i]);
    }
    if (rc == STORE_OK)
        rc = store_tx_history_add(tx, r->id, 1, r->created_at, p->actor, "create", NULL, nc->names);
    if (rc == STORE_OK) {
        json_t *d = json_pack("{s:s, s:O}", "reference", r->reference, "fields", nc->names);
        rc = audit_tx(tx, p, "case.create", "case", r->uid, d);
        json_decref(d);
    }
    return rc;
}

static void new_case_free(void *p)
{
    if (p)
        new_case_release(p);
    free(p);
}

static int job_case_create(store_tx *tx, void *arg)
{
    write_op *op = arg;
    new_case *nc = (new_case *)op->prepared;
    int rc = new_case_insert(op->c, tx, &op->p, nc);
    if (rc != STORE_OK)
        return store_failure(op, rc, "case");
    buf b;
    buf_init(&b);
    buf_adds(&b, nc->text_head);
    buf_add_json_string(&b, nc->row.reference);
    buf_adds(&b, nc->text_tail);
    op->result_text = buf_detach(&b, &op->result_len);
    op->result = json_pack("{s:s, s:s, s:I}", "id", nc->row.uid, "reference", nc->row.reference,
                           "version", (json_int_t)nc->row.version);
    return op->result_text ? STORE_OK : store_failure(op, STORE_ERROR, "case");
}

/* Checks and prepares new case fields; on success the fields and the children
 * are new references.  take: see split_case_body. */
static amp_code prepare_case_body(core *c, const principal *p, const json_t *body, bool take,
                                  const char *today, cases_bulk *bulk, json_t **fields,
                                  json_t **children, amp_err *err)
{
    *fields = *children = NULL;
    if (!json_is_object(body)) {
        amp_err_field(err, "", "object", "the body must be a JSON object");
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    split_case_body(body, take, fields, children, err);
    drop_nulls(*fields);
    apply_case_defaults(c, *fields, today);
    validate_case(c, p, *fields, *children, today, bulk, err);
    if (json_array_size(err->fields)) {
        json_decref(*fields);
        json_decref(*children);
        *fields = *children = NULL;
        return invalid(err, p);
    }
    return AMP_OK;
}

/* prepare_case_body of a body that stays the caller's, unchanged. */
static amp_code prepare_case(core *c, const principal *p, const json_t *body, const char *today,
                             cases_bulk *bulk, json_t **fields, json_t **children, amp_err *err)
{
    return prepare_case_body(c, p, body, false, today, bulk, fields, children, err);
}

static amp_code submit(write_op *op, store_job_fn job, amp_err *err)
{
    if (store_submit(op->c->store, job, op_done, op) != STORE_OK) {
        op_free(op);
        return amp_err_set(err, AMP_EINTERNAL, "the store is not accepting writes");
    }
    return AMP_OK;
}

/* Who may register a case with these fields: the role, identity fields, and the
 * owner organisation (one's own; the CLI and imports may name any). */
static amp_code create_policy(core *c, const principal *p, const json_t *body, amp_err *err)
{
    amp_code code = authz_require(p, ACT_CREATE, RES_CASE, err);
    if (code != AMP_OK || !json_is_object(body))
        return code;
    code = policy_identity_write(c, p, "case", body, ACT_CREATE, err);
    for (size_t k = 0; code == AMP_OK && k < NKINDS; k++) {
        size_t i;
        json_t *ch;
        json_array_foreach (json_object_get(body, child_kinds[k].collection), i, ch) {
            if (code == AMP_OK)
                code = policy_identity_write(c, p, child_kinds[k].entity, ch, ACT_CREATE, err);
        }
    }
    if (code != AMP_OK)
        return code;
    const char *owner = json_string_value(json_object_get(body, "amp_OwnerOrganisation"));
    if (owner && !p->internal && strcmp(owner, p->org) != 0) {
        amp_err_field(err, "amp_OwnerOrganisation", "forbidden",
                      "a case is registered by your own organisation; refer it to pass it on");
        return amp_err_set(err, AMP_EFORBIDDEN, "you may only register cases of your organisation");
    }
    return AMP_OK;
}

/* Fields the server derives from others: amp_AgeAtRegistration (so that figures
 * by age never need the sealed birth date). */
static void derive_fields(json_t *fields)
{
    int age =
        validate_years_between(json_string_value(json_object_get(fields, "prs_Birthdate")),
                               json_string_value(json_object_get(fields, "amp_RegistrationDate")));
    if (age >= 0 && age <= 130)
        json_object_set_new(fields, "amp_AgeAtRegistration", json_integer(age));
    else
        json_object_del(fields, "amp_AgeAtRegistration");
}

/* The owner organisation defaults to the caller's. */
static void default_owner(const principal *p, json_t *fields)
{
    derive_fields(fields);
    if (p->org[0] && !json_object_get(fields, "amp_OwnerOrganisation"))
        json_object_set_new(fields, "amp_OwnerOrganisation", json_string(p->org));
}

amp_code cases_create(core *c, const principal *p, const json_t *body, core_done_fn done, void *arg,
                      amp_err *err)
{
    amp_code pc = create_policy(c, p, body, err);
    if (pc != AMP_OK)
        return pc;
    write_op *op = op_new(OP_CASE_CREATE, c, p, done, arg);
    if (!op)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    json_t *fields;
    amp_code code = prepare_case(c, p, body, op->today, NULL, &fields, &op->children, err);
    if (code != AMP_OK) {
        op_free(op);
        return code;
    }
    default_owner(p, fields);
    op->prepared = calloc(1, sizeof(new_case));
    op->prepared_free = new_case_free;
    if (!op->prepared) {
        json_decref(fields);
        op_free(op);
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    }
    if (new_case_build(c, p, fields, op->children, true, NULL, op->prepared) != STORE_OK) {
        op_free(op);
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    }
    return submit(op, job_case_create, err);
}

amp_code cases_bulk_insert(core *c, const principal *p, const json_t *body, amp_err *err)
{
    char today[11];
    json_t *fields, *children;
    clock_today(today);
    amp_code code = create_policy(c, p, body, err);
    if (code != AMP_OK)
        return code;
    code = prepare_case(c, p, body, today, NULL, &fields, &children, err);
    if (code != AMP_OK)
        return code;
    default_owner(p, fields);
    new_case nc;
    int rc = new_case_build(c, p, fields, children, false, NULL, &nc);
    if (rc == STORE_OK)
        rc = new_case_insert(c, store_bulk_tx(c->store), p, &nc);
    new_case_release(&nc);
    json_decref(children);
    if (rc != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "storage failure (code %d)", rc);
    return AMP_OK;
}

/* ---- bulk loads with worker threads ----
 * cases_bulk_prepare does everything that needs no database write (checks,
 * defaults, sealing, terms, blind indexes, texts, the wrapped data key) and may
 * run on many threads; cases_bulk_add numbers and inserts, in order, on one.
 * Per-load state replaces per-row database round trips: owner organisations
 * looked up once, reference sequences counted in memory (written back once by
 * cases_bulk_close), and the audit chain head kept in memory. */

#define BULK_MAX_ORGS 256 /* organisations remembered; past it, lookups go to the store */
/* lists of field names written once per load (store_tx_field_list_add) and
 * named by the history rows; past this many, further lists are stored whole */
#define BULK_MAX_LISTS 65536

typedef struct {
    char name[16];
    int64_t last; /* last value handed out */
} bulk_seq;

struct cases_bulk {
    core *c;
    principal p;
    char today[11];
    pthread_mutex_t mu; /* guards orgs */
    struct {
        char *id;
        bool exists;
    } orgs[BULK_MAX_ORGS];
    size_t norgs;
    bulk_seq *seqs; /* used by the inserting thread only */
    size_t nseqs, seqcap;
    audit_chain chain;
    /* the load's field lists by text: open addressing, 2 * BULK_MAX_LISTS
     * slots, allocated at the first list (inserting thread only) */
    struct bulk_list {
        char *text;
        uint64_t hash;
        int64_t id;
    } * lists;
    size_t nlists;
};

struct cases_bulk_case {
    new_case nc;
    json_t *children;
    int gen; /* master key generation wrapping the data key */
    unsigned char wrapped[KEYRING_WRAPPED_BYTES];
    char *detail_head;   /* audit detail up to its reference: {"fields":[…] */
    char *names_text;    /* the history row's field names as JSON text */
    uint64_t names_hash; /* of names_text, hashed by the preparing thread */
};

/* For the load's table of field lists. */
static uint64_t text_hash(const char *s)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The field names as an array (parsed back from their text when the case
 * was prepared with the text only); borrowed from the case. */
static json_t *bulk_names(cases_bulk_case *bc)
{
    if (!bc->nc.names && bc->names_text)
        bc->nc.names = json_loads(bc->names_text, 0, NULL);
    return bc->nc.names;
}

static bool bulk_lookup_exists(void *arg, const char *target, const char *id)
{
    cases_bulk *b = arg;
    if (strcmp(target, "organisation") != 0)
        return true;
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < b->norgs; i++) {
        if (strcmp(b->orgs[i].id, id) == 0) {
            bool e = b->orgs[i].exists;
            pthread_mutex_unlock(&b->mu);
            return e;
        }
    }
    pthread_mutex_unlock(&b->mu);
    /* read outside the lock; the bulk load creates no organisation, so the
     * answer holds for its whole duration */
    bool e = lookup_exists(b->c, target, id);
    pthread_mutex_lock(&b->mu);
    bool known = false;
    for (size_t i = 0; i < b->norgs && !known; i++)
        known = strcmp(b->orgs[i].id, id) == 0;
    if (!known && b->norgs < BULK_MAX_ORGS) {
        char *copy = strdup(id);
        if (copy) {
            b->orgs[b->norgs].id = copy;
            b->orgs[b->norgs].exists = e;
            b->norgs++;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return e;
}

cases_bulk *cases_bulk_open(core *c, const principal *p)
{
    cases_bulk *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->c = c;
    b->p = *p;
    clock_today(b->today);
    pthread_mutex_init(&b->mu, NULL);
    return b;
}

void cases_bulk_case_free(cases_bulk_case *bc)
{
    if (!bc)
        return;
    new_case_release(&bc->nc);
    json_decref(bc->children);
    free(bc->detail_head);
    free(bc->names_text);
    sodium_memzero(bc, sizeof *bc);
    free(bc);
}

amp_code cases_bulk_prepare(cases_bulk *b, json_t *body, cases_bulk_case **out, amp_err *err)
{
    *out = NULL;
    core *c = b->c;
    const principal *p = &b->p;
    amp_code code = create_policy(c, p, body, err);
    if (code != AMP_OK)
        return code;
    json_t *fields, *children;
    code = prepare_case_body(c, p, body, true, b->today, b, &fields, &children, err);
    if (code != AMP_OK)
        return code;
    default_owner(p, fields);
    cases_bulk_case *bc = calloc(1, sizeof *bc);
    if (!bc) {
        json_decref(fields);
        json_decref(children);
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    }
    bc->children = children;
    int rc = new_case_build(c, p, fields, children, false, &bc->names_text, &bc->nc);
    if (rc == STORE_OK && bc->nc.sealed) {
        amp_err kerr = {0};
        if (keyring_wrap(c->kr, bc->nc.row.uid, bc->nc.dek, bc->wrapped, &bc->gen, &kerr) != 0)
            rc = STORE_ERROR;
        amp_err_clear(&kerr);
    }
    if (rc == STORE_OK && !bc->names_text &&
        !(bc->names_text = json_dumps(bc->nc.names, JSON_COMPACT)))
        rc = STORE_ERROR;
    if (rc == STORE_OK) {
        bc->names_hash = text_hash(bc->names_text); /* here, off the inserting thread */
        /* the audit detail {"fields":[…],"reference":…} less its reference: the
         * names array as is when its text needs no escaping in ASCII (field
         * names are catalogue identifiers), else through the audit's own
         * serialisation; a detail too long for the trail (replaced by a note)
         * is built whole at insert instead */
        bool plain = true;
        for (const char *t = bc->names_text; *t && plain; t++)
            plain = (*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z') ||
                    (*t >= '0' && *t <= '9') || strchr("_\",[]", *t);
        char *text = NULL;
        if (plain) {
            size_t n = strlen(bc->names_text);
            text = malloc(n + 11);
            if (text) {
                memcpy(text, "{\"fields\":", 10);
                memcpy(text + 10, bc->names_text, n + 1);
            }
        } else {
            json_t *d = json_pack("{s:O}", "fields", bulk_names(bc));
            text = d ? audit_detail_text(d) : NULL;
            json_decref(d);
            size_t n = text ? strlen(text) : 0;
            if (text && strncmp(text, "{\"fields\":", 10) == 0 && text[n - 1] == '}') {
                text[n - 1] = 0;
            } else {
                free(text);
                text = NULL;
            }
        }
        bc->detail_head = text;
    }
    if (rc != STORE_OK) {
        cases_bulk_case_free(bc);
        return amp_err_set(err, AMP_EINTERNAL, "storage failure (code %d)", rc);
    }
    *out = bc;
    return AMP_OK;
}

/* The next reference number of sequence name, counted in memory. */
static int bulk_next_sequence(cases_bulk *b, store_tx *tx, const char *name, int64_t *value)
{
    for (size_t i = 0; i < b->nseqs; i++) {
        if (strcmp(b->seqs[i].name, name) == 0) {
            *value = ++b->seqs[i].last;
            return STORE_OK;
        }
    }
    if (b->nseqs == b->seqcap) {
        size_t cap = b->seqcap ? b->seqcap * 2 : 16;
        bulk_seq *g = realloc(b->seqs, cap * sizeof *g);
        if (!g)
            return STORE_ERROR;
        b->seqs = g;
        b->seqcap = cap;
    }
    bulk_seq *sq = &b->seqs[b->nseqs];
    snprintf(sq->name, sizeof sq->name, "%s", name);
    int rc = store_tx_sequence_get(tx, name, &sq->last);
    if (rc != STORE_OK)
        return rc;
    b->nseqs++;
    *value = ++sq->last;
    return STORE_OK;
}

static bool reference_is_plain(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-'))
            return false;
    }
    return true;
}

/* The case.create entry, as new_case_insert writes it. */
static int bulk_audit(cases_bulk *b, store_tx *tx, cases_bulk_case *bc)
{
    const store_row *r = &bc->nc.row;
    char *text = NULL;
    if (bc->detail_head && reference_is_plain(r->reference)) {
        /* sorted keys: "fields" then "reference" */
        buf d;
        buf_init(&d);
        buf_adds(&d, bc->detail_head);
        buf_adds(&d, ",\"reference\":\"");
        buf_adds(&d, r->reference);
        buf_adds(&d, "\"}");
        size_t n = 0;
        text = buf_detach(&d, &n);
        if (text && n > AUDIT_MAX_DETAIL) {
            free(text);
            text = NULL;
        }
    }
    if (!text) {
        json_t *d = json_pack("{s:s, s:O}", "reference", r->reference, "fields", bulk_names(bc));
        text = d ? audit_detail_text(d) : NULL;
        json_decref(d);
        if (!text)
            return STORE_ERROR;
    }
    int rc = audit_tx_chain(tx, &b->chain, &b->p, "case.create", "case", r->uid, text);
    free(text);
    return rc;
}

/* What the history row of a case with field names `text` stores: the id of the
 * load's list with that text (written at its first use) in ref[24], or the text
 * itself when the load holds too many lists. */
static int bulk_history_fields(cases_bulk *b, store_tx *tx, const char *text, uint64_t hash,
                               char ref[24], const char **out)
{
    enum { SLOTS = 2 * BULK_MAX_LISTS };
    *out = text;
    if (!b->lists && !(b->lists = calloc(SLOTS, sizeof *b->lists)))
        return STORE_ERROR;
    size_t i = hash & (SLOTS - 1);
    while (b->lists[i].text && (b->lists[i].hash != hash || strcmp(b->lists[i].text, text) != 0))
        i = (i + 1) & (SLOTS - 1);
    if (!b->lists[i].text) {
        if (b->nlists == BULK_MAX_LISTS)
            return STORE_OK;
        int64_t id;
        char *copy = strdup(text);
        int rc = copy ? store_tx_field_list_add(tx, text, &id) : STORE_ERROR;
        if (rc != STORE_OK) {
            free(copy);
            return rc;
        }
        b->lists[i].text = copy;
        b->lists[i].hash = hash;
        b->lists[i].id = id;
        b->nlists++;
    }
    snprintf(ref, 24, "%lld", (long long)b->lists[i].id);
    *out = ref;
    return STORE_OK;
}

amp_code cases_bulk_add(cases_bulk *b, cases_bulk_case *bc, amp_err *err)
{
    store_tx *tx = store_bulk_tx(b->c->store);
    new_case *nc = &bc->nc;
    store_row *r = &nc->row;
    int64_t seq;
    int rc = bulk_next_sequence(b, tx, nc->seqname, &seq);
    if (rc == STORE_OK && nc->sealed)
        rc = store_tx_key_put(tx, r->uid, bc->gen, bc->wrapped, sizeof bc->wrapped, r->created_at);
    if (rc == STORE_OK) {
        snprintf(r->reference, sizeof r->reference, "%s-%06lld", nc->seqname, (long long)seq);
        rc = store_tx_case_insert(tx, r, nc->terms);
    }
    for (size_t i = 0; i < nc->nchildren && rc == STORE_OK; i++) {
        nc->children[i].case_id = r->id;
        rc = store_tx_child_insert(tx, &nc->children[i]);
    }
    char ref[24];
    const char *fields = NULL;
    if (rc == STORE_OK)
        rc = bulk_history_fields(b, tx, bc->names_text, bc->names_hash, ref, &fields);
    if (rc == STORE_OK)
        rc = store_tx_history_add_text(tx, r->id, 1, r->created_at, b->p.actor, "create", NULL,
                                       fields);
    if (rc == STORE_OK)
        rc = bulk_audit(b, tx, bc);
    if (rc != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "storage failure (code %d)", rc);
    return AMP_OK;
}

amp_code cases_bulk_close(cases_bulk *b, bool write_back, amp_err *err)
{
    if (!b)
        return AMP_OK;
    int rc = STORE_OK;
    store_tx *tx = store_bulk_tx(b->c->store);
    for (size_t i = 0; write_back && i < b->nseqs && rc == STORE_OK; i++)
        rc = store_tx_sequence_set(tx, b->seqs[i].name, b->seqs[i].last);
    for (size_t i = 0; i < b->norgs; i++)
        free(b->orgs[i].id);
    for (size_t i = 0; b->lists && i < 2 * BULK_MAX_LISTS; i++)
        free(b->lists[i].text);
    free(b->lists);
    free(b->seqs);
    pthread_mutex_destroy(&b->mu);
    sodium_memzero(&b->chain, sizeof b->chain);
    free(b);
    if (rc != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "the reference sequences could not be saved");
    return AMP_OK;
}

/* ---- versions and patches, shared by updates ---- */

/* Takes the version out of a patch body into op->body_version; checks that one of
 * If-Match and the body version is given. */
static amp_code take_version(write_op *op, const json_t *patch, amp_err *err)
{
    if (!json_is_object(patch)) {
        amp_err_field(err, "", "object", "the body must be a JSON object");
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    json_t *v = json_object_get(patch, "version");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1)) {
        amp_err_field(err, "version", "type", "version must be a positive integer");
        return amp_err_set(err, AMP_EINVALID, "version must be a positive integer");
    }
    op->body_version = v ? json_integer_value(v) : 0;
    if (op->if_match <= 0 && op->body_version <= 0)
        return amp_err_set(err, AMP_ENEEDVER,
                           "give the version you are changing (If-Match header or "
                           "\"version\" field) so that no one else's change is overwritten");
    return AMP_OK;
}

static int check_version(write_op *op, int64_t current, const char *what)
{
    if (op->any_version)
        return STORE_OK;
    int64_t wanted = op->if_match > 0 ? op->if_match : op->body_version;
    if (wanted == current)
        return STORE_OK;
    amp_code code = op->if_match > 0 ? AMP_EPRECOND : AMP_ECONFLICT;
    amp_err_set(&op->err, code, "the %s is at version %lld, not %lld: someone saved it first", what,
                (long long)current, (long long)wanted);
    return op_fail(op, code);
}

/* Applies a merge patch (without "version") to a copy of doc; read-only and child
 * keys are reported into err. */
static json_t *merge_patch(const json_t *doc, const json_t *patch, amp_err *err, bool is_case)
{
    json_t *merged = json_deep_copy(doc);
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)patch, key, v) {
        char msg[160];
        if (strcmp(key, "version") == 0)
            continue;
        if (is_meta_key(key)) {
            snprintf(msg, sizeof msg, "%s is set by the server and cannot be written", key);
            amp_err_field(err, key, "read_only", msg);
        } else if (is_case && core_child_kind(key)) {
            snprintf(msg, sizeof msg, "%s are changed through /cases/{id}/%s", key, key);
            amp_err_field(err, key, "sub_resource", msg);
        } else if (json_is_null(v)) {
            json_object_del(merged, key);
        } else {
            json_object_set(merged, key, v);
        }
    }
    return merged;
}

/* ---- case update ---- */

static int job_case_update(store_tx *tx, void *arg)
{
    write_op *op = arg;
    core *c = op->c;
    store_row r;
    int rc = store_tx_case_get(tx, op->key, &r);
    if (rc != STORE_OK)
        return store_failure(op, rc, "case");
    json_t *merged = NULL, *stored = NULL, *docs = NULL, *changed = NULL, *terms = NULL;
    json_t *clear = NULL;
    unsigned char dek[32] = {0};
    int out = check_version(op, r.version, "case");
    if (out != STORE_OK)
        goto done;
    if (json_object_get(r.doc, ERASED_KEY)) {
        amp_err_set(&op->err, AMP_ESTATE, "the case was erased; it can no longer change");
        out = op_fail(op, AMP_ESTATE);
        goto done;
    }
    if ((rc = store_tx_children(tx, r.id, &stored)) != STORE_OK) {
        out = store_failure(op, rc, "case");
        goto done;
    }
    bool have_dek = false;
    if (load_dek(c, tx, r.uid, dek, &have_dek, &op->err) != AMP_OK ||
        open_children(have_dek ? dek : NULL, stored, &op->err) != 0) {
        out = op_fail(op, AMP_EINTERNAL);
        goto done;
    }
    clear = open_stored(have_dek ? dek : NULL, "case", r.uid, r.doc, &op->err);
    if (!clear) {
        out = op_fail(op, AMP_EINTERNAL);
        goto done;
    }
    if (sealing(c) && !have_dek && seal_is_sealed(r.doc)) {
        amp_err_set(&op->err, AMP_EINTERNAL, "the case's data key is missing");
        out = op_fail(op, AMP_EINTERNAL);
        goto done;
    }
    merged = merge_patch(clear, op->fields, &op->err, true);
    docs = stored_docs(stored);
    validate_case(c, &op->p, merged, docs, op->today, NULL, &op->err);
    if (json_array_size(op->err.fields)) {
        invalid(&op->err, &op->p);
        out = op_fail(op, AMP_EINVALID);
        goto done;
    }
    derive_fields(merged);
    changed = changed_fields(clear, merged);
    if (json_array_size(changed) > 0) {
        int64_t expected = r.version;
        const char *regdate = json_string_value(json_object_get(merged, "amp_RegistrationDate"));
        const char *owner = json_string_value(json_object_get(merged, "amp_OwnerOrganisation"));
        r.version++;
        clock_now(r.updated_at);
        snprintf(r.updated_by, sizeof r.updated_by, "%s", op->p.actor);
        if (regdate)
            snprintf(r.registered_on, sizeof r.registered_on, "%s", regdate);
        snprintf(r.owner_org, sizeof r.owner_org, "%s", owner ? owner : "");
        json_decref(r.doc);
        r.doc = seal_for_store(c, have_dek ? dek : NULL, "case", r.uid, merged, &op->err);
        terms = full_terms(c, merged, stored);
        rc = r.doc && terms ? store_tx_case_update(tx, &r, expected, terms) : STORE_ERROR;
        if (rc == STORE_OK)
            rc = store_tx_history_add(tx, r.id, r.version, r.updated_at, op->p.actor, "update",
                                      NULL, changed);
        if (rc == STORE_OK) {
            json_t *d =
                json_pack("{s:I, s:O}", "version", (json_int_t)r.version, "fields", changed);
            rc = audit_tx(tx, &op->p, "case.update", "case", r.uid, d);
            json_decref(d);
        }
        if (rc != STORE_OK) {
            out = store_failure(op, rc, "case");
            goto done;
        }
    }
    if (op->done) { /* the answer; cases_tx_patch has no one to answer */
        json_decref(r.doc);
        r.doc = json_incref(merged ? merged : clear);
        op->result = case_record(&r, stored);
        policy_redact_case(c, &op->p, op->result);
    }
done:
    sodium_memzero(dek, sizeof dek);
    json_decref(clear);
    json_decref(merged);
    json_decref(stored);
    json_decref(docs);
    json_decref(changed);
    json_decref(terms);
    store_row_release(&r);
    return out;
}

static amp_code check_key(const char *key, amp_err *err)
{
    if (!key || !*key || strlen(key) > 64)
        return amp_err_set(err, AMP_ENOTFOUND, "no such case");
    return AMP_OK;
}

amp_code cases_update(core *c, const principal *p, const char *key, const json_t *patch,
                      int64_t if_match, core_done_fn done, void *arg, amp_err *err)
{
    if (check_key(key, err) != AMP_OK)
        return err->code;
    amp_code pc = cases_access(c, p, key, ACT_UPDATE, NULL, err);
    if (pc == AMP_OK)
        pc = policy_identity_write(c, p, "case", patch, ACT_UPDATE, err);
    if (pc == AMP_OK && json_is_object(patch) && json_object_get(patch, "amp_OwnerOrganisation") &&
        !p->internal) {
        amp_err_field(err, "amp_OwnerOrganisation", "forbidden",
                      "the owner changes only through an accepted referral");
        pc = amp_err_set(err, AMP_EFORBIDDEN, "the owner organisation cannot be edited");
    }
    if (pc != AMP_OK)
        return pc;
    write_op *op = op_new(OP_CASE_UPDATE, c, p, done, arg);
    if (!op)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    snprintf(op->key, sizeof op->key, "%s", key);
    op->if_match = if_match;
    amp_code code = take_version(op, patch, err);
    if (code != AMP_OK) {
        op_free(op);
        return code;
    }
    op->fields = json_incref((json_t *)patch);
    return submit(op, job_case_update, err);
}

amp_code cases_tx_patch(store_tx *tx, core *c, const principal *p, const char *case_uid,
                        const json_t *patch, amp_err *err)
{
    if (check_key(case_uid, err) != AMP_OK)
        return err->code;
    if (!json_is_object(patch))
        return amp_err_set(err, AMP_EINTERNAL, "a case patch must be an object");
    write_op *op = op_new(OP_CASE_UPDATE, c, p, NULL, NULL);
    if (!op)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    snprintf(op->key, sizeof op->key, "%s", case_uid);
    op->any_version = true;
    op->fields = json_incref((json_t *)patch);
    int rc = job_case_update(tx, op);
    amp_code code = rc == STORE_OK ? AMP_OK : op->code != AMP_OK ? op->code : AMP_EINTERNAL;
    if (code != AMP_OK) {
        amp_err_clear(err);
        *err = op->err; /* moved: op_free must not clear it */
        memset(&op->err, 0, sizeof op->err);
        if (!err->message[0])
            amp_err_set(err, code, "the case could not be updated");
    }
    op_free(op);
    return code;
}

/* ---- children ---- */

/* Rewrites the case's terms after a change to its children (events feed the
 * country-of-exploitation filter). */
static int refresh_terms(write_op *op, store_tx *tx, store_row *cr, const json_t *clear)
{
    json_t *stored = NULL;
    int rc = store_tx_children(tx, cr->id, &stored);
    if (rc != STORE_OK)
        return rc;
    json_t *terms = full_terms(op->c, clear, stored);
    rc = terms ? store_tx_case_update(tx, cr, cr->version, terms) : STORE_ERROR;
    json_decref(terms);
    json_decref(stored);
    return rc;
}

static int job_child_write(store_tx *tx, void *arg)
{
    write_op *op = arg;
    store_row cr, ch = {0};
    int rc = store_tx_case_get(tx, op->key, &cr);
    if (rc != STORE_OK)
        return store_failure(op, rc, "case");
    int out = STORE_OK;
    json_t *merged = NULL, *names = NULL, *cr_clear = NULL, *sealed = NULL;
    const char *action_verb = "create";
    unsigned char dek[32] = {0};
    bool have_dek = false;
    if (json_object_get(cr.doc, ERASED_KEY)) {
        amp_err_set(&op->err, AMP_ESTATE, "the case was erased; it can no longer change");
        out = op_fail(op, AMP_ESTATE);
        goto done;
    }
    if (load_dek(op->c, tx, cr.uid, dek, &have_dek, &op->err) != AMP_OK ||
        !(cr_clear = open_stored(have_dek ? dek : NULL, "case", cr.uid, cr.doc, &op->err))) {
        out = op_fail(op, AMP_EINTERNAL);
        goto done;
    }

    if (op->type != OP_CHILD_CREATE) {
        rc = store_tx_child_get(tx, cr.id, op->kind->entity, op->uid, &ch);
        if (rc != STORE_OK) {
            snprintf(op->key, sizeof op->key, "%s", op->uid);
            out = store_failure(op, rc, op->kind->entity);
            goto done;
        }
        if ((op->if_match > 0 || op->body_version > 0) &&
            (out = check_version(op, ch.version, op->kind->entity)) != STORE_OK)
            goto done;
        json_t *ch_clear =
            open_stored(have_dek ? dek : NULL, op->kind->entity, ch.uid, ch.doc, &op->err);
        if (!ch_clear) {
            out = op_fail(op, AMP_EINTERNAL);
            goto done;
        }
        json_decref(ch.doc);
        ch.doc = ch_clear;
    }

    if (op->type == OP_CHILD_DELETE) {
        action_verb = "delete";
        rc = store_tx_child_delete(tx, cr.id, op->kind->entity, op->uid);
        names = json_array();
    } else {
        merged = op->type == OP_CHILD_CREATE ? json_deep_copy(op->fields)
                                             : merge_patch(ch.doc, op->fields, &op->err, false);
        drop_nulls(merged);
        validate_child(op->c, &op->p, op->kind, merged, -1, op->today, birthdate_of(cr_clear), NULL,
                       &op->err);
        if (json_array_size(op->err.fields)) {
            invalid(&op->err, &op->p);
            out = op_fail(op, AMP_EINVALID);
            goto done;
        }
        if (op->type == OP_CHILD_CREATE) {
            uuid_v7(ch.uid);
            ch.case_id = cr.id;
            snprintf(ch.kind, sizeof ch.kind, "%s", op->kind->entity);
            ch.version = 1;
            clock_now(ch.created_at);
            memcpy(ch.updated_at, ch.created_at, sizeof ch.updated_at);
            snprintf(ch.created_by, sizeof ch.created_by, "%s", op->p.actor);
            memcpy(ch.updated_by, ch.created_by, sizeof ch.updated_by);
            child_sort_key(ch.kind, merged, ch.sort_key);
            names = field_names(merged);
            sealed =
                seal_for_store(op->c, have_dek ? dek : NULL, ch.kind, ch.uid, merged, &op->err);
            ch.doc = sealed;
            rc = sealed ? store_tx_child_insert(tx, &ch) : STORE_ERROR;
            ch.doc = json_incref(merged);
        } else {
            action_verb = "update";
            names = changed_fields(ch.doc, merged);
            if (json_array_size(names) == 0)
                goto record;
            int64_t expected = ch.version;
            ch.version++;
            clock_now(ch.updated_at);
            snprintf(ch.updated_by, sizeof ch.updated_by, "%s", op->p.actor);
            json_decref(ch.doc);
            child_sort_key(ch.kind, merged, ch.sort_key);
            sealed =
                seal_for_store(op->c, have_dek ? dek : NULL, ch.kind, ch.uid, merged, &op->err);
            ch.doc = sealed;
            rc = sealed ? store_tx_child_update(tx, &ch, expected) : STORE_ERROR;
            ch.doc = json_incref(merged);
        }
    }
    if (rc == STORE_OK && strcmp(op->kind->entity, "event") == 0)
        rc = refresh_terms(op, tx, &cr, cr_clear);
    if (rc == STORE_OK) {
        char action[48], at[32];
        clock_now(at);
        snprintf(action, sizeof action, "%s.%s", op->kind->entity, action_verb);
        rc = store_tx_history_add(tx, cr.id, cr.version, at, op->p.actor, action, ch.uid, names);
        if (rc == STORE_OK) {
            char audit_action[64];
            snprintf(audit_action, sizeof audit_action, "case.%s", action);
            json_t *d = json_pack("{s:s, s:s, s:O}", "case", cr.uid, "kind", op->kind->entity,
                                  "fields", names);
            rc = audit_tx(tx, &op->p, audit_action, op->kind->entity,
                          op->type == OP_CHILD_DELETE ? op->uid : ch.uid, d);
            json_decref(d);
        }
    }
    if (rc != STORE_OK) {
        out = store_failure(op, rc, op->kind->entity);
        goto done;
    }
record:
    if (op->type == OP_CHILD_DELETE) {
        op->result = json_pack("{s:s, s:b}", "id", op->uid, "deleted", 1);
    } else {
        json_t *s = stored_child(&ch);
        op->result = stored_child_record(s);
        json_decref(s);
        if (!authz_sees_identity(&op->p))
            policy_strip_identity(op->c, op->kind->entity, op->result);
    }
done:
    sodium_memzero(dek, sizeof dek);
    json_decref(sealed);
    json_decref(cr_clear);
    json_decref(merged);
    json_decref(names);
    store_row_release(&ch);
    store_row_release(&cr);
    return out;
}

static amp_code child_op(op_type type, core *c, const principal *p, const char *case_key,
                         const child_kind *kind, const char *uid, const json_t *body,
                         int64_t if_match, core_done_fn done, void *arg, amp_err *err)
{
    if (check_key(case_key, err) != AMP_OK)
        return err->code;
    if (uid && strlen(uid) >= 40)
        return amp_err_set(err, AMP_ENOTFOUND, "no such %s", kind->entity);
    amp_code pc = cases_access(c, p, case_key, ACT_UPDATE, NULL, err);
    if (pc == AMP_OK && body)
        pc = policy_identity_write(c, p, kind->entity, body,
                                   type == OP_CHILD_CREATE ? ACT_CREATE : ACT_UPDATE, err);
    if (pc != AMP_OK)
        return pc;
    write_op *op = op_new(type, c, p, done, arg);
    if (!op)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    snprintf(op->key, sizeof op->key, "%s", case_key);
    snprintf(op->uid, sizeof op->uid, "%s", uid ? uid : "");
    op->kind = kind;
    op->if_match = if_match;
    amp_code code = AMP_OK;
    if (type == OP_CHILD_UPDATE) {
        code = take_version(op, body, err);
    } else if (type == OP_CHILD_CREATE) {
        if (!json_is_object(body)) {
            amp_err_field(err, "", "object", "the body must be a JSON object");
            code = amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
        } else {
            const char *key;
            json_t *v;
            json_object_foreach ((json_t *)body, key, v) {
                if (is_meta_key(key)) {
                    char msg[160];
                    snprintf(msg, sizeof msg, "%s is set by the server and cannot be written", key);
                    amp_err_field(err, key, "read_only", msg);
                }
            }
            if (json_array_size(err->fields))
                code = invalid(err, p);
        }
    }
    if (code != AMP_OK) {
        op_free(op);
        return code;
    }
    op->fields = body ? json_incref((json_t *)body) : NULL;
    return submit(op, job_child_write, err);
}

amp_code children_create(core *c, const principal *p, const char *case_key, const child_kind *kind,
                         const json_t *body, core_done_fn done, void *arg, amp_err *err)
{
    return child_op(OP_CHILD_CREATE, c, p, case_key, kind, NULL, body, 0, done, arg, err);
}

amp_code children_update(core *c, const principal *p, const char *case_key, const child_kind *kind,
                         const char *uid, const json_t *patch, int64_t if_match, core_done_fn done,
                         void *arg, amp_err *err)
{
    return child_op(OP_CHILD_UPDATE, c, p, case_key, kind, uid, patch, if_match, done, arg, err);
}

amp_code children_delete(core *c, const principal *p, const char *case_key, const child_kind *kind,
                         const char *uid, int64_t if_match, core_done_fn done, void *arg,
                         amp_err *err)
{
    return child_op(OP_CHILD_DELETE, c, p, case_key, kind, uid, NULL, if_match, done, arg, err);
}

/* ==== reads ===================================================================== */

static amp_code read_failure(int rc, const char *what, const char *key, amp_err *err)
{
    if (rc == STORE_NOTFOUND)
        return amp_err_set(err, AMP_ENOTFOUND, "no %s '%.64s'", what, key);
    return amp_err_set(err, AMP_EINTERNAL, "storage failure");
}

/* Turns a fetched case row and its stored children into their clear form for p:
 * opened with the case key when p may see identity, else without the sealed
 * members.  AMP_OK or AMP_EINTERNAL (a document that does not authenticate). */
static amp_code open_case(core *c, const principal *p, store_row *r, json_t *stored, amp_err *err)
{
    unsigned char dek[32] = {0};
    bool have = false;
    if (authz_sees_identity(p) && load_dek(c, NULL, r->uid, dek, &have, err) != AMP_OK)
        return err->code;
    amp_code code = AMP_OK;
    json_t *clear = open_stored(have ? dek : NULL, "case", r->uid, r->doc, err);
    if (!clear || (stored && open_children(have ? dek : NULL, stored, err) != 0)) {
        code = amp_err_set(err, AMP_EINTERNAL, "a stored record does not decrypt");
    } else {
        json_decref(r->doc);
        r->doc = clear;
        clear = NULL;
    }
    json_decref(clear);
    sodium_memzero(dek, sizeof dek);
    return code;
}

amp_code cases_open_row(core *c, store_row *row, amp_err *err)
{
    principal self = {.internal = true};
    return open_case(c, &self, row, NULL, err);
}

/* The detail of a case read's entry: whether identity fields were part of it. */
static const char *read_detail(const principal *p)
{
    return authz_sees_identity(p) ? "{\"identity\":true}" : "{\"identity\":false}";
}

/* Records a read of a case (audit_read: before the data is returned). */
static amp_code case_audit_read(core *c, const principal *p, const char *action, const char *uid,
                                amp_err *err)
{
#ifdef AMPARO_BENCH_UNPROTECTED
    (void)c, (void)p, (void)action, (void)uid, (void)err;
    return AMP_OK; /* bench/ only: see server.c */
#endif
    return audit_read_json(c, p, action, "case", uid, read_detail(p), err);
}

/* The scope check of a read on a row already fetched: AMP_OK or not found
 * (releasing the row and auditing the refusal). */
static amp_code read_scope(core *c, const principal *p, const char *key, store_row *r, amp_err *err)
{
    if (cases_in_scope(c, p, r))
        return AMP_OK;
    store_row_release(r);
    policy_audit_denied(c, p, key, ACT_READ);
    return amp_err_set(err, AMP_ENOTFOUND, "no case '%.64s'", key);
}

amp_code cases_get(core *c, const principal *p, const char *key, json_t **out, amp_err *err)
{
    if (check_key(key, err) != AMP_OK)
        return err->code;
    amp_code code = authz_require(p, ACT_READ, RES_CASE, err);
    if (code != AMP_OK)
        return code;
    store_row r;
    json_t *stored = NULL;
    int rc = store_case_get(c->store, key, &r, &stored);
    if (rc != STORE_OK)
        return read_failure(rc, "case", key, err);
    if ((code = read_scope(c, p, key, &r, err)) != AMP_OK) {
        json_decref(stored);
        return code;
    }
    if ((code = open_case(c, p, &r, stored, err)) != AMP_OK ||
        (code = case_audit_read(c, p, "case.read", r.uid, err)) != AMP_OK) {
        json_decref(stored);
        store_row_release(&r);
        return code;
    }
    *out = case_record(&r, stored);
    policy_redact_case(c, p, *out);
    json_decref(stored);
    store_row_release(&r);
    return AMP_OK;
}

amp_code cases_history(core *c, const principal *p, const char *key, json_t **out, amp_err *err)
{
    if (check_key(key, err) != AMP_OK)
        return err->code;
    store_row r;
    amp_code code = cases_access(c, p, key, ACT_READ, &r, err);
    if (code != AMP_OK)
        return code;
    json_t *d = json_pack("{s:b}", "identity", false);
    code = audit_read(c, p, "case.history", "case", r.uid, d, err);
    json_decref(d);
    store_row_release(&r);
    if (code != AMP_OK)
        return code;
    json_t *items = NULL;
    int rc = store_history(c->store, key, &items);
    if (rc != STORE_OK)
        return read_failure(rc, "case", key, err);
    *out = json_pack("{s:o}", "items", items);
    return AMP_OK;
}

amp_code children_list(core *c, const principal *p, const char *case_key, const child_kind *kind,
                       json_t **out, amp_err *err)
{
    json_t *record = NULL;
    amp_code code = cases_get(c, p, case_key, &record, err);
    if (code != AMP_OK)
        return code;
    *out = json_pack("{s:O}", "items", json_object_get(record, kind->collection));
    json_decref(record);
    return AMP_OK;
}

amp_code children_get(core *c, const principal *p, const char *case_key, const child_kind *kind,
                      const char *uid, json_t **out, amp_err *err)
{
    if (check_key(case_key, err) != AMP_OK)
        return err->code;
    if (!uid || strlen(uid) >= 40)
        return amp_err_set(err, AMP_ENOTFOUND, "no such %s", kind->entity);
    store_row cr;
    amp_code code = cases_access(c, p, case_key, ACT_READ, &cr, err);
    if (code != AMP_OK)
        return code;
    code = case_audit_read(c, p, "case.read", cr.uid, err);
    char ch_case_uid[40];
    snprintf(ch_case_uid, sizeof ch_case_uid, "%s", cr.uid);
    store_row_release(&cr);
    if (code != AMP_OK)
        return code;
    store_row ch;
    int rc = store_child_get(c->store, case_key, kind->entity, uid, &ch);
    if (rc != STORE_OK)
        return read_failure(rc, kind->entity, uid, err);
    unsigned char dek[32] = {0};
    bool have = false;
    if (authz_sees_identity(p) && load_dek(c, NULL, ch_case_uid, dek, &have, err) != AMP_OK) {
        store_row_release(&ch);
        return err->code;
    }
    json_t *clear = open_stored(have ? dek : NULL, kind->entity, ch.uid, ch.doc, err);
    sodium_memzero(dek, sizeof dek);
    if (!clear) {
        store_row_release(&ch);
        return amp_err_set(err, AMP_EINTERNAL, "a stored record does not decrypt");
    }
    json_decref(ch.doc);
    ch.doc = clear;
    json_t *s = stored_child(&ch);
    *out = stored_child_record(s);
    json_decref(s);
    if (!authz_sees_identity(p))
        policy_strip_identity(c, kind->entity, *out);
    store_row_release(&ch);
    return AMP_OK;
}

/* ---- the read fast path: a case as JSON text, without parsing ---- */

/* Appends ",<members>" of a stored document: decrypted with dek, or without the
 * sealed member when dek is NULL.  False (err set) when it does not decrypt. */
static bool add_stored_members(buf *b, const unsigned char *dek, const char *kind, const char *uid,
                               const char *raw, amp_err *err)
{
#ifdef AMPARO_BENCH_UNPROTECTED
    (void)dek, (void)kind, (void)uid, (void)err;
    add_members_text(b, raw); /* bench/ only: no decryption (see server.c) */
    return true;
#endif
    /* a document without a sealed member comes out as stored either way */
    seal_aad aad = {kind, uid};
    return (dek ? seal_open_text(dek, &aad, raw, b, err) : seal_strip_text(raw, b, err)) == 0;
}

/* A case as JSON text for p (scope checked, identity hidden when p may not see
 * it), without its read audit entry: the caller records that.  uid[40]
 * receives the case's id. */
static amp_code case_text(core *c, const principal *p, const char *key, char **out, size_t *len,
                          int64_t *version, char uid[40], amp_err *err)
{
    if (check_key(key, err) != AMP_OK)
        return err->code;
    amp_code code = authz_require(p, ACT_READ, RES_CASE, err);
    if (code != AMP_OK)
        return code;
    if (!authz_sees_identity(p)) { /* redaction needs the parsed record */
        store_row r;
        json_t *stored = NULL;
        int rc = store_case_get(c->store, key, &r, &stored);
        if (rc != STORE_OK)
            return read_failure(rc, "case", key, err);
        if ((code = read_scope(c, p, key, &r, err)) != AMP_OK) {
            json_decref(stored);
            return code;
        }
        if ((code = open_case(c, p, &r, stored, err)) != AMP_OK) {
            json_decref(stored);
            store_row_release(&r);
            return code;
        }
        json_t *rec = case_record(&r, stored);
        policy_redact_case(c, p, rec);
        *version = r.version;
        snprintf(uid, 40, "%s", r.uid);
        *out = json_dumps(rec, JSON_COMPACT);
        json_decref(rec);
        json_decref(stored);
        store_row_release(&r);
        if (!*out)
            return amp_err_set(err, AMP_EINTERNAL, "out of memory");
        *len = strlen(*out);
        return AMP_OK;
    }
    store_row r;
    store_row *children = NULL;
    int n = 0;
    store_case_key wrapped = {0};
#ifdef AMPARO_BENCH_UNPROTECTED
    store_case_key *want_key = NULL; /* bench/ only: no decryption (see server.c) */
#else
    store_case_key *want_key = sealing(c) ? &wrapped : NULL;
#endif
    int rc = store_case_get_raw(c->store, key, &r, &children, &n, want_key);
    if (rc != STORE_OK)
        return read_failure(rc, "case", key, err);
    if ((code = read_scope(c, p, key, &r, err)) != AMP_OK) {
        for (int i = 0; i < n; i++)
            store_row_release(&children[i]);
        free(children);
        return code;
    }
    unsigned char dek[32] = {0};
    bool have = false;
    if (unwrap_read_key(c, &wrapped, dek, &have, err) != AMP_OK) {
        for (int i = 0; i < n; i++)
            store_row_release(&children[i]);
        free(children);
        store_row_release(&r);
        return err->code;
    }
    buf b;
    buf_init(&b);
    buf_addc(&b, '{');
    add_meta_text(&b, &r, true);
    bool ok = add_stored_members(&b, have ? dek : NULL, "case", r.uid, r.raw, err);
    /* children come grouped by kind, each kind in its order (store contract) */
    for (size_t k = 0; ok && k < NKINDS; k++) {
        buf_adds(&b, ",\"");
        buf_adds(&b, child_kinds[k].collection);
        buf_adds(&b, "\":[");
        bool first = true;
        for (int i = 0; ok && i < n; i++) {
            if (strcmp(children[i].kind, child_kinds[k].entity) != 0)
                continue;
            buf_adds(&b, first ? "{" : ",{");
            first = false;
            add_meta_text(&b, &children[i], false);
            ok = add_stored_members(&b, have ? dek : NULL, children[i].kind, children[i].uid,
                                    children[i].raw, err);
            buf_addc(&b, '}');
        }
        buf_addc(&b, ']');
    }
    buf_addc(&b, '}');
    sodium_memzero(dek, sizeof dek);
    *version = r.version;
    snprintf(uid, 40, "%s", r.uid);
    if (!ok) {
        for (int i = 0; i < n; i++)
            store_row_release(&children[i]);
        free(children);
        store_row_release(&r);
        free(buf_detach(&b, NULL));
        return amp_err_set(err, AMP_EINTERNAL, "a stored record does not decrypt");
    }
    for (int i = 0; i < n; i++)
        store_row_release(&children[i]);
    free(children);
    store_row_release(&r);
    *out = buf_detach(&b, len);
    if (!*out)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    return AMP_OK;
}

amp_code cases_get_text(core *c, const principal *p, const char *key, char **out, size_t *len,
                        int64_t *version, amp_err *err)
{
    char uid[40];
    amp_code code = case_text(c, p, key, out, len, version, uid, err);
    if (code == AMP_OK && (code = case_audit_read(c, p, "case.read", uid, err)) != AMP_OK) {
        free(*out);
        *out = NULL;
    }
    return code;
}

/* ---- the asynchronous read: answered once its audit entry is durable ---- */

typedef struct {
    core_done_fn done;
    void *arg;
    char *text;
    int64_t version;
} read_wait;

static void read_audited(void *arg, amp_code code)
{
    read_wait *w = arg;
    if (code == AMP_OK) {
        w->done(w->arg, AMP_OK, json_pack("{s:I}", "version", (json_int_t)w->version), w->text,
                NULL);
    } else {
        amp_err err = {0};
        amp_err_set(&err, AMP_EINTERNAL, "the read could not be recorded in the audit trail");
        free(w->text);
        w->done(w->arg, err.code, NULL, NULL, &err);
        amp_err_clear(&err);
    }
    free(w);
}

amp_code cases_get_async(core *c, const principal *p, const char *key, core_done_fn done, void *arg,
                         amp_err *err)
{
    read_wait *w = calloc(1, sizeof *w);
    if (!w)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    size_t len;
    char uid[40];
    amp_code code = case_text(c, p, key, &w->text, &len, &w->version, uid, err);
    if (code != AMP_OK) {
        free(w);
        return code;
    }
    w->done = done;
    w->arg = arg;
#ifdef AMPARO_BENCH_UNPROTECTED
    read_audited(w, AMP_OK); /* bench/ only: see server.c */
    return AMP_OK;
#endif
    if (core_read_journal(c)) { /* the entry is written down at once: answer now */
        code = audit_read_json(c, p, "case.read", "case", uid, read_detail(p), err);
        if (code != AMP_OK) {
            free(w->text);
            free(w);
            return code;
        }
        read_audited(w, AMP_OK);
        return AMP_OK;
    }
    json_t *d = json_pack("{s:b}", "identity", authz_sees_identity(p));
    code = audit_submit(c, p, "case.read", "case", uid, d, read_audited, w, err);
    json_decref(d);
    if (code != AMP_OK) {
        free(w->text);
        free(w);
    }
    return code;
}

/* ---- list ---- */

static bool filter_value_ok(const core *c, const cat_field *f, const char *v)
{
    if (f->type == FT_COUNTRY)
        return catalogue_is_country(c->cat, v);
    if (f->type == FT_LANGUAGE)
        return catalogue_is_language(c->cat, v);
    if (f->type == FT_PICKLIST || f->type == FT_MULTISELECT)
        return cat_field_has_value(f, v);
    return true;
}

/* Adds the comma-separated values of one filter parameter to the query.  The
 * split copies live in `scratch` (freed by the caller). */
/* Adds a list-parameter error: `rule` as reported, the message `key` rendered in
 * the caller's language. */
static void list_fail(amp_err *err, const char *lang, const char *name, const char *rule,
                      const char *key, const char *detail)
{
    char msg[300];
    validate_render(lang, key, name, detail, msg, sizeof msg);
    amp_err_field(err, name, rule, msg);
}

static void add_filter(core *c, const char *lang, store_query *q, const char *name,
                       const cat_field *f, const char *value, json_t *scratch, amp_err *err)
{
    int slot = -1;
    for (int i = 0; i < q->nterms; i++) {
        if (strcmp(q->terms[i].field, name) == 0)
            slot = i;
    }
    if (slot < 0) {
        if (q->nterms == STORE_MAX_TERM_FILTERS) {
            list_fail(err, lang, name, "max_items", "list.too_many", "16");
            return;
        }
        slot = q->nterms++;
        q->terms[slot].field = name;
        q->terms[slot].nvalues = 0;
    }
    if (!*value) {
        list_fail(err, lang, name, "required", "list.empty", NULL);
        return;
    }
    const char *s = value;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        json_t *part = json_stringn(s, len);
        if (!part) {
            list_fail(err, lang, name, "type", "list.value", "?");
            return;
        }
        json_array_append_new(scratch, part);
        const char *v = json_string_value(part);
        if (!*v || (f && !filter_value_ok(c, f, v)) || (!f && !catalogue_is_country(c->cat, v))) {
            char shown[64];
            snprintf(shown, sizeof shown, "%.60s", v);
            list_fail(err, lang, name, "picklist", "list.value", shown);
        } else if (q->terms[slot].nvalues == STORE_MAX_TERM_VALUES) {
            list_fail(err, lang, name, "max_items", "list.too_many", "32");
            return;
        } else {
            q->terms[slot].values[q->terms[slot].nvalues++] = v;
        }
        s += len;
        if (*s == ',')
            s++;
    }
}

static bool parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    if (!s || !*s)
        return false;
    long v = strtol(s, &end, 10);
    if (*end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool reference_chars_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-'))
            return false;
    }
    return true;
}

amp_code cases_list(core *c, const principal *p, const list_param *params, size_t nparams,
                    json_t **out, amp_err *err)
{
    const char *lang = p->lang;
    amp_code code = authz_require(p, ACT_READ, RES_CASE, err);
    if (code != AMP_OK)
        return code;
    store_query q = {.sort = SORT_REGISTERED, .descending = true, .limit = CASES_DEFAULT_LIMIT};
    char scope_user[80];
    char blind[STORE_MAX_TERM_FILTERS][33];
    int nblind = 0;
    if (!p->internal) { /* only the cases owned by or shared with the caller's organisation */
        q.scope_org = p->org;
        snprintf(scope_user, sizeof scope_user, ",%s,", p->actor);
        q.scope_user = scope_user;
    }
    json_t *scratch = json_array();
    for (size_t i = 0; i < nparams; i++) {
        const char *name = params[i].name, *value = params[i].value ? params[i].value : "";
        const cat_field *f = NULL;
        long n;
        if (strcmp(name, "registered_from") == 0 || strcmp(name, "registered_to") == 0) {
            if (!validate_date(value))
                list_fail(err, lang, name, "date", "date", NULL);
            else if (name[11] == 'f')
                q.registered_from = value;
            else
                q.registered_to = value;
        } else if (strcmp(name, "reference") == 0) {
            if (!reference_chars_ok(value))
                list_fail(err, lang, name, "reference", "list.reference", NULL);
            else
                q.reference_prefix = value;
        } else if (strcmp(name, "name") == 0 || strcmp(name, "id_number") == 0) {
            /* exact match through the blind indexes: one term filter per token */
            bool is_name = name[0] == 'n';
            char vals[8][33];
            int nv = sealing(c) ? blind_query_values(keyring_index_key(c->kr),
                                                     is_name ? "name" : "idnumber", value, vals, 8)
                                : -1;
            if (!authz_sees_identity(p)) {
                amp_err_field(err, name, "forbidden",
                              "your roles may not search by identity fields");
            } else if (nv <= 0 || q.nterms + nv > STORE_MAX_TERM_FILTERS ||
                       nblind + nv > (int)(sizeof blind / sizeof *blind)) {
                amp_err_field(err, name, "search",
                              nv == 0 ? "give a name or number to search for"
                                      : "too many words, or search is not available");
            } else {
                for (int k = 0; k < nv; k++) {
                    memcpy(blind[nblind], vals[k], sizeof blind[nblind]);
                    q.terms[q.nterms].field = is_name ? "bi_name" : "bi_idnumber";
                    q.terms[q.nterms].values[0] = blind[nblind++];
                    q.terms[q.nterms].nvalues = 1;
                    q.nterms++;
                }
            }
        } else if (strcmp(name, "owner") == 0) {
            if (!validate_identifier(value))
                list_fail(err, lang, name, "lookup", "list.owner", NULL);
            else
                q.owner_org = value;
        } else if (strcmp(name, "sort") == 0) {
            const char *k = value[0] == '-' ? value + 1 : value;
            q.descending = value[0] == '-';
            if (strcmp(k, "registered") == 0)
                q.sort = SORT_REGISTERED;
            else if (strcmp(k, "reference") == 0)
                q.sort = SORT_REFERENCE;
            else if (strcmp(k, "created") == 0)
                q.sort = SORT_CREATED;
            else if (strcmp(k, "updated") == 0)
                q.sort = SORT_UPDATED;
            else
                list_fail(err, lang, name, "picklist", "list.sort", NULL);
        } else if (strcmp(name, "limit") == 0) {
            if (!parse_int(value, 1, CASES_MAX_LIMIT, &n))
                list_fail(err, lang, name, "max", "list.limit", "500");
            else
                q.limit = (int)n;
        } else if (strcmp(name, "offset") == 0) {
            if (!parse_int(value, 0, 100000000, &n))
                list_fail(err, lang, name, "min", "list.offset", NULL);
            else
                q.offset = (int)n;
        } else if (strcmp(name, TERM_COUNTRY_OF_EXPLOITATION) == 0 ||
                   ((f = catalogue_filter_field(c->cat, "case", name)) && f->type != FT_DATE)) {
            add_filter(c, lang, &q, f ? f->filter : TERM_COUNTRY_OF_EXPLOITATION, f, value, scratch,
                       err);
        } else {
            char shown[64];
            snprintf(shown, sizeof shown, "%.60s", name);
            list_fail(err, lang, shown, "unknown_parameter", "list.unknown", NULL);
        }
    }
    if (json_array_size(err->fields)) {
        json_decref(scratch);
        char msg[120];
        validate_render(lang, "list.invalid", NULL, NULL, msg, sizeof msg);
        return amp_err_set(err, AMP_EBADREQ, "%s", msg);
    }
    store_row *rows = NULL;
    int nrows = 0;
    int64_t total = 0;
    int rc = store_case_list(c->store, &q, &rows, &nrows, &total);
    json_decref(scratch);
    if (rc != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "storage failure");
    json_t *items = json_array(), *ids = json_array();
    bool identity = authz_sees_identity(p);
    for (int i = 0; i < nrows; i++) {
        if (open_case(c, p, &rows[i], NULL, err) != AMP_OK) {
            for (int k = i; k < nrows; k++)
                store_row_release(&rows[k]);
            free(rows);
            json_decref(items);
            json_decref(ids);
            return err->code;
        }
        json_t *rec = row_record(&rows[i]);
        if (!identity) {
            policy_strip_identity(c, "case", rec);
            json_object_set_new(rec, "identity_hidden", json_true());
        }
        json_array_append_new(items, rec);
        json_array_append_new(ids, json_string(rows[i].uid));
        store_row_release(&rows[i]);
    }
    free(rows);
    json_t *d =
        json_pack("{s:b, s:I, s:o}", "identity", identity, "total", (json_int_t)total, "ids", ids);
    code = audit_read(c, p, "case.list", "case", NULL, d, err);
    json_decref(d);
    if (code != AMP_OK) {
        json_decref(items);
        return code;
    }
    *out = json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total, "limit",
                     q.limit, "offset", q.offset);
    return AMP_OK;
}

/* ==== organisations ================================================================= */

typedef struct {
    store_row row;
    const principal *p;
} org_put;

static int job_org_put(store_tx *tx, void *arg)
{
    org_put *op = arg;
    int rc = store_tx_org_put(tx, &op->row);
    if (rc == STORE_OK) {
        json_t *d = json_pack("{s:I}", "version", (json_int_t)op->row.version);
        rc = audit_tx(tx, op->p, "organisation.put", "organisation", op->row.uid, d);
        json_decref(d);
    }
    return rc;
}

amp_code orgs_put(core *c, const principal *p, const json_t *body, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_UPDATE, RES_ORG, err);
    if (code != AMP_OK)
        return code;
    const char *target = json_string_value(json_object_get(body, "id"));
    if (!p->internal && !(p->roles & ROLE_SYSADMIN) && (!target || strcmp(target, p->org) != 0))
        return amp_err_set(err, AMP_EFORBIDDEN,
                           "organisation admins edit their own organisation only");
    if (!json_is_object(body)) {
        amp_err_field(err, "", "object", "the body must be a JSON object");
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    const char *id = json_string_value(json_object_get(body, "id"));
    if (!validate_identifier(id))
        amp_err_field(err, "id", "identifier",
                      "id must be 1 to 64 letters, digits, '.', '_' or '-'");
    char today[11];
    clock_today(today);
    validate_ctx v = make_ctx(c, p, today, NULL, NULL, NULL);
    static const char *const ignore[] = {"id", NULL};
    validate_record(c->cat, "organisation", body, &v, ignore, err);
    if (json_array_size(err->fields))
        return invalid(err, p);

    org_put op = {{0}};
    snprintf(op.row.uid, sizeof op.row.uid, "%s", id);
    clock_now(op.row.updated_at);
    op.row.doc = json_deep_copy(body);
    json_object_del(op.row.doc, "id");
    drop_nulls(op.row.doc);
    op.p = p;
    int rc = store_run(c->store, job_org_put, &op);
    if (rc != STORE_OK) {
        store_row_release(&op.row);
        return amp_err_set(err, AMP_EINTERNAL, "storage failure");
    }
    if (out) {
        *out = json_object();
        json_object_set_new(*out, "id", json_string(id));
        json_object_set_new(*out, "version", json_integer(op.row.version));
        json_object_update(*out, op.row.doc);
    }
    store_row_release(&op.row);
    return AMP_OK;
}

amp_code orgs_list(core *c, const principal *p, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_ORG, err);
    if (code != AMP_OK)
        return code;
    store_row *rows = NULL;
    int n = 0;
    if (store_org_list(c->store, &rows, &n) != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "storage failure");
    json_t *items = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o =
            json_pack("{s:s, s:I}", "id", rows[i].uid, "version", (json_int_t)rows[i].version);
        json_object_update(o, rows[i].doc);
        json_array_append_new(items, o);
        store_row_release(&rows[i]);
    }
    free(rows);
    *out = json_pack("{s:o}", "items", items);
    return AMP_OK;
}

/* ==== synchronous wrappers ============================================================ */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool finished;
    amp_code code;
    json_t *result;
    amp_err err;
} sync_wait;

static void sync_done(void *arg, amp_code code, json_t *result, char *text, amp_err *err)
{
    sync_wait *w = arg;
    if (text) { /* the full record comes as text: parse it for the caller */
        json_decref(result);
        result = json_loads(text, 0, NULL);
        free(text);
        if (!result && code == AMP_OK)
            code = amp_err_set(err, AMP_EINTERNAL, "out of memory");
    }
    pthread_mutex_lock(&w->mu);
    w->code = code;
    w->result = result;
    w->err.code = err->code;
    memcpy(w->err.message, err->message, sizeof w->err.message);
    w->err.fields = err->fields;
    err->fields = NULL;
    w->finished = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void sync_init(sync_wait *w)
{
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
}

/* Waits for the callback when `code` (the call's return) is AMP_OK. */
static amp_code sync_finish(sync_wait *w, amp_code code, json_t **out, amp_err *err)
{
    if (code == AMP_OK) {
        pthread_mutex_lock(&w->mu);
        while (!w->finished)
            pthread_cond_wait(&w->cv, &w->mu);
        pthread_mutex_unlock(&w->mu);
        code = w->code;
        if (code == AMP_OK && out)
            *out = w->result;
        else
            json_decref(w->result);
        if (code != AMP_OK) {
            json_decref(err->fields);
            *err = w->err;
        } else {
            amp_err_clear(&w->err);
        }
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    return code;
}

amp_code cases_create_sync(core *c, const principal *p, const json_t *body, json_t **out,
                           amp_err *err)
{
    sync_wait w;
    sync_init(&w);
    return sync_finish(&w, cases_create(c, p, body, sync_done, &w, err), out, err);
}

amp_code cases_update_sync(core *c, const principal *p, const char *key, const json_t *patch,
                           int64_t if_match, json_t **out, amp_err *err)
{
    sync_wait w;
    sync_init(&w);
    return sync_finish(&w, cases_update(c, p, key, patch, if_match, sync_done, &w, err), out, err);
}

amp_code children_create_sync(core *c, const principal *p, const char *case_key,
                              const child_kind *kind, const json_t *body, json_t **out,
                              amp_err *err)
{
    sync_wait w;
    sync_init(&w);
    return sync_finish(&w, children_create(c, p, case_key, kind, body, sync_done, &w, err), out,
                       err);
}

/* ==== erasure ========================================================================= */

/* The records other modules keep about a case are erased in the same
 * transaction (weak: the core builds without them). */
int care_erase_case_tx(store_tx *tx, core *c, const principal *p, const char *case_uid,
                       bool keep_facts) __attribute__((weak));

typedef struct {
    core *c;
    const principal *p;
    char key[72];
    char today[11];
    amp_code code;
    char message[160];
    json_t *result;
} erase_op;

/* Keeps only what statistics may use: everything but identity, or — without
 * consent to statistics — only the registration facts. */
static void erase_doc(core *c, const char *entity, json_t *doc, bool keep_facts)
{
    json_object_del(doc, SEAL_MEMBER); /* its key is destroyed with the case's anyway */
    if (keep_facts) {
        policy_strip_identity(c, entity, doc);
        return;
    }
    static const char *const keep[] = {"amp_RegistrationDate", "amp_RegistrationCountry",
                                       "amp_OwnerOrganisation", NULL};
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe (doc, tmp, k, v) {
        bool kept = false;
        for (const char *const *q = keep; *q; q++)
            kept |= strcmp(*q, k) == 0;
        if (!kept)
            json_object_del(doc, k);
    }
}

static int job_case_erase(store_tx *tx, void *arg)
{
    erase_op *e = arg;
    store_row r;
    int rc = store_tx_case_get(tx, e->key, &r);
    if (rc != STORE_OK) {
        e->code = rc == STORE_NOTFOUND ? AMP_ENOTFOUND : AMP_EINTERNAL;
        snprintf(e->message, sizeof e->message, "no case '%.64s'", e->key);
        return rc;
    }
    if (json_object_get(r.doc, ERASED_KEY)) {
        store_row_release(&r);
        e->code = AMP_ESTATE;
        snprintf(e->message, sizeof e->message, "the case was erased already");
        return STORE_CONFLICT;
    }
    unsigned char dek[32] = {0};
    bool have = false;
    amp_err kerr = {0};
    json_t *clear = NULL;
    if (load_dek(e->c, tx, r.uid, dek, &have, &kerr) == AMP_OK)
        clear = open_stored(have ? dek : NULL, "case", r.uid, r.doc, &kerr);
    sodium_memzero(dek, sizeof dek);
    amp_err_clear(&kerr);
    /* the consent fields are not identity data: the stored document has them */
    bool keep_facts = consent_allows(clear ? clear : r.doc, CONSENT_STATISTICS, e->today);
    json_decref(clear);
    if (sealing(e->c)) {
        amp_err serr = {0};
        amp_code sc = case_key_shred(tx, r.uid, &serr);
        amp_err_clear(&serr);
        keyring_forget(e->c->kr, r.uid); /* and from the server's memory */
        if (sc != AMP_OK) {
            store_row_release(&r);
            e->code = AMP_EINTERNAL;
            snprintf(e->message, sizeof e->message, "cannot destroy the case's data key");
            return STORE_ERROR;
        }
    }
    json_t *stored = NULL;
    rc = store_tx_children(tx, r.id, &stored);
    const char *kind;
    json_t *rows;
    json_object_foreach (stored, kind, rows) {
        size_t i;
        json_t *row;
        json_array_foreach (rows, i, row) {
            if (rc != STORE_OK)
                break;
            const char *uid = json_string_value(json_object_get(row, "id"));
            if (!keep_facts) {
                rc = store_tx_child_delete(tx, r.id, kind, uid);
                continue;
            }
            store_row ch;
            rc = store_tx_child_get(tx, r.id, kind, uid, &ch);
            if (rc != STORE_OK)
                break;
            erase_doc(e->c, kind, ch.doc, true);
            int64_t expected = ch.version;
            ch.version++;
            clock_now(ch.updated_at);
            snprintf(ch.updated_by, sizeof ch.updated_by, "%s", e->p->actor);
            rc = store_tx_child_update(tx, &ch, expected);
            store_row_release(&ch);
        }
    }
    json_decref(stored);
    stored = NULL;
    if (rc == STORE_OK) {
        erase_doc(e->c, "case", r.doc, keep_facts);
        char now[32];
        clock_now(now);
        json_object_set_new(r.doc, ERASED_KEY, json_string(now));
        int64_t expected = r.version;
        r.version++;
        snprintf(r.updated_at, sizeof r.updated_at, "%s", now);
        snprintf(r.updated_by, sizeof r.updated_by, "%s", e->p->actor);
        rc = store_tx_children(tx, r.id, &stored);
        json_t *terms = rc == STORE_OK ? case_terms(e->c, r.doc, stored) : NULL;
        if (rc == STORE_OK)
            rc = store_tx_case_update(tx, &r, expected, terms);
        json_decref(terms);
        json_t *none = json_array();
        if (rc == STORE_OK)
            rc = store_tx_history_add(tx, r.id, r.version, now, e->p->actor, "erase", NULL, none);
        json_decref(none);
        if (rc == STORE_OK && care_erase_case_tx)
            rc = care_erase_case_tx(tx, e->c, e->p, r.uid, keep_facts);
        if (rc == STORE_OK) {
            json_t *d = json_pack("{s:b}", "statistics_kept", keep_facts);
            rc = audit_tx(tx, e->p, "case.erase", "case", r.uid, d);
            json_decref(d);
        }
        if (rc == STORE_OK)
            e->result = json_pack("{s:s, s:s, s:s, s:b}", "id", r.uid, "reference", r.reference,
                                  "erased_at", now, "statistics_kept", keep_facts);
    }
    json_decref(stored);
    store_row_release(&r);
    if (rc != STORE_OK && e->code == AMP_OK) {
        e->code = AMP_EINTERNAL;
        snprintf(e->message, sizeof e->message, "cannot erase the case");
    }
    return rc;
}

amp_code cases_erase(core *c, const principal *p, const char *key, json_t **out, amp_err *err)
{
    if (check_key(key, err) != AMP_OK)
        return err->code;
    amp_code code = authz_require(p, ACT_ADMIN, RES_CASE, err);
    if (code != AMP_OK)
        return code;
    erase_op e = {.c = c, .p = p, .code = AMP_OK};
    snprintf(e.key, sizeof e.key, "%s", key);
    clock_today(e.today);
    int rc = store_run(c->store, job_case_erase, &e);
    if (e.code == AMP_OK && rc != STORE_OK) {
        e.code = AMP_EINTERNAL;
        snprintf(e.message, sizeof e.message, "cannot erase the case");
    }
    if (e.code != AMP_OK) {
        json_decref(e.result);
        return amp_err_set(err, e.code, "%s", e.message);
    }
    /* move the committed pages out of the WAL, so the old page images (which held
     * the wrapped key and the sealed members) are overwritten soon; a reader
     * holding the WAL open can delay it: a few tries, then the next checkpoint */
    for (int i = 0; i < 5 && store_checkpoint(c->store) == STORE_CONFLICT; i++)
        usleep(20000);
    *out = e.result;
    return AMP_OK;
}
