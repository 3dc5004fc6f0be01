/* care_erase.c — erasing a case's care records with the case (see
 * care_common.h: care_erase_case_tx). */
#include "core/care_common.h"
#include "core/seal.h"

#include <stdio.h>
#include <string.h>

/* The key cases.c sets on an erased case document (see cases_erase). */
#define CASE_ERASED_KEY "_erased_at"

bool care_case_erased(const json_t *case_doc)
{
    return json_object_get(case_doc, CASE_ERASED_KEY) != NULL;
}

static const struct {
    const char *kind;
    const care_field *fields;
    bool delete_without_facts; /* stays are the shelter's facts: kept, stripped */
} kinds[] = {
    {"stay", care_stay_fields, false},
    {"return", care_return_fields, true},
    {"reintegration_plan", care_plan_fields, true},
    {"visit", care_visit_fields, true},
    {"proceeding", care_proceeding_fields, true},
};

int care_erase_case_tx(store_tx *tx, core *c, const principal *p, const char *case_uid,
                       bool keep_facts)
{
    int rc = STORE_OK;
    json_int_t stripped = 0, deleted = 0;
    char now[32];
    snprintf(now, sizeof now, "%s", "");
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds && rc == STORE_OK; k++) {
        store_record_query q = {.kind = kinds[k].kind, .case_uid = case_uid};
        store_record *rows = NULL;
        int n = 0;
        amp_err err = {0};
        if (care_scan(c, &q, &rows, &n, &err) != AMP_OK) {
            amp_err_clear(&err);
            return STORE_ERROR;
        }
        for (int i = 0; i < n && rc == STORE_OK; i++) {
            store_record r;
            rc = store_tx_record_get(tx, kinds[k].kind, rows[i].uid, &r);
            if (rc == STORE_NOTFOUND) {
                rc = STORE_OK;
                continue;
            }
            if (rc != STORE_OK)
                break;
            if (!keep_facts && kinds[k].delete_without_facts) {
                rc = store_tx_record_delete(tx, r.kind, r.uid);
                deleted++;
            } else {
                json_t *clear = strip_sealed(r.doc); /* sealed members: gone with the key */
                json_t *clean = care_filter(kinds[k].fields, clear ? clear : r.doc, true);
                json_decref(clear);
                json_decref(r.doc);
                r.doc = clean;
                int64_t expected = r.version;
                snprintf(r.updated_by, sizeof r.updated_by, "%s", p->actor);
                rc = store_tx_record_put(tx, &r, expected);
                stripped++;
            }
            store_record_release(&r);
        }
        care_rows_free(rows, n);
    }
    if (rc == STORE_OK && (stripped || deleted)) {
        json_t *detail = json_pack("{s:I, s:I}", "stripped", stripped, "deleted", deleted);
        rc = audit_tx(tx, p, "care.erase", "case", case_uid, detail);
        json_decref(detail);
    }
    return rc;
}
