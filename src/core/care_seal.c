/* care_seal.c — identity-level fields of the records bound to a case sealed at
 * rest under the case's data key (see care_common.h, seal.h, casekey.h). */
#include "core/care_common.h"
#include "core/casekey.h"
#include "core/seal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* seal_identity_fn over a care field table (arg). */
static bool field_is_identity(void *arg, const char *kind, const char *name)
{
    (void)kind;
    for (const care_field *f = arg; f && f->name; f++) {
        if (strcmp(f->name, name) == 0)
            return (f->flags & CF_IDENTITY) != 0;
    }
    return false;
}

/* The case's key: *have false when this core does not seal or the case has no
 * key any more (erased). */
static amp_code dek_for(core *c, store_tx *tx, const char *case_uid,
                        unsigned char dek[CASEKEY_BYTES], bool *have, amp_err *err)
{
    *have = false;
    if (!core_keyring(c) || !case_uid || !*case_uid)
        return AMP_OK;
    amp_code code = tx ? casekey_load_tx(tx, core_keyring(c), case_uid, dek, err)
                       : casekey_load(core_store(c), core_keyring(c), case_uid, dek, err);
    if (code == AMP_ENOTFOUND) {
        amp_err_clear(err);
        return AMP_OK;
    }
    *have = code == AMP_OK;
    return code;
}

/* Replaces r->doc by its opened (dek) or stripped (no dek) form. */
static amp_code open_with(const unsigned char *dek, store_record *r, amp_err *err)
{
    if (!seal_is_sealed(r->doc))
        return AMP_OK;
    json_t *clear;
    if (dek) {
        seal_aad aad = {r->kind, r->uid};
        clear = open_doc(dek, &aad, r->doc, err);
    } else {
        clear = strip_sealed(r->doc);
    }
    if (!clear)
        return err->code != AMP_OK ? err->code : amp_err_set(err, AMP_EINTERNAL, "cannot open");
    json_decref(r->doc);
    r->doc = clear;
    return AMP_OK;
}

int care_tx_open(store_tx *tx, core *c, store_record *r, amp_err *err)
{
    if (!seal_is_sealed(r->doc))
        return AMP_OK;
    unsigned char dek[CASEKEY_BYTES];
    bool have;
    amp_code code = dek_for(c, tx, r->case_uid, dek, &have, err);
    if (code == AMP_OK)
        code = open_with(have ? dek : NULL, r, err);
    sodium_memzero(dek, sizeof dek);
    return code;
}

int care_tx_put(store_tx *tx, core *c, store_record *r, const care_field *fields, int64_t expected,
                amp_err *err)
{
    unsigned char dek[CASEKEY_BYTES];
    bool have;
    amp_code code = dek_for(c, tx, r->case_uid, dek, &have, err);
    if (code != AMP_OK) {
        sodium_memzero(dek, sizeof dek);
        return STORE_ERROR;
    }
    if (!have) { /* no sealing here, or an erased case: stored as it is */
        sodium_memzero(dek, sizeof dek);
        return store_tx_record_put(tx, r, expected);
    }
    seal_aad aad = {r->kind, r->uid};
    json_t *sealed = seal_doc(dek, &aad, r->doc, field_is_identity, (void *)fields, err);
    sodium_memzero(dek, sizeof dek);
    if (!sealed)
        return STORE_ERROR;
    json_t *clear = r->doc;
    r->doc = sealed;
    int rc = store_tx_record_put(tx, r, expected);
    r->doc = clear;
    json_decref(sealed);
    return rc;
}

void care_open_rows(core *c, const principal *p, store_record *rows, int n)
{
    bool identity = authz_sees_identity(p);
    unsigned char dek[CASEKEY_BYTES];
    char loaded[40] = "";
    bool have = false;
    for (int i = 0; i < n; i++) {
        store_record *r = &rows[i];
        if (!seal_is_sealed(r->doc))
            continue;
        amp_err err = {0};
        if (identity && strcmp(loaded, r->case_uid) != 0) {
            snprintf(loaded, sizeof loaded, "%s", r->case_uid);
            if (dek_for(c, NULL, r->case_uid, dek, &have, &err) != AMP_OK)
                have = false;
            amp_err_clear(&err);
        }
        if (open_with(identity && have ? dek : NULL, r, &err) != AMP_OK) {
            /* does not authenticate: never show it, keep the clear facts */
            amp_err_clear(&err);
            json_t *stripped = strip_sealed(r->doc);
            json_decref(r->doc);
            r->doc = stripped ? stripped : json_object();
        }
        amp_err_clear(&err);
    }
    sodium_memzero(dek, sizeof dek);
}

void care_case_open(core *c, store_row *row)
{
    if (!row->doc || !seal_is_sealed(row->doc))
        return;
    unsigned char dek[CASEKEY_BYTES];
    bool have = false;
    amp_err err = {0};
    json_t *clear = NULL;
    if (dek_for(c, NULL, row->uid, dek, &have, &err) == AMP_OK && have) {
        seal_aad aad = {"case", row->uid};
        clear = open_doc(dek, &aad, row->doc, &err);
    }
    sodium_memzero(dek, sizeof dek);
    amp_err_clear(&err);
    if (!clear) /* no key any more (erased) or not authentic: the clear facts only */
        clear = strip_sealed(row->doc);
    if (clear) {
        json_decref(row->doc);
        row->doc = clear;
    }
}

amp_code care_case_access(core *c, const principal *p, const char *key, authz_action a,
                          store_row *out, amp_err *err)
{
    amp_code code = cases_access(c, p, key, a, out, err);
    if (code == AMP_OK && out)
        care_case_open(c, out);
    return code;
}
