/* care_common.c — shared machinery of the care modules that works on the
 * store: records, case scope, write jobs, case- and organisation-bound entities
 * (see care_common.h; the input side is in care_fields.c). */
#include "core/care_common.h"
#include "core/consent.h"
#include "core/validate.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/uuid.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== records ================================================================ */

static bool org_in_store(void *arg, const char *id)
{
    store_row row;
    if (!validate_identifier(id) || store_org_get(core_store(arg), id, &row) != STORE_OK)
        return false;
    store_row_release(&row);
    return true;
}

int care_validate(core *c, const principal *p, const care_field *fields, const json_t *doc,
                  bool partial, const char *const *ignore, const char *prefix, const char *today,
                  amp_err *err)
{
    care_lookup lk = {core_catalogue(c), org_in_store, c};
    return care_validate_with(&lk, p, fields, doc, partial, ignore, prefix, today, err);
}

json_t *care_record_json(const principal *p, const care_field *fields, const store_record *r)
{
    json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "id", r->uid, "version",
                          (json_int_t)r->version, "created_at", r->created_at, "updated_at",
                          r->updated_at, "created_by", r->created_by, "updated_by", r->updated_by);
    json_t *doc = care_filter(fields, r->doc, !authz_sees_identity(p));
    json_object_update(o, doc);
    json_decref(doc);
    return o;
}

amp_code care_get(core *c, const char *kind, const char *what, const char *uid, store_record *out,
                  amp_err *err)
{
    if (!uid || !uuid_valid(uid))
        return amp_err_set(err, AMP_ENOTFOUND, "no %s '%.40s'", what, uid ? uid : "");
    int rc = store_record_get(core_store(c), kind, uid, out);
    if (rc == STORE_OK)
        return AMP_OK;
    if (rc == STORE_NOTFOUND)
        return amp_err_set(err, AMP_ENOTFOUND, "no %s '%s'", what, uid);
    return amp_err_set(err, AMP_EINTERNAL, "storage failure");
}

amp_code care_scan(core *c, const store_record_query *q, store_record **rows, int *n, amp_err *err)
{
    store_record_query all = *q;
    all.limit = 0;
    all.offset = 0;
    *rows = NULL;
    *n = 0;
    if (store_record_list(core_store(c), &all, rows, n, NULL) != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "storage failure");
    return AMP_OK;
}

void care_rows_free(store_record *rows, int n)
{
    for (int i = 0; i < n; i++)
        store_record_release(&rows[i]);
    free(rows);
}

bool care_case_visible(core *c, const principal *p, const char *case_uid)
{
    if (p->internal)
        return true;
    if (!case_uid || !*case_uid || !authz_has_case_access(p))
        return false;
    store_row row;
    if (store_case_get(core_store(c), case_uid, &row, NULL) != STORE_OK)
        return false;
    bool ok = cases_in_scope(c, p, &row);
    store_row_release(&row);
    return ok;
}

amp_code care_audit_read(core *c, const principal *p, const char *action, const char *case_uid,
                         int records, amp_err *err)
{
    json_t *detail = json_pack("{s:i}", "records", records);
    amp_code code = audit_read(c, p, action, "case", case_uid, detail, err);
    json_decref(detail);
    return code;
}

amp_code care_require_org(const principal *p, const char *org, const char *what, amp_err *err)
{
    if (p->internal || !org || !*org || (p->org[0] && strcmp(p->org, org) == 0))
        return AMP_OK; /* records of no organisation (national indicators) are shared */
    care_field_error(err, p, what, "wrong_organisation", org && *org ? org : "-");
    return amp_err_set(err, AMP_EFORBIDDEN, "this %s belongs to another organisation", what);
}

amp_code care_cases_scan(core *c, const char *from, const char *to, const char *owner,
                         void (*fn)(const store_row *row, void *arg), void *arg, amp_err *err)
{
    for (int offset = 0;; offset += CASES_MAX_LIMIT) {
        store_query q = {.registered_from = from,
                         .registered_to = to,
                         .owner_org = owner,
                         .sort = SORT_CREATED,
                         .limit = CASES_MAX_LIMIT,
                         .offset = offset};
        store_row *rows = NULL;
        int n = 0;
        int64_t total = 0;
        if (store_case_list(core_store(c), &q, &rows, &n, &total) != STORE_OK)
            return amp_err_set(err, AMP_EINTERNAL, "storage failure");
        for (int i = 0; i < n; i++) {
            fn(&rows[i], arg);
            store_row_release(&rows[i]);
        }
        free(rows);
        if (n < CASES_MAX_LIMIT)
            return AMP_OK;
    }
}

json_t *care_case_doc(core *c, const char *case_uid)
{
    store_row row;
    if (!case_uid || !*case_uid || store_case_get(core_store(c), case_uid, &row, NULL) != STORE_OK)
        return NULL;
    care_case_open(c, &row);
    json_t *doc = json_incref(row.doc);
    store_row_release(&row);
    return doc;
}

json_t *care_page(json_t *items, int limit, int offset)
{
    size_t total = json_array_size(items);
    json_t *page = json_array();
    for (size_t i = (size_t)offset; i < total && i < (size_t)offset + (size_t)limit; i++)
        json_array_append(page, json_array_get(items, i));
    json_decref(items);
    return json_pack("{s:o, s:I, s:i, s:i}", "items", page, "total", (json_int_t)total, "limit",
                     limit, "offset", offset);
}

bool care_is_minor(const json_t *case_doc, const char *on)
{
    return consent_is_child(case_doc, on);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double care_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ==== writes ================================================================== */

#define JOB_FAILED 100

care_op *care_op_new(core *c, const principal *p, care_job_fn job, core_done_fn done, void *arg)
{
    care_op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->c = c;
    op->p = *p;
    op->job = job;
    op->done = done;
    op->arg = arg;
    clock_today(op->today);
    clock_now(op->now);
    return op;
}

void care_op_free(care_op *op)
{
    if (!op)
        return;
    json_decref(op->body);
    json_decref(op->extra);
    json_decref(op->result);
    store_row_release(&op->case_row);
    amp_err_clear(&op->err);
    free(op);
}

int care_op_fail(care_op *op, amp_code code)
{
    op->code = code;
    if (op->err.code == AMP_OK)
        op->err.code = code;
    json_decref(op->result);
    op->result = NULL;
    return JOB_FAILED + (int)code;
}

int care_op_store_fail(care_op *op, int rc, const char *what)
{
    if (rc == STORE_NOTFOUND) {
        amp_err_set(&op->err, AMP_ENOTFOUND, "no %s '%s'", what, op->uid);
        return care_op_fail(op, AMP_ENOTFOUND);
    }
    if (rc == STORE_CONFLICT) {
        amp_err_set(&op->err, AMP_ECONFLICT, "the %s was changed by someone else", what);
        return care_op_fail(op, AMP_ECONFLICT);
    }
    log_error("care: storage failure (%d) writing a %s", rc, what);
    amp_err_set(&op->err, AMP_EINTERNAL, "storage failure");
    return care_op_fail(op, AMP_EINTERNAL);
}

static int run_job(store_tx *tx, void *arg)
{
    care_op *op = arg;
    return op->job(tx, op);
}

static void op_done(void *arg, int rc)
{
    care_op *op = arg;
    if (rc != STORE_OK && op->code == AMP_OK) {
        log_error("care: write was not committed (store code %d)", rc);
        amp_err_set(&op->err, AMP_EINTERNAL, "the write could not be saved");
        op->code = AMP_EINTERNAL;
    }
    json_t *result = op->code == AMP_OK ? op->result : NULL;
    op->result = NULL;
    if (op->code != AMP_OK)
        op->err.code = op->code;
    op->done(op->arg, op->code, result, NULL, &op->err);
    care_op_free(op);
}

amp_code care_op_submit(care_op *op, amp_err *err)
{
    if (store_submit(core_store(op->c), run_job, op_done, op) != STORE_OK) {
        care_op_free(op);
        return amp_err_set(err, AMP_EINTERNAL, "the store is shutting down");
    }
    return AMP_OK;
}

amp_code care_op_take_version(care_op *op, amp_err *err)
{
    json_t *v = json_object_get(op->body, "version");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1)) {
        amp_err_field(err, "version", "type", "version must be a positive integer");
        return amp_err_set(err, AMP_EINVALID, "version must be a positive integer");
    }
    op->body_version = v ? json_integer_value(v) : 0;
    if (v)
        json_object_del(op->body, "version");
    if (op->if_match <= 0 && op->body_version <= 0)
        return amp_err_set(err, AMP_ENEEDVER,
                           "give the version you are changing (If-Match header or "
                           "\"version\" field) so that no one else's change is overwritten");
    return AMP_OK;
}

int care_op_check_version(care_op *op, int64_t current, const char *what)
{
    int64_t wanted = op->if_match > 0 ? op->if_match : op->body_version;
    if (wanted == current)
        return STORE_OK;
    amp_code code = op->if_match > 0 ? AMP_EPRECOND : AMP_ECONFLICT;
    amp_err_set(&op->err, code, "the %s is at version %lld, not %lld: someone saved it first", what,
                (long long)current, (long long)wanted);
    return care_op_fail(op, code);
}

void care_record_init(care_op *op, store_record *r, const char *kind)
{
    memset(r, 0, sizeof *r);
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    uuid_v7(r->uid);
    snprintf(r->created_at, sizeof r->created_at, "%s", op->now);
    snprintf(r->updated_at, sizeof r->updated_at, "%s", op->now);
    snprintf(r->created_by, sizeof r->created_by, "%s", op->p.actor);
    snprintf(r->updated_by, sizeof r->updated_by, "%s", op->p.actor);
}

void care_record_touch(care_op *op, store_record *r)
{
    snprintf(r->updated_at, sizeof r->updated_at, "%s", op->now);
    snprintf(r->updated_by, sizeof r->updated_by, "%s", op->p.actor);
}

/* ---- records bound to a case ---- */

static json_t *key_names(const json_t *obj)
{
    json_t *names = json_array();
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)obj, key, v)
        json_array_append_new(names, json_string(key));
    return names;
}

static int case_record_write(store_tx *tx, care_op *op)
{
    const care_entity *ent = op->ent;
    bool create = op->uid[0] == '\0';
    store_record r;
    json_t *doc = NULL;
    int rc, out = STORE_OK;
    if (create) {
        care_record_init(op, &r, ent->kind);
        snprintf(r.case_uid, sizeof r.case_uid, "%s", op->case_uid);
        snprintf(r.org, sizeof r.org, "%s", op->p.org[0] ? op->p.org : op->case_row.owner_org);
        doc = json_deep_copy(op->body);
    } else {
        if ((rc = store_tx_record_get(tx, ent->kind, op->uid, &r)) != STORE_OK)
            return care_op_store_fail(op, rc, ent->what);
        if (care_tx_open(tx, op->c, &r, &op->err) != AMP_OK) {
            store_record_release(&r);
            return care_op_fail(op, AMP_EINTERNAL);
        }
        if (strcmp(r.case_uid, op->case_uid) != 0) {
            store_record_release(&r);
            amp_err_set(&op->err, AMP_ENOTFOUND, "no %s '%s' in this case", ent->what, op->uid);
            return care_op_fail(op, AMP_ENOTFOUND);
        }
        if ((out = care_op_check_version(op, r.version, ent->what)) != STORE_OK)
            goto done;
        doc = care_merge(r.doc, op->body);
        /* server fields stay as stored; the rest of the merged document is
         * checked whole */
        json_t *given = care_strip_server(ent->fields, doc);
        care_validate(op->c, &op->p, ent->fields, given, false, NULL, NULL, op->today, &op->err);
        json_decref(given);
    }
    json_object_set_new(doc, "case", json_string(op->case_uid));
    if (ent->check)
        ent->check(op, doc, create ? NULL : r.doc);
    if (json_array_size(op->err.fields)) {
        if (op->err.code != AMP_EINVALID || !op->err.message[0])
            care_invalid(&op->err, &op->p);
        out = care_op_fail(op, AMP_EINVALID);
        goto done;
    }
    if (ent->derive)
        ent->derive(op, doc, &r);
    int64_t expected = create ? 0 : r.version;
    json_decref(r.doc);
    r.doc = json_incref(doc);
    care_record_touch(op, &r);
    rc = care_tx_put(tx, op->c, &r, ent->fields, expected, &op->err);
    if (rc == STORE_OK) {
        char action[64];
        snprintf(action, sizeof action, "%s.%s", ent->what, create ? "create" : "update");
        json_t *detail =
            json_pack("{s:s, s:o}", "case", op->case_uid, "fields", key_names(op->body));
        rc = audit_tx(tx, &op->p, action, ent->kind, r.uid, detail);
        json_decref(detail);
    }
    if (rc != STORE_OK) {
        out = care_op_store_fail(op, rc, ent->what);
        goto done;
    }
    op->result = care_record_json(&op->p, ent->fields, &r);
done:
    json_decref(doc);
    store_record_release(&r);
    return out;
}

static amp_code case_record_submit(core *c, const principal *p, const care_entity *ent,
                                   const char *case_key, const char *id, const json_t *body,
                                   int64_t if_match, core_done_fn done, void *arg, amp_err *err)
{
    bool create = id == NULL;
    amp_code code = authz_require(p, create ? ACT_CREATE : ACT_UPDATE, ent->res, err);
    if (code != AMP_OK)
        return code;
    if (!json_is_object(body)) {
        care_field_error(err, p, "", "object", NULL);
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    care_op *op = care_op_new(c, p, case_record_write, done, arg);
    if (!op)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    if ((code = care_case_access(c, p, case_key, ACT_UPDATE, &op->case_row, err)) != AMP_OK) {
        care_op_free(op);
        return code;
    }
    snprintf(op->case_uid, sizeof op->case_uid, "%s", op->case_row.uid);
    if (care_case_erased(op->case_row.doc)) {
        care_op_free(op);
        return amp_err_set(err, AMP_ESTATE,
                           "the case was erased; its records can no longer change");
    }
    op->body = json_deep_copy(body);
    op->ent = ent;
    if (!create) {
        if (!uuid_valid(id)) {
            care_op_free(op);
            return amp_err_set(err, AMP_ENOTFOUND, "no %s '%.40s'", ent->what, id);
        }
        snprintf(op->uid, sizeof op->uid, "%s", id);
        op->if_match = if_match;
        if ((code = care_op_take_version(op, err)) != AMP_OK) {
            care_op_free(op);
            return code;
        }
    }
    care_validate(c, p, ent->fields, op->body, !create, NULL, NULL, op->today, err);
    if (json_array_size(err->fields)) {
        care_op_free(op);
        return care_invalid(err, p);
    }
    return care_op_submit(op, err);
}

amp_code care_case_create(core *c, const principal *p, const care_entity *ent, const char *case_key,
                          const json_t *body, core_done_fn done, void *arg, amp_err *err)
{
    return case_record_submit(c, p, ent, case_key, NULL, body, 0, done, arg, err);
}

amp_code care_case_update(core *c, const principal *p, const care_entity *ent, const char *case_key,
                          const char *id, const json_t *patch, int64_t if_match, core_done_fn done,
                          void *arg, amp_err *err)
{
    return case_record_submit(c, p, ent, case_key, id ? id : "", patch, if_match, done, arg, err);
}

amp_code care_case_get(core *c, const principal *p, const care_entity *ent, const char *case_key,
                       const char *id, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, ent->res, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    if ((code = cases_access(c, p, case_key, ACT_READ, &row, err)) != AMP_OK)
        return code;
    store_record r;
    code = care_get(c, ent->kind, ent->what, id, &r, err);
    if (code == AMP_OK)
        care_open_rows(c, p, &r, 1);
    if (code == AMP_OK && strcmp(r.case_uid, row.uid) != 0) {
        store_record_release(&r);
        code = amp_err_set(err, AMP_ENOTFOUND, "no %s '%s' in this case", ent->what, id);
    }
    store_row_release(&row);
    if (code != AMP_OK)
        return code;
    json_t *detail = json_pack("{s:s}", "case", r.case_uid);
    char action[64];
    snprintf(action, sizeof action, "%s.read", ent->what);
    code = audit_read(c, p, action, ent->kind, r.uid, detail, err);
    json_decref(detail);
    if (code == AMP_OK)
        *out = care_record_json(p, ent->fields, &r);
    store_record_release(&r);
    return code;
}

amp_code care_case_list(core *c, const principal *p, const care_entity *ent, const char *case_key,
                        json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, ent->res, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    if ((code = cases_access(c, p, case_key, ACT_READ, &row, err)) != AMP_OK)
        return code;
    store_record_query q = {.kind = ent->kind, .case_uid = row.uid};
    store_record *rows;
    int n;
    code = care_scan(c, &q, &rows, &n, err);
    if (code == AMP_OK) {
        json_t *detail = json_pack("{s:s, s:i}", "case", row.uid, "records", n);
        char action[64];
        snprintf(action, sizeof action, "%s.list", ent->what);
        code = audit_read(c, p, action, "case", row.uid, detail, err);
        json_decref(detail);
        if (code != AMP_OK)
            care_rows_free(rows, n);
    }
    store_row_release(&row);
    if (code != AMP_OK)
        return code;
    care_open_rows(c, p, rows, n);
    json_t *items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, care_record_json(p, ent->fields, &rows[i]));
    care_rows_free(rows, n);
    *out = care_page(items, n > CASES_MAX_LIMIT ? n : (n ? n : CASES_DEFAULT_LIMIT), 0);
    return AMP_OK;
}

/* ---- records owned by an organisation ---- */

static int org_record_write(store_tx *tx, care_op *op)
{
    const care_entity *ent = op->ent;
    bool create = op->uid[0] == '\0';
    bool remove = json_is_true(json_object_get(op->extra, "delete"));
    store_record r;
    json_t *doc = NULL;
    int rc, out = STORE_OK;
    if (create) {
        care_record_init(op, &r, ent->kind);
        doc = json_deep_copy(op->body);
    } else {
        if ((rc = store_tx_record_get(tx, ent->kind, op->uid, &r)) != STORE_OK)
            return care_op_store_fail(op, rc, ent->what);
        if ((out = care_op_check_version(op, r.version, ent->what)) != STORE_OK)
            goto done;
        if (care_require_org(&op->p, r.org, ent->what, &op->err) != AMP_OK) {
            out = care_op_fail(op, AMP_EFORBIDDEN);
            goto done;
        }
        if (remove) {
            rc = store_tx_record_delete(tx, ent->kind, r.uid);
            if (rc == STORE_OK) {
                char action[64];
                snprintf(action, sizeof action, "%s.delete", ent->what);
                rc = audit_tx(tx, &op->p, action, ent->kind, r.uid, NULL);
            }
            if (rc != STORE_OK)
                out = care_op_store_fail(op, rc, ent->what);
            else
                op->result = json_pack("{s:s, s:b}", "id", r.uid, "deleted", 1);
            goto done;
        }
        doc = care_merge(r.doc, op->body);
        json_t *given = care_strip_server(ent->fields, doc);
        care_validate(op->c, &op->p, ent->fields, given, false, NULL, NULL, op->today, &op->err);
        json_decref(given);
        if (!json_equal(json_object_get(doc, ent->org_field),
                        json_object_get(r.doc, ent->org_field)) &&
            !op->p.internal)
            care_field_error(&op->err, &op->p, ent->org_field, "read_only", NULL);
    }
    if (ent->check)
        ent->check(op, doc, create ? NULL : r.doc);
    if (json_array_size(op->err.fields)) {
        care_invalid(&op->err, &op->p);
        out = care_op_fail(op, AMP_EINVALID);
        goto done;
    }
    if (ent->derive)
        ent->derive(op, doc, &r);
    const char *owner = json_string_value(json_object_get(doc, ent->org_field));
    snprintf(r.org, sizeof r.org, "%s", owner ? owner : "");
    int64_t expected = create ? 0 : r.version;
    json_decref(r.doc);
    r.doc = json_incref(doc);
    care_record_touch(op, &r);
    rc = store_tx_record_put(tx, &r, expected);
    if (rc == STORE_OK) {
        char action[64];
        snprintf(action, sizeof action, "%s.%s", ent->what, create ? "create" : "update");
        json_t *detail = json_pack("{s:o}", "fields", key_names(op->body));
        rc = audit_tx(tx, &op->p, action, ent->kind, r.uid, detail);
        json_decref(detail);
    }
    if (rc != STORE_OK) {
        out = care_op_store_fail(op, rc, ent->what);
        goto done;
    }
    op->result = care_record_json(&op->p, ent->fields, &r);
done:
    json_decref(doc);
    store_record_release(&r);
    return out;
}

static amp_code org_record_submit(core *c, const principal *p, const care_entity *ent,
                                  const char *id, const json_t *body, int64_t if_match, bool remove,
                                  core_done_fn done, void *arg, amp_err *err)
{
    bool create = id == NULL;
    amp_code code = authz_require(p,
                                  create   ? ACT_CREATE
                                  : remove ? ACT_DELETE
                                           : ACT_UPDATE,
                                  ent->res, err);
    if (code != AMP_OK)
        return code;
    if (!remove && !json_is_object(body)) {
        care_field_error(err, p, "", "object", NULL);
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    if (!create) {
        store_record r;
        if ((code = care_get(c, ent->kind, ent->what, id, &r, err)) != AMP_OK)
            return code;
        code = care_require_org(p, r.org, ent->what, err);
        store_record_release(&r);
        if (code != AMP_OK)
            return code;
    }
    care_op *op = care_op_new(c, p, org_record_write, done, arg);
    if (!op)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    op->ent = ent;
    op->body = remove ? json_object() : json_deep_copy(body);
    op->extra = json_pack("{s:b}", "delete", remove);
    if (!create) {
        snprintf(op->uid, sizeof op->uid, "%s", id);
        op->if_match = if_match;
        if ((code = care_op_take_version(op, err)) != AMP_OK) {
            care_op_free(op);
            return code;
        }
    }
    if (!remove)
        care_validate(c, p, ent->fields, op->body, !create, NULL, NULL, op->today, err);
    if (create) {
        const char *owner = json_string_value(json_object_get(op->body, ent->org_field));
        if (!owner && p->org[0])
            json_object_set_new(op->body, ent->org_field, json_string(p->org));
        else if (owner && !p->internal && strcmp(owner, p->org) != 0)
            care_field_error(err, p, ent->org_field, "wrong_organisation", owner);
    }
    if (json_array_size(err->fields)) {
        care_op_free(op);
        return care_invalid(err, p);
    }
    return care_op_submit(op, err);
}

amp_code care_org_create(core *c, const principal *p, const care_entity *ent, const json_t *body,
                         core_done_fn done, void *arg, amp_err *err)
{
    return org_record_submit(c, p, ent, NULL, body, 0, false, done, arg, err);
}

amp_code care_org_update(core *c, const principal *p, const care_entity *ent, const char *id,
                         const json_t *patch, int64_t if_match, core_done_fn done, void *arg,
                         amp_err *err)
{
    return org_record_submit(c, p, ent, id ? id : "", patch, if_match, false, done, arg, err);
}

amp_code care_org_delete(core *c, const principal *p, const care_entity *ent, const char *id,
                         int64_t if_match, core_done_fn done, void *arg, amp_err *err)
{
    return org_record_submit(c, p, ent, id ? id : "", NULL, if_match, true, done, arg, err);
}

/* ---- waiting ---- */

struct care_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool finished;
    amp_code code;
    json_t *result;
    amp_err err;
};

care_wait *care_wait_new(void)
{
    care_wait *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    return w;
}

void care_wait_done(void *arg, amp_code code, json_t *result, char *text, amp_err *err)
{
    care_wait *w = arg;
    free(text);
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

amp_code care_wait_end(care_wait *w, amp_code code, json_t **out, amp_err *err)
{
    if (!w)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
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
    free(w);
    return code;
}
