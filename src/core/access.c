/* access.c — record scope: which cases a principal may touch (see core.h). */
#include "core/audit.h"
#include "core/core.h"

#include <stdio.h>
#include <string.h>

bool cases_in_scope(core *c, const principal *p, const store_row *row)
{
    if (p->internal)
        return true;
    if (row->restricted_to[0]) { /* a sensitive case: only the users named on it */
        char me[80];
        snprintf(me, sizeof me, ",%s,", p->actor);
        if (!strstr(row->restricted_to, me))
            return false;
    }
    if (!p->org[0])
        return false;
    if (row->owner_org[0] && strcmp(row->owner_org, p->org) == 0)
        return true;
    json_t *orgs = NULL;
    bool shared = false;
    if (store_case_orgs(core_store(c), row->id, &orgs) == STORE_OK) {
        size_t i;
        json_t *g;
        json_array_foreach (orgs, i, g) {
            const char *org = json_string_value(json_object_get(g, "org"));
            if (org && strcmp(org, p->org) == 0)
                shared = true;
        }
    }
    json_decref(orgs);
    return shared;
}

amp_code cases_access(core *c, const principal *p, const char *key, authz_action a, store_row *out,
                      amp_err *err)
{
    amp_code code = authz_require(p, a, RES_CASE, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    int rc = store_case_get(core_store(c), key, &row, NULL);
    if (rc == STORE_ERROR)
        return amp_err_set(err, AMP_EINTERNAL, "cannot read the case");
    if (rc != STORE_OK || !cases_in_scope(c, p, &row)) {
        if (rc == STORE_OK) {
            store_row_release(&row);
            policy_audit_denied(c, p, key, a);
        }
        return amp_err_set(err, AMP_ENOTFOUND, "no case '%.64s'", key);
    }
    if (out) {
        if (cases_open_row(c, &row, err) != AMP_OK) {
            store_row_release(&row);
            return err->code;
        }
        *out = row;
    } else {
        store_row_release(&row);
    }
    return AMP_OK;
}

/* ==== field-level visibility and write rules ====================================== */

bool policy_is_identity(core *c, const char *entity, const char *name)
{
    const cat_field *f = catalogue_field(core_catalogue(c), entity, name);
    return f && f->identity;
}

void policy_strip_identity(core *c, const char *entity, json_t *obj)
{
    if (!json_is_object(obj))
        return;
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe (obj, tmp, key, v) {
        if (policy_is_identity(c, entity, key))
            json_object_del(obj, key);
    }
}

void policy_redact_case(core *c, const principal *p, json_t *record)
{
    if (!record || authz_sees_identity(p))
        return;
    policy_strip_identity(c, "case", record);
    static const char *const kinds[][2] = {{"events", "event"},
                                           {"comments", "comment"},
                                           {"support_plans", "support_plan"},
                                           {"perpetrators", "perpetrator"}};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        size_t i;
        json_t *ch;
        json_array_foreach (json_object_get(record, kinds[k][0]), i, ch)
            policy_strip_identity(c, kinds[k][1], ch);
    }
    json_object_set_new(record, "identity_hidden", json_true());
}

amp_code policy_identity_write(core *c, const principal *p, const char *entity,
                               const json_t *fields, authz_action a, amp_err *err)
{
    if (authz_allows(p, a, RES_CASE_IDENTITY) || !json_is_object(fields))
        return AMP_OK;
    const char *key;
    json_t *v;
    bool refused = false;
    json_object_foreach ((json_t *)fields, key, v) {
        if (policy_is_identity(c, entity, key)) {
            amp_err_field(err, key, "forbidden",
                          "your roles may not write identity fields or free text");
            refused = true;
        }
    }
    if (!refused)
        return AMP_OK;
    return amp_err_set(err, AMP_EFORBIDDEN, "your roles may not write identity fields");
}

void policy_audit_denied(core *c, const principal *p, const char *key, authz_action a)
{
    amp_err e = {0};
    json_t *d = json_pack("{s:s}", "action", authz_action_name(a));
    audit_read(c, p, "access.denied", "case", key, d, &e);
    json_decref(d);
    amp_err_clear(&e);
}

/* ==== restriction to named users ====================================================== */

typedef struct {
    int64_t case_id;
    char users[512];
    const principal *p;
    const char *uid;
} restrict_job;

static int job_restrict(store_tx *tx, void *arg)
{
    restrict_job *j = arg;
    int rc = store_tx_case_restrict(tx, j->case_id, j->users);
    if (rc == STORE_OK) {
        json_t *d = json_pack("{s:s}", "users", j->users);
        rc = audit_tx(tx, j->p, j->users[0] ? "case.restrict" : "case.unrestrict", "case", j->uid,
                      d);
        json_decref(d);
    }
    return rc;
}

amp_code cases_restrict(core *c, const principal *p, const char *key, const json_t *users,
                        json_t **out, amp_err *err)
{
    store_row row;
    amp_code code = cases_access(c, p, key, ACT_UPDATE, &row, err);
    if (code != AMP_OK)
        return code;
    restrict_job j = {.case_id = row.id, .p = p, .uid = row.uid};
    if (users) {
        if (!json_is_array(users) || json_array_size(users) > 20) {
            store_row_release(&row);
            amp_err_field(err, "users", "type", "an array of at most 20 user names");
            return amp_err_set(err, AMP_EINVALID, "give {\"users\": [\"name\", …]}");
        }
        size_t o = (size_t)snprintf(j.users, sizeof j.users, ",");
        bool self = false;
        size_t i;
        json_t *u;
        json_array_foreach ((json_t *)users, i, u) {
            const char *name = json_string_value(u);
            store_user su;
            if (!name || strchr(name, ',') ||
                store_user_get(core_store(c), name, 0, &su) != STORE_OK) {
                char f[32];
                snprintf(f, sizeof f, "users[%zu]", i);
                amp_err_field(err, f, "lookup", "no such user");
                continue;
            }
            self |= strcmp(su.username, p->actor) == 0;
            o += (size_t)snprintf(j.users + o, o < sizeof j.users ? sizeof j.users - o : 0, "%s,",
                                  su.username);
        }
        if (!self && !p->internal && o < sizeof j.users)
            o += (size_t)snprintf(j.users + o, sizeof j.users - o, "%s,", p->actor);
        if (o >= sizeof j.users)
            amp_err_field(err, "users", "max_length", "too many or too long user names");
        if (err->fields) {
            store_row_release(&row);
            return amp_err_set(err, AMP_EINVALID, "the restriction was not changed");
        }
    }
    int rc = store_run(core_store(c), job_restrict, &j);
    if (rc != STORE_OK) {
        store_row_release(&row);
        return amp_err_set(err, AMP_EINTERNAL, "cannot save the restriction");
    }
    json_t *list = json_array();
    char copy[512];
    snprintf(copy, sizeof copy, "%s", j.users);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(list, json_string(t));
    *out = json_pack("{s:s, s:b, s:o}", "id", row.uid, "restricted", j.users[0] != '\0', "users",
                     list);
    store_row_release(&row);
    return AMP_OK;
}
