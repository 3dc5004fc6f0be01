/* test_seal.c — sealing identity members of catalogue documents: round trips,
 * refusals (wrong key, wrong record, tampering), the text fast path byte for
 * byte, stripping, and a scan of a database and its WAL for identity values. */
#include "testutil.h"

#include "core/casekey.h"
#include "core/keyring.h"
#include "core/seal.h"
#include "util/buf.h"

static unsigned char dek[32], dek2[32];

static const char CASE_UID[] = "0190a1b2-0000-7000-8000-0000000000c1";
static const char OTHER_UID[] = "0190a1b2-0000-7000-8000-0000000000c2";

/* Real catalogue documents: a case, each child kind, and edge cases. */
static const char *const CASE_DOC =
    "{\"prs_FirstName\":\"Lucía María\",\"prs_Gender\":\"Feminine\","
    "\"prs_SecondName\":\"Pérez \\\"la Flaca\\\"\",\"prs_Birthdate\":\"2009-03-14\","
    "\"vic_TraffickingStatus\":\"ActualVictimOfTrafficking\","
    "\"prs_IdentityNumber\":\"1712345678\",\"prs_MobilePhone\":\"+593 99 123 4567\","
    "\"vic_TypeOfExploitation\":[\"ForcedLabour\",\"SexualExploitation\"],"
    "\"prs_Email\":\"lucia@example.org\",\"prs_MailingStreet\":\"Av. Amazonas N34-12\","
    "\"prs_MailingLatitude\":-0.1807,\"prs_Citizenship\":[\"EC\"],"
    "\"cas_ReasonForCaseClosure\":\"línea 1\\nlínea\\t2 \\\\ fin\"}";
static const char *const EVENT_DOC =
    "{\"hte_Type\":\"Exploitation\",\"hte_Country\":\"PE\",\"hte_Street\":\"Jr. Puno 123\","
    "\"hte_Description\":\"Held in a house near the market\",\"hte_Latitude\":-12.0464,"
    "\"amp_EventSequence\":2}";
static const char *const COMMENT_DOC =
    "{\"cco_CaseComment\":\"Олена called from +380 67 765 4321\"}";
static const char *const PLAN_DOC =
    "{\"spl_Type\":\"Health\",\"spl_Objectives\":\"See Dr. Ramírez weekly\"}";
static const char *const PERP_DOC = "{\"prs_Gender\":\"Masculine\",\"prs_FirstName\":\"Iván\","
                                    "\"per_RoleInProcess\":[\"Exploiter\"],"
                                    "\"per_RoleDetails\":\"Owner of the workshop\"}";
static const char *const NO_IDENTITY_DOC =
    "{\"prs_Gender\":\"Feminine\",\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\"}";
static const char *const ONLY_IDENTITY_DOC = "{\"prs_FirstName\":\"Ольга\"}";

static int setup(void **state)
{
    if (tu_catalogue_setup(state) != 0 || sodium_init() < 0)
        return -1;
    randombytes_buf(dek, sizeof dek);
    randombytes_buf(dek2, sizeof dek2);
    return 0;
}

static json_t *seal_ok(const char *kind, const char *uid, const json_t *doc)
{
    seal_aad aad = {kind, uid};
    amp_err err = {0};
    json_t *s = seal_doc(dek, &aad, doc, seal_catalogue_identity, tu_cat, &err);
    if (!s)
        fail_msg("seal_doc: %s", err.message);
    return s;
}

static const char *last_key(const json_t *o)
{
    const char *key, *last = NULL;
    json_t *v;
    json_object_foreach ((json_t *)o, key, v)
        last = key;
    return last;
}

/* Sealing then opening gives the document back (values equal), identity last;
 * nothing of the identity remains in clear in the stored text. */
static void round_trip(const char *kind, const char *text)
{
    json_t *doc = tu_json(text);
    json_t *sealed = seal_ok(kind, CASE_UID, doc);
    const char *key;
    json_t *v;
    size_t nid = 0;
    json_object_foreach (doc, key, v) {
        if (seal_catalogue_identity(tu_cat, kind, key)) {
            nid++;
            assert_null(json_object_get(sealed, key));
        } else {
            assert_true(json_equal(v, json_object_get(sealed, key)));
        }
    }
    if (nid) {
        assert_string_equal(last_key(sealed), SEAL_MEMBER);
        assert_true(seal_is_sealed(sealed));
        char *stored = json_dumps(sealed, JSON_COMPACT);
        json_object_foreach (doc, key, v) {
            if (seal_catalogue_identity(tu_cat, kind, key) && json_is_string(v))
                assert_null(strstr(stored, json_string_value(v)));
        }
        free(stored);
    } else {
        assert_false(seal_is_sealed(sealed));
        assert_true(json_equal(sealed, doc));
    }
    seal_aad aad = {kind, CASE_UID};
    amp_err err = {0};
    json_t *opened = open_doc(dek, &aad, sealed, &err);
    assert_non_null(opened);
    assert_true(json_equal(opened, doc));
    /* the order opening gives is seal_canonical's */
    json_t *canon = seal_canonical(doc, kind, seal_catalogue_identity, tu_cat);
    char *a = json_dumps(opened, JSON_COMPACT), *b = json_dumps(canon, JSON_COMPACT);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(canon);
    json_decref(opened);
    json_decref(sealed);
    json_decref(doc);
}

static void test_round_trip_catalogue_docs(void **state)
{
    (void)state;
    round_trip("case", CASE_DOC);
    round_trip("event", EVENT_DOC);
    round_trip("comment", COMMENT_DOC);
    round_trip("support_plan", PLAN_DOC);
    round_trip("perpetrator", PERP_DOC);
    round_trip("case", NO_IDENTITY_DOC);
    round_trip("case", ONLY_IDENTITY_DOC);
    round_trip("case", "{}");
}

static void test_refusals(void **state)
{
    (void)state;
    json_t *doc = tu_json(CASE_DOC);
    json_t *sealed = seal_ok("case", CASE_UID, doc);
    amp_err err = {0};
    seal_aad right = {"case", CASE_UID}, other_uid = {"case", OTHER_UID},
             other_kind = {"perpetrator", CASE_UID};
    /* wrong key */
    assert_null(open_doc(dek2, &right, sealed, &err));
    assert_int_equal(err.code, AMP_EINTERNAL);
    assert_non_null(strstr(err.message, "does not authenticate"));
    /* another record's or kind's additional data */
    assert_null(open_doc(dek, &other_uid, sealed, &err));
    assert_null(open_doc(dek, &other_kind, sealed, &err));
    /* ciphertext moved from another record of the same case */
    json_t *doc2 = tu_json("{\"prs_FirstName\":\"Otra\"}");
    seal_aad a2 = {"case", OTHER_UID};
    json_t *sealed2 = seal_doc(dek, &a2, doc2, seal_catalogue_identity, tu_cat, &err);
    json_t *swapped = json_deep_copy(sealed);
    json_object_set(swapped, SEAL_MEMBER, json_object_get(sealed2, SEAL_MEMBER));
    assert_null(open_doc(dek, &right, swapped, &err));
    /* tampered: every few characters of the base64 flipped */
    const char *b64 = json_string_value(json_object_get(sealed, SEAL_MEMBER));
    size_t n = strlen(b64);
    for (size_t i = 0; i < n; i += 5) {
        char *t = strdup(b64);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        json_t *bad = json_deep_copy(sealed);
        json_object_set_new(bad, SEAL_MEMBER, json_string(t));
        assert_null(open_doc(dek, &right, bad, &err));
        char *raw = json_dumps(bad, JSON_COMPACT);
        buf b;
        buf_init(&b);
        assert_int_equal(seal_open_text(dek, &right, raw, &b, &err), -1);
        assert_int_equal(b.len, 0); /* nothing appended */
        buf_release(&b);
        free(raw);
        json_decref(bad);
        free(t);
    }
    /* truncated, empty, not base64, not a string */
    json_t *bad = json_deep_copy(sealed);
    json_object_set_new(bad, SEAL_MEMBER, json_string("AAAA"));
    assert_null(open_doc(dek, &right, bad, &err));
    json_object_set_new(bad, SEAL_MEMBER, json_string(""));
    assert_null(open_doc(dek, &right, bad, &err));
    json_object_set_new(bad, SEAL_MEMBER, json_string("not base64!"));
    assert_null(open_doc(dek, &right, bad, &err));
    json_object_set_new(bad, SEAL_MEMBER, json_integer(3));
    assert_null(open_doc(dek, &right, bad, &err));
    json_decref(bad);
    /* the same on the text path, and a value with an escaped quote: the opening
     * quote is found from the end, the characters are checked when decoded */
    const char *const bad_texts[] = {
        "{\"a\":1,\"_sealed\":\"not base64!\"}",
        "{\"_sealed\":\"AAAA\"}",
        "{\"a\":1,\"_sealed\":\"AA\\\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
        "{\"a\":1,\"_sealed\":\"\"}",
        "{\"a\":1,\"_sealed\":3}",
        "{\"_sealed\":\"\\\"\"}"};
    for (size_t i = 0; i < sizeof bad_texts / sizeof *bad_texts; i++) {
        buf tb;
        buf_init(&tb);
        assert_int_equal(seal_open_text(dek, &right, bad_texts[i], &tb, &err), -1);
        assert_int_equal(tb.len, 0);
        buf_release(&tb);
    }
    /* "_sealed" not last */
    bad = json_object();
    json_object_set(bad, SEAL_MEMBER, json_object_get(sealed, SEAL_MEMBER));
    json_object_set_new(bad, "prs_Gender", json_string("Feminine"));
    assert_null(open_doc(dek, &right, bad, &err));
    char *raw = json_dumps(bad, JSON_COMPACT);
    buf b;
    buf_init(&b);
    assert_int_equal(seal_open_text(dek, &right, raw, &b, &err), -1);
    assert_int_equal(seal_strip_text(raw, &b, &err), -1);
    assert_int_equal(b.len, 0);
    free(raw);
    json_decref(bad);
    /* sealing a document that already holds "_sealed", or not an object */
    assert_null(seal_doc(dek, &right, sealed, seal_catalogue_identity, tu_cat, &err));
    json_t *arr = json_array();
    assert_null(seal_doc(dek, &right, arr, seal_catalogue_identity, tu_cat, &err));
    seal_aad none = {"case", ""};
    assert_null(seal_doc(dek, &none, doc, seal_catalogue_identity, tu_cat, &err));
    assert_int_equal(seal_open_text(dek, &right, "[1]", &b, &err), -1);
    assert_int_equal(seal_open_text(dek, &right, "", &b, &err), -1);
    buf_release(&b);
    json_decref(arr);
    amp_err_clear(&err);
    json_decref(swapped);
    json_decref(sealed2);
    json_decref(doc2);
    json_decref(sealed);
    json_decref(doc);
}

/* The text path, braces added, equals open_doc + compact dump of the stored
 * text parsed — byte for byte; and likewise for stripping. */
static void expect_text_same(const char *kind, const char *text)
{
    json_t *doc = tu_json(text);
    json_t *sealed = seal_ok(kind, CASE_UID, doc);
    char *raw = json_dumps(sealed, JSON_COMPACT);
    seal_aad aad = {kind, CASE_UID};
    amp_err err = {0};

    json_t *parsed = tu_json(raw);
    json_t *opened = open_doc(dek, &aad, parsed, &err);
    assert_non_null(opened);
    char *want = json_dumps(opened, JSON_COMPACT);
    buf b;
    buf_init(&b);
    buf_addc(&b, '{');
    assert_int_equal(seal_open_text(dek, &aad, raw, &b, &err), 0);
    buf_addc(&b, '}');
    char *got = buf_detach(&b, NULL);
    /* the helper appends ",members": drop the comma after '{' */
    if (got[1] == ',')
        memmove(got + 1, got + 2, strlen(got + 2) + 1);
    assert_string_equal(got, want);
    free(got);
    free(want);

    json_t *stripped = strip_sealed(parsed);
    want = json_dumps(stripped, JSON_COMPACT);
    buf_init(&b);
    buf_addc(&b, '{');
    assert_int_equal(seal_strip_text(raw, &b, &err), 0);
    buf_addc(&b, '}');
    got = buf_detach(&b, NULL);
    if (got[1] == ',')
        memmove(got + 1, got + 2, strlen(got + 2) + 1);
    assert_string_equal(got, want);
    /* stripped: no identity member left */
    const char *key;
    json_t *v;
    json_object_foreach (stripped, key, v)
        assert_false(seal_catalogue_identity(tu_cat, kind, key));
    assert_null(json_object_get(stripped, SEAL_MEMBER));
    free(got);
    free(want);
    json_decref(stripped);
    json_decref(opened);
    json_decref(parsed);
    free(raw);
    json_decref(sealed);
    json_decref(doc);
}

static void test_text_path_byte_for_byte(void **state)
{
    (void)state;
    expect_text_same("case", CASE_DOC);
    expect_text_same("event", EVENT_DOC);
    expect_text_same("comment", COMMENT_DOC);
    expect_text_same("support_plan", PLAN_DOC);
    expect_text_same("perpetrator", PERP_DOC);
    expect_text_same("case", NO_IDENTITY_DOC);
    expect_text_same("case", ONLY_IDENTITY_DOC);
    expect_text_same("case", "{}");
    /* a clear value that looks like the sealed member, and awkward strings */
    expect_text_same("case", "{\"prs_Gender\":\"Feminine\",\"amp_ConsentObtainedBy\":"
                             "\"x,\\\"_sealed\\\":\\\"AAAA\"}");
    expect_text_same("case", "{\"amp_ConsentObtainedBy\":\"\\\\\",\"prs_FirstName\":\"\\u0001\"}");
}

/* The text helpers append exactly what add_members_text would for a document
 * that was never sealed (the existing stored data). */
static void test_text_path_unsealed(void **state)
{
    (void)state;
    seal_aad aad = {"case", CASE_UID};
    amp_err err = {0};
    buf b;
    buf_init(&b);
    assert_int_equal(seal_open_text(dek, &aad, "{\"a\":1,\"b\":\"x\"}", &b, &err), 0);
    assert_int_equal(seal_strip_text("{}", &b, &err), 0);
    assert_int_equal(seal_strip_text("{\"c\":[1,2]}", &b, &err), 0);
    char *got = buf_detach(&b, NULL);
    assert_string_equal(got, ",\"a\":1,\"b\":\"x\",\"c\":[1,2]");
    free(got);
}

/* ---- a stolen database file reveals no one ------------------------------------------ */

static const char *const PEOPLE[][6] = {
    /* first, second, birthdate, ID number, phone, street */
    {"Valentina", "Quishpe", "2007-11-02", "1723456789", "+593991112233", "Calle Sucre 45"},
    {"Олена", "Шевчук", "1998-04-21", "FE123456", "+380501234567", "вул. Хрещатик 10"},
    {"Thị Hương", "Nguyễn", "2001-08-30", "079201001234", "+84912345678", "Số 12 Lê Lợi"},
    {"Aminata", "Diallo", "1995-01-17", "SN7788990", "+221771234567", "Rue 10 Médina"},
    {"Joaquín", "Villacís", "2010-06-05", "0954321876", "+593987654321", "Av. 9 de Octubre 100"},
};
#define NPEOPLE (sizeof PEOPLE / sizeof *PEOPLE)

typedef struct {
    keyring *kr;
    int round; /* 0: insert, 1: update */
    int64_t ids[NPEOPLE];
    char uids[NPEOPLE][40];
    amp_err err;
} leak_arg;

static void fill_row(store_row *r, const char *uid, const char *ref)
{
    memset(r, 0, sizeof *r);
    snprintf(r->uid, sizeof r->uid, "%s", uid);
    snprintf(r->reference, sizeof r->reference, "%s", ref);
    r->version = 1;
    snprintf(r->registered_on, sizeof r->registered_on, "2026-06-01");
    snprintf(r->created_at, sizeof r->created_at, "2026-06-01T00:00:00Z");
    snprintf(r->updated_at, sizeof r->updated_at, "2026-06-01T00:00:00Z");
    snprintf(r->created_by, sizeof r->created_by, "tester");
    snprintf(r->updated_by, sizeof r->updated_by, "tester");
}

static int leak_job(store_tx *tx, void *arg)
{
    leak_arg *a = arg;
    for (size_t i = 0; i < NPEOPLE; i++) {
        unsigned char k[32];
        json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "prs_FirstName",
                                PEOPLE[i][0], "prs_SecondName", PEOPLE[i][1], "prs_Birthdate",
                                PEOPLE[i][2], "prs_IdentityNumber", PEOPLE[i][3], "prs_MobilePhone",
                                PEOPLE[i][4], "prs_MailingStreet", PEOPLE[i][5], "prs_Gender",
                                "Feminine", "vic_TraffickingStatus", "ActualVictimOfTrafficking",
                                "vic_TypeOfExploitation", "ForcedLabour");
        if (a->round == 1) /* an update: a new phone number */
            json_object_set_new(doc, "prs_HomePhone", json_sprintf("+1555000%04zu", i));
        amp_code code = a->round == 0 ? casekey_create(tx, a->kr, a->uids[i],
                                                       "2026-06-01T00:00:00Z", k, &a->err)
                                      : casekey_load_tx(tx, a->kr, a->uids[i], k, &a->err);
        if (code != AMP_OK) {
            json_decref(doc);
            return 50;
        }
        seal_aad aad = {"case", a->uids[i]};
        json_t *sealed = seal_doc(k, &aad, doc, seal_catalogue_identity, tu_cat, &a->err);
        store_row r;
        char ref[40];
        snprintf(ref, sizeof ref, "EC-2026-%06zu", i + 1);
        fill_row(&r, a->uids[i], ref);
        r.doc = sealed;
        int rc;
        if (a->round == 0) {
            rc = store_tx_case_insert(tx, &r, NULL);
            a->ids[i] = r.id;
            /* a child: a comment naming the person */
            store_row ch;
            char cuid[40];
            snprintf(cuid, sizeof cuid, "0190a1b2-0000-7000-9000-%012zu", i + 1);
            fill_row(&ch, cuid, "");
            ch.case_id = r.id;
            snprintf(ch.kind, sizeof ch.kind, "comment");
            char text[200];
            snprintf(text, sizeof text, "Met %s %s at the shelter", PEOPLE[i][0], PEOPLE[i][1]);
            json_t *cdoc = json_pack("{s:s}", "cco_CaseComment", text);
            seal_aad caad = {"comment", cuid};
            ch.doc = seal_doc(k, &caad, cdoc, seal_catalogue_identity, tu_cat, &a->err);
            if (rc == STORE_OK)
                rc = store_tx_child_insert(tx, &ch);
            json_decref(ch.doc);
            json_decref(cdoc);
        } else {
            r.id = a->ids[i];
            r.version = 2;
            rc = store_tx_case_update(tx, &r, 1, NULL);
        }
        sodium_memzero(k, sizeof k);
        json_decref(sealed);
        json_decref(doc);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(b, 1, (size_t)(len > 0 ? len : 0), f);
    fclose(f);
    return b;
}

/* Counts the files (database, WAL) among paths that contain needle. */
static int found_in(char *const *bufs, const size_t *lens, int nfiles, const char *needle)
{
    int hits = 0;
    for (int i = 0; i < nfiles; i++) {
        if (bufs[i] && memmem(bufs[i], lens[i], needle, strlen(needle)))
            hits++;
    }
    return hits;
}

static void test_leak_scan(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    amp_err err = {0};
    assert_int_equal(keyring_init_dir(e->dir, &err), 0);
    leak_arg a = {0};
    a.kr = keyring_open(e->dir, &err);
    assert_non_null(a.kr);
    for (size_t i = 0; i < NPEOPLE; i++)
        snprintf(a.uids[i], sizeof a.uids[i], "0190a1b2-0000-7000-8000-%012zu", i + 1);
    assert_int_equal(store_run(e->store, leak_job, &a), STORE_OK);
    a.round = 1;
    assert_int_equal(store_run(e->store, leak_job, &a), STORE_OK);

    /* the files as a thief would copy them, while the server runs (WAL present) */
    char db[300], wal[310];
    snprintf(db, sizeof db, "%s/amparo.db", e->dir);
    snprintf(wal, sizeof wal, "%s-wal", db);
    char *bufs[2];
    size_t lens[2];
    bufs[0] = slurp(db, &lens[0]);
    bufs[1] = slurp(wal, &lens[1]);
    assert_non_null(bufs[0]);
    assert_non_null(bufs[1]);
    assert_true(lens[1] > 0); /* the writes are (at least) in the WAL */
    /* control: the scan sees clear, non-identifying values */
    assert_true(found_in(bufs, lens, 2, "ActualVictimOfTrafficking") > 0);
    assert_true(found_in(bufs, lens, 2, "ForcedLabour") > 0);
    for (size_t i = 0; i < NPEOPLE; i++) {
        for (int f = 0; f < 6; f++) {
            if (found_in(bufs, lens, 2, PEOPLE[i][f]))
                fail_msg("'%s' is in clear in the database or its WAL", PEOPLE[i][f]);
        }
        char phone[32];
        snprintf(phone, sizeof phone, "+1555000%04zu", i);
        assert_int_equal(found_in(bufs, lens, 2, phone), 0);
        assert_int_equal(found_in(bufs, lens, 2, "at the shelter"), 0);
    }
    free(bufs[0]);
    free(bufs[1]);

    /* and the data is all there for the key holder */
    for (size_t i = 0; i < NPEOPLE; i++) {
        store_row r;
        assert_int_equal(store_case_get(e->store, a.uids[i], &r, NULL), STORE_OK);
        unsigned char k[32];
        assert_int_equal(casekey_load(e->store, a.kr, a.uids[i], k, &err), AMP_OK);
        seal_aad aad = {"case", a.uids[i]};
        json_t *opened = open_doc(k, &aad, r.doc, &err);
        assert_non_null(opened);
        assert_string_equal(json_string_value(json_object_get(opened, "prs_FirstName")),
                            PEOPLE[i][0]);
        assert_string_equal(json_string_value(json_object_get(opened, "prs_IdentityNumber")),
                            PEOPLE[i][3]);
        json_decref(opened);
        store_row_release(&r);
    }
    keyring_free(a.kr);
    tu_env_free(e);
}

/* ---- the direct text path: byte for byte what jansson writes ---- */

/* buf_add_json against json_dumps(JSON_COMPACT | JSON_ENCODE_ANY). */
static void same_as_jansson(const json_t *v)
{
    buf b;
    buf_init(&b);
    buf_add_json(&b, v);
    char *mine = buf_detach(&b, NULL);
    char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(mine);
    assert_non_null(theirs);
    assert_string_equal(mine, theirs);
    free(mine);
    free(theirs);
}

static void test_json_text_like_jansson(void **state)
{
    (void)state;
    const char *const docs[] = {CASE_DOC,
                                EVENT_DOC,
                                COMMENT_DOC,
                                PLAN_DOC,
                                PERP_DOC,
                                NO_IDENTITY_DOC,
                                ONLY_IDENTITY_DOC,
                                "{}",
                                "[]",
                                "{\"a\":[],\"b\":{},\"c\":[{\"d\":[1,2,{\"e\":null}]}]}",
                                "[true,false,null,0,-1,9223372036854775807,-9223372036854775808]",
                                "[0.5,-0.1807,1e300,3.0,1.0e-7,123456789.123456789,-0.0]",
                                "{\"sl/ash\":\"a/b\",\"q\\\"k\":\"\\u00e9\\u4e2d\\ud83d\\ude00\"}"};
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        json_t *v = tu_json(docs[i]);
        same_as_jansson(v);
        json_decref(v);
    }
    /* every control character, and one embedded NUL */
    char all[40];
    for (int c = 1; c < 32; c++)
        all[c - 1] = (char)c;
    memcpy(all + 31, "\"\\x\x7f", 5);
    json_t *v = json_stringn(all, 36);
    same_as_jansson(v);
    json_decref(v);
    v = json_stringn("a\0b", 3);
    same_as_jansson(v);
    json_decref(v);
    v = json_pack("{s:s}", "k\nk", "\x1f");
    same_as_jansson(v);
    json_decref(v);
}

/* The stored text up to the sealed member, and the member's plaintext. */
static void split_sealed(const char *kind, const char *text, char **clear, json_t **opened)
{
    const char *m = strstr(text, ",\"" SEAL_MEMBER "\":\"");
    if (!m)
        m = strstr(text, "\"" SEAL_MEMBER "\":\"");
    *clear = strndup(text, m ? (size_t)(m - text) : strlen(text));
    json_t *stored = tu_json(text);
    seal_aad aad = {kind, CASE_UID};
    amp_err err = {0};
    *opened = open_doc(dek, &aad, stored, &err);
    assert_non_null(*opened);
    json_decref(stored);
}

static void test_seal_doc_text_like_seal_doc(void **state)
{
    (void)state;
    const char *const kinds[] = {"case",        "event", "comment", "support_plan",
                                 "perpetrator", "case",  "case",    "case"};
    const char *const docs[] = {CASE_DOC, EVENT_DOC,       COMMENT_DOC,       PLAN_DOC,
                                PERP_DOC, NO_IDENTITY_DOC, ONLY_IDENTITY_DOC, "{}"};
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        json_t *doc = tu_json(docs[i]);
        seal_aad aad = {kinds[i], CASE_UID};
        amp_err err = {0};
        char *direct = seal_doc_text(dek, &aad, doc, seal_catalogue_identity, tu_cat, &err);
        assert_non_null(direct);
        json_t *sealed = seal_ok(kinds[i], CASE_UID, doc);
        char *via = json_dumps(sealed, JSON_COMPACT);
        char *c1, *c2;
        json_t *o1, *o2;
        split_sealed(kinds[i], direct, &c1, &o1);
        split_sealed(kinds[i], via, &c2, &o2);
        assert_string_equal(c1, c2); /* the clear members, byte for byte */
        char *t1 = json_dumps(o1, JSON_COMPACT), *t2 = json_dumps(o2, JSON_COMPACT);
        assert_string_equal(t1, t2); /* the same identity members once opened */
        assert_true(json_equal(o1, doc));
        assert_int_equal(strlen(direct), strlen(via)); /* same nonce and tag sizes */
        free(t1);
        free(t2);
        free(c1);
        free(c2);
        json_decref(o1);
        json_decref(o2);
        free(via);
        free(direct);
        json_decref(sealed);
        json_decref(doc);
    }
    /* the same refusals as seal_doc */
    json_t *bad = tu_json("{\"_sealed\":\"x\"}");
    seal_aad aad = {"case", CASE_UID};
    amp_err err = {0};
    assert_null(seal_doc_text(dek, &aad, bad, seal_catalogue_identity, tu_cat, &err));
    amp_err_clear(&err);
    json_decref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_catalogue_docs),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_text_path_byte_for_byte),
        cmocka_unit_test(test_text_path_unsealed),
        cmocka_unit_test(test_leak_scan),
        cmocka_unit_test(test_json_text_like_jansson),
        cmocka_unit_test(test_seal_doc_text_like_seal_doc),
    };
    return cmocka_run_group_tests(tests, setup, tu_catalogue_teardown);
}
