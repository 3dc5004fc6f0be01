/* test_blindindex.c — normalisation of names and ID numbers, keyed index values,
 * the terms of a case and searching them through the store. */
#include "testutil.h"

#include "core/blindindex.h"

#include <pthread.h>

static unsigned char key[BLIND_KEY_BYTES], key2[BLIND_KEY_BYTES];

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    randombytes_buf(key, sizeof key);
    randombytes_buf(key2, sizeof key2);
    return 0;
}

static void expect_norm(const char *in, const char *want)
{
    char out[256];
    int n = blind_normalise(in, out, sizeof out);
    if (n < 0)
        fail_msg("blind_normalise(\"%s\") failed", in);
    if (strcmp(out, want) != 0)
        fail_msg("blind_normalise(\"%s\") = \"%s\", want \"%s\"", in, out, want);
    assert_int_equal(n, (int)strlen(want));
}

static void test_normalise(void **state)
{
    (void)state;
    /* accents and case */
    expect_norm("Lucía", "lucia");
    expect_norm("LUCIA", "lucia");
    expect_norm("lucia", "lucia");
    expect_norm("Luci\xcc\x81"
                "a",
                "lucia"); /* i + combining acute (NFD input) */
    expect_norm("PÉREZ", "perez");
    expect_norm("Núñez", "nunez");
    expect_norm("François", "francois");
    expect_norm("Straße", "strasse");
    expect_norm("Łukasz Øster", "lukasz oster");
    /* compatibility forms (NFKD): fullwidth letters */
    expect_norm("\xef\xbc\xac\xef\xbc\xb5\xef\xbc\xa3\xef\xbc\xa9\xef\xbc\xa1", "lucia");
    /* Cyrillic to Latin */
    expect_norm("Олена", "olena");
    expect_norm("ОЛЕНА", "olena");
    expect_norm("Марія Коваль", "maria koval"); /* ICU's scheme, not the passport's "Mariia" */
    expect_norm("O'Brien", "obrien");
    /* whitespace collapsed and trimmed (tab, newline, no-break space) */
    expect_norm("  María \t José\n", "maria jose");
    expect_norm("Ana\xc2\xa0"
                "Belén",
                "ana belen");
    /* empty */
    expect_norm("", "");
    expect_norm(" \t\n", "");
    /* invalid UTF-8 and oversized input are refused */
    char out[64];
    assert_int_equal(blind_normalise("Luc\xff"
                                     "a",
                                     out, sizeof out),
                     -1);
    assert_int_equal(blind_normalise("\xc3", out, sizeof out), -1);
    char big[BLIND_MAX_INPUT + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(blind_normalise(big, out, sizeof out), -1);
    /* too small an output buffer */
    assert_int_equal(blind_normalise("abcdefgh", out, 4), -1);
}

static void test_index_values(void **state)
{
    (void)state;
    char a[BLIND_HEX_LEN + 1], b[BLIND_HEX_LEN + 1], c[BLIND_HEX_LEN + 1];
    assert_int_equal(blind_index(key, "name", "Lucía", a), 0);
    assert_int_equal(strlen(a), BLIND_HEX_LEN);
    for (size_t i = 0; i < BLIND_HEX_LEN; i++)
        assert_non_null(strchr("0123456789abcdef", a[i]));
    assert_int_equal(blind_index(key, "name", "LUCIA", b), 0);
    assert_string_equal(a, b);
    assert_int_equal(blind_index(key, "name", " lucia ", b), 0);
    assert_string_equal(a, b);
    assert_int_equal(blind_index(key, "name", "Олена", a), 0);
    assert_int_equal(blind_index(key, "name", "Olena", b), 0);
    assert_string_equal(a, b);
    /* different names, groups and keys give different values */
    assert_int_equal(blind_index(key, "name", "Lucio", c), 0);
    assert_string_not_equal(a, c);
    assert_int_equal(blind_index(key, "idnumber", "Olena", c), 0);
    assert_string_not_equal(b, c);
    assert_int_equal(blind_index(key2, "name", "Olena", c), 0);
    assert_string_not_equal(b, c);
    /* ID numbers: separators removed */
    assert_int_equal(blind_index(key, "idnumber", "1712-345.678 9", a), 0);
    assert_int_equal(blind_index(key, "idnumber", "17123456789", b), 0);
    assert_string_equal(a, b);
    assert_int_equal(blind_index(key, "idnumber", "AB/123 456", a), 0);
    assert_int_equal(blind_index(key, "idnumber", "ab123456", b), 0);
    assert_string_equal(a, b);
    /* nothing to index; bad input; unknown group */
    assert_int_equal(blind_index(key, "name", "  ", a), 1);
    assert_int_equal(blind_index(key, "idnumber", " - . ", a), 1);
    assert_int_equal(blind_index(key, "name", "\xff", a), -1);
    assert_int_equal(blind_index(key, "email", "x", a), -1);
}

static bool has_value(const json_t *arr, const char *hex)
{
    size_t i;
    json_t *v;
    json_array_foreach (arr, i, v) {
        if (strcmp(json_string_value(v), hex) == 0)
            return true;
    }
    return false;
}

static void test_terms_for_case(void **state)
{
    (void)state;
    json_t *doc =
        tu_json("{\"prs_FirstName\":\"Lucía María\",\"prs_MiddleName\":\"maria\","
                "\"prs_SecondName\":\"Pérez-García\",\"prs_IdentityNumber\":\"0912-345 678\","
                "\"prs_Gender\":\"Feminine\"}");
    json_t *terms = tu_json("{\"gender\":[\"Feminine\"]}");
    /* lucia, maria (twice: once), perez, garcia + one ID */
    assert_int_equal(blind_terms_for_case(key, doc, terms), 5);
    json_t *names = json_object_get(terms, BLIND_TERM_NAME);
    json_t *ids = json_object_get(terms, BLIND_TERM_IDNUMBER);
    assert_int_equal(json_array_size(names), 4);
    assert_int_equal(json_array_size(ids), 1);
    assert_int_equal(json_array_size(json_object_get(terms, "gender")), 1);
    char q[4][BLIND_HEX_LEN + 1];
    /* a search for "Lucía Pérez": one value per token, each indexed */
    assert_int_equal(blind_query_values(key, "name", "Lucía Pérez", q, 4), 2);
    assert_true(has_value(names, q[0]));
    assert_true(has_value(names, q[1]));
    assert_int_equal(blind_query_values(key, "name", "GARCIA garcia", q, 4), 1);
    assert_true(has_value(names, q[0]));
    assert_int_equal(blind_query_values(key, "idnumber", "0912345678", q, 4), 1);
    assert_true(has_value(ids, q[0]));
    assert_int_equal(blind_query_values(key, "name", "   ", q, 4), 0);
    assert_int_equal(blind_query_values(key, "name", "a b c d e", q, 4), -1);
    assert_int_equal(blind_query_values(key, "name", "\xff", q, 4), -1);
    /* the terms hold no clear text: only hex index values */
    const json_t *groups[] = {names, ids};
    for (int g = 0; g < 2; g++) {
        size_t i;
        json_t *v;
        json_array_foreach (groups[g], i, v) {
            const char *h = json_string_value(v);
            assert_int_equal(strlen(h), BLIND_HEX_LEN);
            assert_int_equal(strspn(h, "0123456789abcdef"), BLIND_HEX_LEN);
        }
    }
    json_decref(terms);
    /* nothing to index */
    terms = json_object();
    json_t *none = tu_json("{\"prs_FirstName\":\"  \",\"prs_Gender\":\"Feminine\"}");
    assert_int_equal(blind_terms_for_case(key, none, terms), 0);
    assert_int_equal(json_object_size(terms), 0);
    assert_int_equal(blind_terms_for_case(key, none, NULL), -1);
    /* a value that cannot be indexed fails the whole call */
    char big[BLIND_MAX_INPUT + 10];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    json_t *huge = json_pack("{s:s}", "prs_SecondName", big);
    assert_int_equal(blind_terms_for_case(key, huge, terms), -1);
    json_decref(huge);
    json_decref(none);
    json_decref(terms);
    json_decref(doc);
}

/* Through the store: cases indexed with their blind terms are found by a
 * search for a name written differently, all tokens required. */
typedef struct {
    const char *uid, *ref, *first, *second;
} seed;

typedef struct {
    const seed *s;
    int n;
} seed_arg;

static int insert_job(store_tx *tx, void *arg)
{
    seed_arg *a = arg;
    for (int i = 0; i < a->n; i++) {
        store_row r;
        memset(&r, 0, sizeof r);
        snprintf(r.uid, sizeof r.uid, "%s", a->s[i].uid);
        snprintf(r.reference, sizeof r.reference, "%s", a->s[i].ref);
        r.version = 1;
        snprintf(r.registered_on, sizeof r.registered_on, "2026-06-01");
        snprintf(r.created_at, sizeof r.created_at, "2026-06-01T00:00:00Z");
        snprintf(r.updated_at, sizeof r.updated_at, "2026-06-01T00:00:00Z");
        snprintf(r.created_by, sizeof r.created_by, "tester");
        snprintf(r.updated_by, sizeof r.updated_by, "tester");
        json_t *fields = json_pack("{s:s, s:s}", "prs_FirstName", a->s[i].first, "prs_SecondName",
                                   a->s[i].second);
        json_t *terms = json_object();
        blind_terms_for_case(key, fields, terms);
        r.doc = json_object(); /* the names would be sealed: none in clear here */
        int rc = store_tx_case_insert(tx, &r, terms);
        json_decref(r.doc);
        json_decref(terms);
        json_decref(fields);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

static int search(tu_env *e, const char *input, char found[][40], int max)
{
    char v[8][BLIND_HEX_LEN + 1];
    int n = blind_query_values(key, "name", input, v, 8);
    assert_true(n > 0);
    store_query q;
    memset(&q, 0, sizeof q);
    for (int i = 0; i < n; i++) { /* every token must match: one term filter each */
        q.terms[i].field = BLIND_TERM_NAME;
        q.terms[i].values[0] = v[i];
        q.terms[i].nvalues = 1;
    }
    q.nterms = n;
    q.limit = max;
    q.sort = SORT_REFERENCE;
    store_row *rows = NULL;
    int nrows = 0;
    int64_t total = 0;
    assert_int_equal(store_case_list(e->store, &q, &rows, &nrows, &total), STORE_OK);
    for (int i = 0; i < nrows; i++) {
        snprintf(found[i], 40, "%s", rows[i].uid);
        store_row_release(&rows[i]);
    }
    free(rows);
    return nrows;
}

static void test_search_through_store(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    static const seed seeds[] = {
        {"00000000-0000-7000-8000-000000000001", "EC-2026-000001", "Lucía María", "Pérez"},
        {"00000000-0000-7000-8000-000000000002", "EC-2026-000002", "Lucia", "Gómez"},
        {"00000000-0000-7000-8000-000000000003", "EC-2026-000003", "Олена", "Коваль"},
        {"00000000-0000-7000-8000-000000000004", "EC-2026-000004", "María", "Pérez"},
    };
    seed_arg a = {seeds, 4};
    assert_int_equal(store_run(e->store, insert_job, &a), STORE_OK);
    char found[8][40];
    assert_int_equal(search(e, "LUCIA PEREZ", found, 8), 1);
    assert_string_equal(found[0], seeds[0].uid);
    assert_int_equal(search(e, "lucía", found, 8), 2);
    assert_int_equal(search(e, "perez", found, 8), 2);
    assert_int_equal(search(e, "maria perez", found, 8), 2);
    assert_int_equal(search(e, "Olena", found, 8), 1);
    assert_string_equal(found[0], seeds[2].uid);
    assert_int_equal(search(e, "Olena Koval", found, 8), 1);
    assert_int_equal(search(e, "Lucía Gómez Pérez", found, 8), 0);
    tu_env_free(e);
}

/* ---- worker threads: own transliterator and memo, the same results ---- */

static const char *const memo_inputs[] = {"Lucía",   "Олена Коваль", "  María\tJosé  ",
                                          "O'Brien", "Nguyễn Thị",   "Ⅻ ｆｕｌｌ",
                                          "Lucía",   "Олена Коваль", "",
                                          "   ",     "\xff bad",     "Straße",
                                          "Lucía"};
#define N_MEMO (sizeof memo_inputs / sizeof *memo_inputs)

typedef struct {
    char out[N_MEMO][2][256];
    int rc[N_MEMO][2];
    int began;
} memo_run;

static void *memo_thread(void *arg)
{
    memo_run *m = arg;
    m->began = blind_thread_begin();
    for (int pass = 0; pass < 2; pass++) { /* the second pass is answered by the memo */
        for (size_t i = 0; i < N_MEMO; i++)
            m->rc[i][pass] = blind_normalise(memo_inputs[i], m->out[i][pass], 256);
    }
    /* too small a buffer fails from the memo as it does without */
    assert_int_equal(blind_normalise("Lucía", m->out[0][1], 3), -1);
    blind_thread_end();
    blind_thread_end(); /* harmless */
    return NULL;
}

static void test_thread_memo_same_results(void **state)
{
    (void)state;
    memo_run runs[3];
    memset(runs, 0, sizeof runs);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, memo_thread, &runs[i]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    for (size_t i = 0; i < N_MEMO; i++) {
        char want[256];
        int rc = blind_normalise(memo_inputs[i], want, sizeof want); /* shared transliterator */
        for (int r = 0; r < 3; r++) {
            assert_int_equal(runs[r].began, 0);
            for (int pass = 0; pass < 2; pass++) {
                if (!(i == 0 && pass == 1)) { /* overwritten by the small-buffer check */
                    assert_int_equal(runs[r].rc[i][pass], rc);
                    if (rc >= 0)
                        assert_string_equal(runs[r].out[i][pass], want);
                }
            }
        }
    }
}

/* Pure ASCII input is normalised without ICU: the same as ICU gives, which a
 * leading "é" (not ASCII, normalised to "e") forces. */
static void test_ascii_fast_path_same_as_icu(void **state)
{
    (void)state;
    unsigned rnd = 12345;
    for (int n = 0; n < 3000; n++) {
        char in[64], icu_in[80], fast[256], icu[256], want[300];
        int len = 1 + (int)(rnd % 40);
        for (int i = 0; i < len; i++) {
            rnd = rnd * 1103515245u + 12345u;
            in[i] = (char)(1 + (rnd >> 16) % 127); /* every ASCII byte but NUL */
        }
        in[0] = (char)('A' + n % 26); /* a letter first: no space to trim after "é" */
        in[len] = 0;
        snprintf(icu_in, sizeof icu_in, "\xc3\xa9%s", in);
        int a = blind_normalise(in, fast, sizeof fast);
        int b = blind_normalise(icu_in, icu, sizeof icu);
        assert_true(a >= 0 && b >= 0);
        snprintf(want, sizeof want, "e%s", fast);
        if (strcmp(icu, want) != 0)
            fail_msg("'%s': fast '%s', ICU '%s'", in, fast, icu);
    }
    char small[4];
    assert_int_equal(blind_normalise("abc", small, sizeof small), 3);
    assert_int_equal(blind_normalise("abcd", small, sizeof small), -1);
    assert_int_equal(blind_normalise("  ", small, sizeof small), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_index_values),
        cmocka_unit_test(test_terms_for_case),
        cmocka_unit_test(test_search_through_store),
        cmocka_unit_test(test_thread_memo_same_results),
        cmocka_unit_test(test_ascii_fast_path_same_as_icu),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
